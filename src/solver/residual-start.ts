/**
 * Start point for a residual stage (structure.ts: systems [conv1, conv2, skip], one inner
 * activation w = φ(v₁)) composed from the three systems' OWN gain certificates, as a naive
 * residual bound is composed from layer norms — but with each conv's Roesser storage P in it.
 *
 * With incoming weight I and σ_j the certified squared gain of system j alone (storage σ_j·P̄_j):
 *   |y|² ≤ (1+ε)|d|² + (1+1/ε)|v₂|²                              (y = v₂ + d, skip output d)
 *   |v₂|² ≤ σ₂|w|² + diss₂,   |d|² ≤ σ_s|u|² + diss_s,   |v₁|² ≤ σ₁|u|² + diss₁
 *   k|w|² ≤ k(1+δ)β²|v₁|² + t·k·(QC of φ, ≤ 0 on its graph)        (k = (1+1/ε)σ₂)
 * so the stage LMI holds with ρ = (1+ε)σ_s + (1+1/ε)σ₂(1+δ)β²σ₁, smallest at
 * ε = √(σ₁σ₂(1+δ)β²/σ_s): ρ = (√σ_s + √(σ₁σ₂(1+δ))β)², the product-type bound of the block.
 * The QC step is the scalar S-procedure for a slope in [α, β] (a = αβ, c = α+β): the form
 * ((1+δ)β² + 2ta)|v|² − 2tc·wᵀv + (2t−1)|w|² must be ⪰ 0, i.e. 2t > 1 and
 * ((1+δ)β² + 2ta)(2t−1) ≥ t²c²; t is picked to need the smallest δ (for ReLU t = 1, δ → 0), and
 * δ gets a margin (0.05) so that N stays well inside the positive definite cone.
 *
 * Why: the generic start (one scale per multiplier group times fixed Stein-type shapes) was 10–30
 * times above this on trained residual blocks (layer1.1 of resnet_4b_pgd: 321 against a block
 * product bound of about 13), and the joint optimiser started from there did not recover in its
 * time budget. Everything returned is re-checked (the caller evaluates σ; the certifier verifies).
 */
import type { Matrix } from '../model/ir.js';
import { slopeInterval, type Stage, type StageParams } from '../lmi/conv/stages.js';

/** A system's own certificate: multipliers for Q_in = I and the squared gain they certify. */
export interface SystemCertificate {
  readonly P1: Float64Array;
  readonly P2: Float64Array;
  readonly sigma: number;
}

/** A stage's linear map of the inputs of one system, to which its output belongs. */
function columns(G: Matrix, ranges: readonly [number, number][]): Matrix {
  const cols = ranges.reduce((s, [a, b]) => s + (b - a), 0);
  const data = new Float64Array(G.rows * cols);
  for (let i = 0; i < G.rows; i++) {
    let c = 0;
    for (const [a, b] of ranges) for (let j = a; j < b; j++) data[i * cols + c++] = G.data[i * G.cols + j]!;
  }
  return { rows: G.rows, cols, data };
}

/**
 * System j of a residual stage as a stage of its own: z = [input; state], output [D C]·z as the
 * last (linear) layer. Which output each system drives is fixed by structure.ts: conv1 the inner
 * activation's pre-activation, conv2 and the skip the block output.
 */
export function systemStage(st: Stage, j: number): Stage {
  const sy = st.systems[j]!;
  const nx = sy.nx1 + sy.nx2;
  const G = j === 0 ? st.internal[0]!.G : st.out.G;
  const out = columns(G, [
    [sy.inOff, sy.inOff + sy.nin],
    [sy.xOff, sy.xOff + nx],
  ]);
  return {
    kind: 'conv',
    name: sy.name,
    nz: sy.nin + nx,
    qin: { c: sy.nin, rep: 1, order: 'pixel-major' },
    systems: [{ ...sy, xOff: sy.nin, inOff: 0 }],
    internal: [],
    out: { G: out, a: 0, c: 0 },
    last: true,
    pool: { mu: 1, diag: false },
    outShape: st.outShape,
  };
}

/** Whether st has the residual layout this module composes. */
export function isResidualStage(st: Stage): boolean {
  return st.kind === 'residual' && st.systems.length === 3 && st.internal.length === 1 && st.systems[1]!.inOff === st.internal[0]!.wOff;
}

/** (t, δ) for the QC step, see the module comment. */
export function qcStep(a: number, c: number): { t: number; delta: number; beta2: number } {
  const { lo, hi } = slopeInterval(a, c);
  const beta2 = Math.max(lo * lo, hi * hi);
  let best = { t: 1, delta: Infinity };
  for (let e = -3; e <= 3; e += 0.01) {
    const t = 0.5 + 10 ** e;
    const delta = ((t * t * c * c) / (2 * t - 1) - 2 * t * a) / beta2 - 1;
    if (delta < best.delta) best = { t, delta };
  }
  // The margin keeps the start well inside (N ≻ 0 with room): a start on the boundary of the QC
  // step left no feasible ρ once Λ moved by a few per cent. It costs √1.05 − 1 ≈ 2.5 % at most.
  return { t: best.t, delta: Math.max(best.delta, 0) + 0.05, beta2 };
}

/**
 * The composed multipliers (for Q_in = I, normalised to ρ = 1, i.e. every multiplier divided by
 * the ρ above) and that ρ. `own[j]`: system j's own certificate (systemStage).
 */
export function composeResidual(st: Stage, own: readonly SystemCertificate[]): { prm: StageParams; rho: number } {
  const [c1, c2, cs] = own as [SystemCertificate, SystemCertificate, SystemCertificate];
  const q = st.internal[0]!;
  const { t, delta, beta2 } = qcStep(q.a, q.c);
  const inner = (1 + delta) * beta2;
  const eps = Math.sqrt((c1.sigma * c2.sigma * inner) / cs.sigma);
  const k = (1 + 1 / eps) * c2.sigma; // weight on |w|²
  const k1 = k * inner; // weight on |v₁|²
  const ks = 1 + eps; // weight on |d|²
  const rho = ks * cs.sigma + k1 * c1.sigma;
  const scale = (c: SystemCertificate, f: number): { P1: Float64Array; P2: Float64Array } => ({
    P1: c.P1.map((v) => (v * f * c.sigma) / rho),
    P2: c.P2.map((v) => (v * f * c.sigma) / rho),
  });
  return {
    rho,
    prm: {
      P: [scale(c1, k1), scale(c2, 1 + 1 / eps), scale(cs, ks)],
      lamInt: [new Float64Array(q.G.rows).fill((t * k) / rho)],
      lamOut: null,
      diagShape: null,
    },
  };
}
