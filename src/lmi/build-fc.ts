/**
 * FcChain → the layered SDP the solver works on, with two exact transformations that make a
 * first-order method behave:
 *
 * 1. Power-of-two scaling. W'_k = W_k / s_k with s_k = 2^round(log2 ‖W_k‖₂). The LMIs are jointly
 *    homogeneous (docs/method.md §3.4), so ρ = ρ' · Π s_k² and the multipliers map back by
 *    Λ_k = Λ'_k · Π_{j>k} s_j² — with powers of two every one of these maps is exact in floating point.
 *
 * 2. First-layer compression. When n_0 > n_1 the first block [[ρI, ·], [·, ·]] is congruent to one
 *    with W_1 replaced by any W̃ ∈ R^{n_1×n_1} with W̃W̃ᵀ = W_1W_1ᵀ (write W_1 = W̃ Uᵀ with orthonormal
 *    U; the complement of range(U) only sees ρI). The variables (ρ, Λ, Q) and the feasible set are
 *    unchanged, so the solver works with a 2n_1 block instead of n_0 + n_1. The certifier always
 *    re-checks the ORIGINAL first block.
 */
import type { FcChain, Matrix } from '../model/ir.js';
import { spectralNormEstimate } from '../linalg/dense.js';
import { symEig } from '../linalg/eig.js';
import { layoutFcChain, type LayeredSdp } from './problem.js';

export interface ScaledFcSdp {
  readonly sdp: LayeredSdp;
  /** s_k per layer (powers of two). */
  readonly scales: readonly number[];
  /** β_k of the activation after layer k (1 for the last layer). */
  readonly slopeBetas: readonly number[];
  /** ρ_original = ρ_solver · rhoFactor (= Π s_k², exact). */
  readonly rhoFactor: number;
  /** Whether the first layer was compressed. */
  readonly compressedFirst: boolean;
}

export function buildFcSdp(chain: FcChain): ScaledFcSdp {
  // Slope normalisation: φ with slopes [α, β] is β·ψ with ψ ∈ [α/β, 1]; β moves into the next W.
  const betaBefore = chain.layers.map((_, k) => (k === 0 ? 1 : chain.layers[k - 1].activation?.slope.beta ?? 1));
  const gains = chain.layers.map((l, k) => spectralNormEstimate(l.W) * Math.abs(betaBefore[k]));
  const scales = gains.map((g) => powerOfTwoNear(g));
  const specs = chain.layers.map((l, k) => {
    const f = betaBefore[k] / scales[k];
    const W: Matrix = { rows: l.W.rows, cols: l.W.cols, data: l.W.data.map((v) => v * f) };
    const act = l.activation;
    if (!act) return { W };
    const b = act.slope.beta;
    return b > 0 ? { W, alpha: act.slope.alpha / b, beta: 1 } : { W, alpha: act.slope.alpha, beta: b };
  });
  let compressedFirst = false;
  if (specs.length > 1 && specs[0].W.cols > specs[0].W.rows) {
    specs[0] = { ...specs[0], W: rowGramSqrt(specs[0].W) };
    compressedFirst = true;
  }
  const rhoFactor = scales.reduce((acc, s) => acc * s * s, 1);
  const slopeBetas = chain.layers.map((l) => l.activation?.slope.beta ?? 1);
  return { sdp: layoutFcChain(specs), scales, slopeBetas, rhoFactor, compressedFirst };
}

/**
 * Maps solver-space multipliers λ'_k to the original chain. With W'_k = β_{k−1} W_k / s_k and
 * unit-β slopes: λ_k = λ'_k · Π_{j>k} s_j² / β_k². The certifier re-optimises ρ and re-verifies
 * everything, so this map only has to be good, not exact (it is exact up to rounding).
 */
export function unscaleLambdas(lambdas: readonly Float64Array[], scaled: Pick<ScaledFcSdp, 'scales' | 'slopeBetas'>): Float64Array[] {
  const { scales, slopeBetas } = scaled;
  return lambdas.map((lam, k) => {
    let f = 1;
    for (let j = k + 1; j < scales.length; j++) f *= scales[j] * scales[j];
    const b = slopeBetas[k];
    if (b > 0) f /= b * b;
    return lam.map((v) => v * f);
  });
}

/** Splits the solver's x into per-layer λ vectors. */
export function lambdasOf(sdp: LayeredSdp, x: Float64Array): Float64Array[] {
  const out: Float64Array[] = [];
  for (const b of sdp.blocks) if (b.kind === 'fc') out.push(Float64Array.from(x.subarray(b.lambdaOffset, b.lambdaOffset + b.W.rows)));
  return out;
}

export function powerOfTwoNear(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  return 2 ** Math.round(Math.log2(v));
}

/** Symmetric square root of W Wᵀ (m×m), i.e. a W̃ with W̃W̃ᵀ = WWᵀ. */
export function rowGramSqrt(W: Matrix): Matrix {
  const m = W.rows;
  const n = W.cols;
  const g = new Float64Array(m * m);
  for (let i = 0; i < m; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += W.data[i * n + k] * W.data[j * n + k];
      g[i * m + j] = s;
      g[j * m + i] = s;
    }
  const { values, vectors } = symEig(g, m);
  const r = new Float64Array(m * m);
  for (let k = 0; k < m; k++) {
    const sq = Math.sqrt(Math.max(values[k], 0));
    if (sq === 0) continue;
    for (let i = 0; i < m; i++) {
      const vi = sq * vectors[k * m + i];
      for (let j = 0; j < m; j++) r[i * m + j] += vi * vectors[k * m + j];
    }
  }
  return { rows: m, cols: m, data: r };
}
