/**
 * The 1-D stage LMI in its eliminated form (docs/method.md §3.5, §6):
 *
 *   M = [[N, −c GᵀΛ], [−c ΛG, 2Λ − Q]] ⪰ 0,   G = [C D],  a = αβ, c = α + β,
 *   N = [[P − AᵀPA, −AᵀPB], [−BᵀPA, Q̃ − BᵀPB]] + 2a GᵀΛG,   Q̃ = I_s ⊗ Q_in,
 *
 * with Loewner-maximal outgoing Q* = 2Λ − c² ΛG N⁻¹ GᵀΛ (N ≻ 0), and for the linear last stage
 * N − GᵀG ⪰ 0. Why it is valid: summing V(x⁺) − V(x) ≤ Σ ΔuᵀQ̃Δu − ΔwᵀQΔw − QC over t = 0..T−1
 * telescopes to V(x_T) − V(x_0) = V(x_T) ≥ 0 (zero initial state, P ⪰ 0), the activation QC is ≥ 0
 * at every step, so Σ_t Δwᵀ Q Δw ≤ Σ_t Δuᵀ Q̃ Δu for every T — a bound for sequences of any length.
 *
 * Everything here is plain f64 on small row-major arrays (n = nx + s·c_in is at most a few
 * hundred); the certifier re-checks whatever these produce with rounding-aware tests.
 */
import { choleskyInPlace, forwardSubstMany } from '../../linalg/cholesky.js';
import { symmetrise } from '../../linalg/dense.js';
import type { OneDStage } from './stages.js';

/** Flat numeric view of a stage. */
export interface StageNum {
  readonly nx: number;
  readonly nu: number;
  readonly m: number;
  readonly s: number;
  readonly cin: number;
  /** [A B], nx × (nx + nu). */
  readonly F: Float64Array;
  /** [C D], m × (nx + nu). */
  readonly G: Float64Array;
  readonly a: number;
  readonly c: number;
}

export function stageNum(st: OneDStage): StageNum {
  const { A, B, C, D } = st.sys;
  const nx = A.rows;
  const nu = B.cols;
  const m = C.rows;
  const n = nx + nu;
  const F = new Float64Array(nx * n);
  const G = new Float64Array(m * n);
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < nx; j++) F[i * n + j] = A.data[i * nx + j]!;
    for (let j = 0; j < nu; j++) F[i * n + nx + j] = B.data[i * nu + j]!;
  }
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < nx; j++) G[i * n + j] = C.data[i * nx + j]!;
    for (let j = 0; j < nu; j++) G[i * n + nx + j] = D.data[i * nu + j]!;
  }
  const a = st.slope ? st.slope.alpha * st.slope.beta : 0;
  const c = st.slope ? st.slope.alpha + st.slope.beta : 0;
  return { nx, nu, m, s: st.stride, cin: st.cin, F, G, a, c };
}

/** C = Aᵀ B for A: k×p, B: k×q (row-major). */
export function atb(A: Float64Array, B: Float64Array, k: number, p: number, q: number): Float64Array {
  const C = new Float64Array(p * q);
  for (let r = 0; r < k; r++)
    for (let i = 0; i < p; i++) {
      const v = A[r * p + i]!;
      if (v === 0) continue;
      for (let j = 0; j < q; j++) C[i * q + j] += v * B[r * q + j]!;
    }
  return C;
}

/** C = A B for A: p×k, B: k×q. */
export function ab(A: Float64Array, B: Float64Array, p: number, k: number, q: number): Float64Array {
  const C = new Float64Array(p * q);
  for (let i = 0; i < p; i++)
    for (let r = 0; r < k; r++) {
      const v = A[i * k + r]!;
      if (v === 0) continue;
      for (let j = 0; j < q; j++) C[i * q + j] += v * B[r * q + j]!;
    }
  return C;
}

/** −FᵀPF (n × n) of the stage: the realisation products a backend may compute instead. */
export function dissipationOf(st: StageNum, P: Float64Array): Float64Array {
  const { nx, nu, F } = st;
  const n = nx + nu;
  const N = atb(F, ab(P, F, nx, nx, n), nx, n, n);
  for (let i = 0; i < n * n; i++) N[i] = -N[i]!;
  return N;
}

/**
 * N of the stage (before factorisation). `qIn` null means ρ·I with ρ = rhoIn. lam null: no αβ
 * term. `dissipation`: −FᵀPF when a backend computed it already.
 */
export function buildN(st: StageNum, P: Float64Array, qIn: Float64Array | null, rhoIn: number, lam: Float64Array | null, dissipation?: Float64Array): Float64Array {
  const { nx, nu, cin, s, G, m, a } = st;
  const n = nx + nu;
  const N = Float64Array.from(dissipation ?? dissipationOf(st, P));
  for (let i = 0; i < nx; i++) for (let j = 0; j < nx; j++) N[i * n + j] += P[i * nx + j]!;
  for (let b = 0; b < s; b++) {
    const o = nx + b * cin;
    for (let i = 0; i < cin; i++) {
      if (qIn) for (let j = 0; j < cin; j++) N[(o + i) * n + o + j] += qIn[i * cin + j]!;
      else N[(o + i) * n + o + i] += rhoIn;
    }
  }
  if (lam && a !== 0) {
    for (let r = 0; r < m; r++) {
      const w = 2 * a * lam[r]!;
      if (w === 0) continue;
      for (let i = 0; i < n; i++) {
        const gi = w * G[r * n + i]!;
        if (gi === 0) continue;
        for (let j = 0; j < n; j++) N[i * n + j] += gi * G[r * n + j]!;
      }
    }
  }
  symmetrise(N, n);
  return N;
}

/**
 * Q* = 2Λ − c² ΛG N⁻¹ GᵀΛ for a hidden stage, or null when N is not positive definite.
 * Also returns the Cholesky factor of N (lower, in place) for reuse.
 */
export function outgoingQ(st: StageNum, N: Float64Array, lam: Float64Array): { Q: Float64Array; L: Float64Array } | null {
  const { nx, nu, m, G, c } = st;
  const n = nx + nu;
  const L = Float64Array.from(N);
  if (!choleskyInPlace(L, n)) return null;
  const Y = new Float64Array(n * m); // GᵀΛ, then L⁻¹GᵀΛ
  for (let r = 0; r < m; r++) for (let i = 0; i < n; i++) Y[i * m + r] = G[r * n + i]! * lam[r]!;
  forwardSubstMany(L, n, Y, m);
  const Q = atb(Y, Y, n, m, m);
  for (let i = 0; i < m * m; i++) Q[i] = -c * c * Q[i]!;
  for (let i = 0; i < m; i++) Q[i * m + i] += 2 * lam[i]!;
  symmetrise(Q, m);
  return { Q, L };
}

/** Is N − GᵀG ≻ 0 (last stage), by plain Cholesky? */
export function lastFeasible(st: StageNum, N: Float64Array): boolean {
  const { nx, nu, m, G } = st;
  const n = nx + nu;
  const GtG = atb(G, G, m, n, n);
  const X = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) X[i] = N[i]! - GtG[i]!;
  return choleskyInPlace(X, n);
}
