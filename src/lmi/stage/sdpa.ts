/**
 * SDPA export of the layered SDP of a general stage chain (conv / pooling / residual / dense,
 * stages.ts), so that DSDP or CSDP can compute the optimum that lipdp's Roesser formulation can
 * reach at best, and the certified bound can be checked against it (docs/method.md §3.2.3, §4, §5).
 *
 * Variables: ρ; per stage k: P1_j, P2_j (symmetric) of every Roesser system j, λ of every inner
 * activation, and for non-last stages λ_out and the outgoing Q_k (symmetric, or diagonal after
 * max pooling). Blocks: the stage LMI M_k exactly as stages.ts defines it (the certifier's
 * assembleStageLmi is the same map), then every P1_j, P2_j ⪰ 0, then all λ ≥ 0 as one diagonal
 * block. Q_0 = ρI. Minimise ρ; the network's bound is L = outerGain · √(ρ · rhoScale).
 *
 * Scaling (exact): a stage chain's multipliers span many orders of magnitude (Q_k follows the
 * gain of the layers before it), which interior-point solvers handle badly. We substitute
 * x_orig = xScale · x with per-stage scales taken from a feasible point (the closed-form start of
 * refine-chain.ts when given): stage k's P and λ_int scale like Q_{k−1}, its λ_out and Q_k like
 * Q_k. Any positive scales give the same optimum.
 */
import { SdpBuilder, type SdpaProblem } from '../sdpa.js';
import { qinIndex, type StagePlan } from './stages.js';

export interface StageSdpOptions {
  /**
   * Level of the incoming weight of each stage (index k: Q_{k−1}, index 0: ρ) and of the final
   * outgoing one (index ℓ unused). Defaults to all ones (no scaling).
   */
  readonly levels?: readonly number[];
}

export function buildStageSdp(plan: StagePlan, opts: StageSdpOptions = {}): SdpaProblem {
  const { stages } = plan;
  if (stages.length === 0) throw new Error('lipdp sdpa: the network has no stages');
  const level = (k: number): number => {
    const v = opts.levels?.[k] ?? 1;
    return v > 0 && Number.isFinite(v) ? v : 1;
  };
  const b = new SdpBuilder();
  const scales: number[] = [];
  const addVar = (v: Parameters<SdpBuilder['addVar']>[0], cost: number, scale: number): number => {
    scales.push(scale);
    // Objective cᵀx in scaled variables: cost applies to x_orig = scale·x.
    return b.addVar(v, cost * scale);
  };
  const rho = addVar({ kind: 'rho' }, 1, level(0));
  // qin[i][j] (i ≤ j): variable index of the incoming weight's entry; for stage 0 it is ρ·I.
  let qinVars: number[][] | null = null;
  const lambdas: number[] = [];
  const psdBlocks: { part: number[][]; n: number }[] = [];

  stages.forEach((st, k) => {
    const m = st.out.G.rows;
    const nz = st.nz;
    const sIn = level(k);
    const sOut = level(k + 1);
    const size = st.last ? nz : nz + m;
    const blk = b.addBlock(size);
    // Stage variables (created before use so that indices are stable).
    const pVars = st.systems.map((sy, j) => ({
      P1: symVars(sy.nx1, (i, jj) => addVar({ kind: 'P', layer: k + 1, system: j, part: 'P1', i, j: jj }, 0, sIn)),
      P2: symVars(sy.nx2, (i, jj) => addVar({ kind: 'P', layer: k + 1, system: j, part: 'P2', i, j: jj }, 0, sIn)),
    }));
    const lamInt = st.internal.map((q, qi) => Array.from({ length: q.G.rows }, (_, i) => addVar({ kind: 'lambdaInt', layer: k + 1, qc: qi, index: i }, 0, sIn)));
    const lamOut = st.last ? [] : Array.from({ length: m }, (_, i) => addVar({ kind: 'lambda', layer: k + 1, index: i }, 0, sOut));
    const qOut = st.last
      ? null
      : symVars(m, (i, j) => (st.pool.diag && i !== j ? -1 : addVar({ kind: 'Q', layer: k + 1, i, j }, 0, sOut)));

    // Incoming weight on u: Ũᵀ Q̃_in Ũ.
    const { c, rep } = st.qin;
    const uIdx = (p: number, i: number): number => qinIndex(st.qin, p, i);
    for (let p = 0; p < rep; p++)
      for (let i = 0; i < c; i++) {
        if (k === 0) b.add(rho, blk, uIdx(p, i), uIdx(p, i), scales[rho]!);
        else
          for (let j = i; j < c; j++) {
            const v = qinVars![i]![j]!;
            if (v >= 0) b.add(v, blk, uIdx(p, i), uIdx(p, j), scales[v]!);
          }
      }

    // Roesser dissipation blkdiag(P, 0) − [A B]ᵀ P [A B] on (x_j, input_j).
    st.systems.forEach((sy, j) => {
      const nx = sy.nx1 + sy.nx2;
      const zIdx = (a: number): number => (a < nx ? sy.xOff + a : sy.inOff + a - nx);
      const row = (r: number): [number, number][] => {
        const out: [number, number][] = [];
        for (let a = 0; a < nx; a++) if (sy.A.data[r * nx + a] !== 0) out.push([a, sy.A.data[r * nx + a]!]);
        for (let a = 0; a < sy.nin; a++) if (sy.B.data[r * sy.nin + a] !== 0) out.push([nx + a, sy.B.data[r * sy.nin + a]!]);
        return out;
      };
      const rows = Array.from({ length: nx }, (_, r) => row(r));
      const addPart = (vars: number[][], n: number, off: number): void => {
        for (let r = 0; r < n; r++)
          for (let q = r; q < n; q++) {
            const v = vars[r]![q]!;
            const s = scales[v]!;
            // P(r,q) = P(q,r) = x_v: +E_rq (+E_qr) on the state, −(F_rᵀF_q + F_qᵀF_r) (r ≠ q) or −F_rᵀF_r.
            b.add(v, blk, zIdx(off + r), zIdx(off + q), s);
            addOuter(b, v, blk, rows[off + r]!, rows[off + q]!, -s, r !== q, zIdx);
          }
      };
      addPart(pVars[j]!.P1, sy.nx1, 0);
      addPart(pVars[j]!.P2, sy.nx2, sy.nx1);
      psdBlocks.push({ part: pVars[j]!.P1, n: sy.nx1 }, { part: pVars[j]!.P2, n: sy.nx2 });
    });

    // Quadratic constraints of inner activations and of the output activation.
    st.internal.forEach((q, qi) => lamInt[qi]!.forEach((v, kk) => addQc(b, v, blk, q.G.data, nz, kk, q.a, q.c, q.wOff + kk, scales[v]!)));
    if (st.last) {
      // − GᵀG (constant).
      const G = st.out.G.data;
      for (let kk = 0; kk < m; kk++) {
        const g = sparseRow(G, nz, kk);
        for (const [i, gi] of g) for (const [j, gj] of g) if (i <= j) b.add(-1, blk, i, j, -gi * gj);
      }
    } else {
      lamOut.forEach((v, kk) => addQc(b, v, blk, st.out.G.data, nz, kk, st.out.a, st.out.c, nz + kk, scales[v]!));
      for (let i = 0; i < m; i++)
        for (let j = i; j < m; j++) {
          const v = qOut![i]![j]!;
          if (v >= 0) b.add(v, blk, nz + i, nz + j, -st.pool.mu * scales[v]!);
        }
    }
    lambdas.push(...lamInt.flat(), ...lamOut);
    qinVars = qOut;
  });

  for (const { part, n } of psdBlocks) {
    if (n === 0) continue;
    const blk = b.addBlock(n);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) b.add(part[i]![j]!, blk, i, j, scales[part[i]![j]!]!);
  }
  if (lambdas.length) {
    const blk = b.addBlock(-lambdas.length);
    lambdas.forEach((v, i) => b.add(v, blk, i, i, scales[v]!));
  }
  return b.finish('stages', rho, new Float64Array(0), Float64Array.from(scales));
}

/** vars[i][j] for i ≤ j (mirrored for j < i), created by `make`. */
function symVars(n: number, make: (i: number, j: number) => number): number[][] {
  const out: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(-1));
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      const v = make(i, j);
      out[i]![j] = v;
      out[j]![i] = v;
    }
  return out;
}

function sparseRow(G: Float64Array, nz: number, kk: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < nz; i++) if (G[kk * nz + i] !== 0) out.push([i, G[kk * nz + i]!]);
  return out;
}

/**
 * Add s·(F_rᵀF_q + F_qᵀF_r) (both = true) or s·F_rᵀF_r to variable v's matrix, F rows sparse
 * over (x, input). The builder keeps one upper-triangle entry per symmetric pair: in the first
 * case every ordered pair (a, c) adds x·y to both (ia, ic) and (ic, ia), i.e. once to the stored
 * entry (twice on the diagonal); in the second the pairs (a, c) and (c, a) are the same entry.
 */
function addOuter(b: SdpBuilder, v: number, blk: number, fr: [number, number][], fq: [number, number][], s: number, both: boolean, zIdx: (a: number) => number): void {
  for (const [a, x] of fr)
    for (const [c, y] of fq) {
      const ia = zIdx(a);
      const ic = zIdx(c);
      if (both) b.add(v, blk, ia, ic, s * x * y * (ia === ic ? 2 : 1));
      else if (ia <= ic) b.add(v, blk, ia, ic, s * x * y);
    }
}

/**
 * Multiplier λ (variable v) of channel kk of an activation w = φ(G z) with w at index `w`:
 * λ (2a ggᵀ − c(g e_wᵀ + e_w gᵀ) + 2 e_w e_wᵀ), g = row kk of G (the negated QC, docs/method.md §1).
 */
function addQc(b: SdpBuilder, v: number, blk: number, G: Float64Array, nz: number, kk: number, a: number, c: number, w: number, s: number): void {
  const g = sparseRow(G, nz, kk);
  if (a !== 0) for (const [i, gi] of g) for (const [j, gj] of g) if (i <= j) b.add(v, blk, i, j, s * 2 * a * gi * gj);
  if (c !== 0) for (const [i, gi] of g) b.add(v, blk, i, w, -s * c * gi * (i === w ? 2 : 1));
  b.add(v, blk, w, w, 2 * s);
}
