/**
 * Float64 certificate for 1-D signal networks (conv1d / SSM stages, docs/method.md §3.5, §6).
 *
 * Given per-stage multipliers Λ_k (hidden stages) and Lyapunov matrices P_k (all stages) from any
 * source, find the smallest ρ for which the stage LMIs (src/lmi/oned/blocks.ts) hold, and prove it:
 * 1. Forward recursion: Q_0 = ρI; hidden stage k: N_k ≻ 0 (Cholesky), Q_k = Q*_k − ε_k I;
 *    last stage: N_ℓ − GᵀG ≻ 0. Q* is nondecreasing in Q_in, hence in ρ: bisection on ρ.
 * 2. Verification at the final ρ rebuilds every full block M_k (size nx + s·c_in + c_out, or
 *    nx + s·c_in for the last) from the ORIGINAL state-space matrices and the stored P_k, Λ_k,
 *    Q_k, and proves M_k ≻ 0 with a rounding-aware Cholesky test, and P_k ≻ 0 (needed for the
 *    telescoping sum: V(x_T) ≥ 0). Only then is L = √ρ (rounded up) reported.
 * The certified L bounds ‖f(x) − f(x')‖₂ ≤ L‖x − x'‖₂ for input sequences of ANY length T
 * (ℓ2 over time and channels): no block depends on T.
 */
import { gamma, sqrtUp, verifyPositiveDefinite } from './psd-check.js';
import { failedCertificate as failed, type Certificate } from './certificate.js';
import { bisectAndVerify, type BisectionOptions } from './bisect.js';
import { runSteps, type RunBudget } from '../solver/budget.js';
import type { Steps } from '../util/steps.js';
import { buildN, lastFeasible, outgoingQ, stageNum, type StageNum } from '../lmi/oned/blocks.js';
import type { OneDStage } from '../lmi/oned/stages.js';

export interface OneDParams {
  /** Λ_k (diagonal, length c_out) for every hidden stage. */
  readonly lambdas: readonly Float64Array[];
  /** P_k (nx × nx, symmetric) for every stage, the last included. */
  readonly Ps: readonly Float64Array[];
}

/** Bracket, bisection and verification options (shared by every certifier, bisect.ts). */
export type OneDCertifyOptions = BisectionOptions & {
  /** The run's budget: the certificate pauses between stages so an abort is seen (budget.ts). */
  readonly budget?: RunBudget;
};

export function certifyOneD(stages: readonly OneDStage[], params: OneDParams, opts: OneDCertifyOptions = {}): Promise<Certificate> {
  return runSteps(certifyOneDSteps(stages, params, opts), opts.budget);
}

function* certifyOneDSteps(stages: readonly OneDStage[], params: OneDParams, opts: BisectionOptions): Steps<Certificate> {
  const nums = stages.map(stageNum);
  const H = stages.length - 1;
  if (params.lambdas.length !== H || params.Ps.length !== stages.length) {
    throw new Error(`certifyOneD: need ${H} multiplier vectors and ${stages.length} P matrices`);
  }
  for (let k = 0; k < stages.length; k++) {
    if (params.Ps[k]!.length !== nums[k]!.nx ** 2) throw new Error(`certifyOneD: P_${k} has the wrong size`);
    if (!params.Ps[k]!.every(Number.isFinite)) return failed('P must be finite', 0);
    if (k < H && (params.lambdas[k]!.length !== nums[k]!.m || params.lambdas[k]!.some((v) => !(v >= 0) || !Number.isFinite(v)))) {
      return failed('multipliers must be finite, nonnegative, one per output channel', 0);
    }
  }
  const feasible = (rho: number, margin: number): Steps<Float64Array[] | null> => recursion(nums, params, rho, margin);
  const res = yield* bisectAndVerify(feasible, (rho, qs) => verifyAll(nums, params, rho, qs), opts);
  if (res.status === 'failed') return failed('no ρ could be verified for these multipliers', res.evaluations);
  const L = res.status === 'certified' ? sqrtUp(res.rho) : Math.sqrt(res.rho);
  return { status: res.status, rho: res.rho, L, rhoInterval: res.rhoInterval, evaluations: res.evaluations, margin: res.margin };
}

/** Q_1..Q_{ℓ−1} at this ρ (each Q* minus its margin), or null if some block fails. */
function* recursion(nums: readonly StageNum[], params: OneDParams, rho: number, margin: number): Steps<Float64Array[] | null> {
  const qs: Float64Array[] = [];
  let qIn: Float64Array | null = null;
  for (let k = 0; k < nums.length; k++) {
    yield;
    const st = nums[k]!;
    const lam = k < nums.length - 1 ? params.lambdas[k]! : null;
    const N = buildN(st, params.Ps[k]!, qIn, rho, lam);
    if (!lam) return lastFeasible(st, N) ? qs : null;
    const out = outgoingQ(st, N, lam);
    if (!out) return null;
    const { Q } = out;
    let maxDiag = 0;
    for (let i = 0; i < st.m; i++) maxDiag = Math.max(maxDiag, Math.abs(Q[i * st.m + i]!));
    for (let i = 0; i < st.m; i++) Q[i * st.m + i] -= margin * maxDiag;
    qs.push(Q);
    qIn = Q;
  }
  return qs;
}

/**
 * Rebuild and rigorously verify every block. Entry (i, j) of M is a sum of at most five pieces
 * (P, −FᵀPF, Q̃, 2a GᵀΛG or −GᵀG, and −cGᵀΛ / 2Λ − Q), each a (double) product sum; with
 * K = 2·nx + 2·m + 16 rounded operations per entry and |M| the same sums over absolute values,
 * the formation error is ≤ γ_K |M| entrywise (psd-check.ts).
 */
function* verifyAll(nums: readonly StageNum[], params: OneDParams, rho: number, qs: readonly Float64Array[]): Steps<boolean> {
  for (let k = 0; k < nums.length; k++) {
    yield;
    const st = nums[k]!;
    const { nx, nu, m, s, cin, F, G, a, c } = st;
    const P = params.Ps[k]!;
    if (nx > 0 && !verifyPositiveDefinite(P, nx).ok) return false;
    const last = k === nums.length - 1;
    const n = nx + nu;
    const size = last ? n : n + m;
    const M = new Float64Array(size * size);
    const absM = new Float64Array(size * size);
    const add = (i: number, j: number, v: number, av = Math.abs(v)): void => {
      M[i * size + j] += v;
      absM[i * size + j] += av;
    };
    // P − FᵀPF via T = P·F, then Fᵀ·T (and the absolute versions).
    const T = new Float64Array(nx * n);
    const absT = new Float64Array(nx * n);
    for (let i = 0; i < nx; i++)
      for (let r = 0; r < nx; r++) {
        const p = P[i * nx + r]!;
        if (p === 0) continue;
        for (let j = 0; j < n; j++) {
          T[i * n + j] += p * F[r * n + j]!;
          absT[i * n + j] += Math.abs(p * F[r * n + j]!);
        }
      }
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let v = 0;
        let av = 0;
        for (let r = 0; r < nx; r++) {
          const f = F[r * n + i]!;
          if (f === 0) continue;
          v += f * T[r * n + j]!;
          av += Math.abs(f) * absT[r * n + j]!;
        }
        add(i, j, -v, av);
      }
    for (let i = 0; i < nx; i++) for (let j = 0; j < nx; j++) add(i, j, P[i * nx + j]!);
    const qIn = k === 0 ? null : qs[k - 1]!;
    for (let b = 0; b < s; b++) {
      const o = nx + b * cin;
      for (let i = 0; i < cin; i++)
        for (let j = 0; j < cin; j++) {
          const v = qIn ? qIn[i * cin + j]! : i === j ? rho : 0;
          if (v !== 0) add(o + i, o + j, v);
        }
    }
    if (last) {
      for (let r = 0; r < m; r++)
        for (let i = 0; i < n; i++) {
          const gi = G[r * n + i]!;
          if (gi === 0) continue;
          for (let j = 0; j < n; j++) add(i, j, -gi * G[r * n + j]!);
        }
    } else {
      const lam = params.lambdas[k]!;
      const Q = qs[k]!;
      if (a !== 0)
        for (let r = 0; r < m; r++)
          for (let i = 0; i < n; i++) {
            const gi = 2 * a * lam[r]! * G[r * n + i]!;
            if (gi === 0) continue;
            for (let j = 0; j < n; j++) add(i, j, gi * G[r * n + j]!);
          }
      for (let r = 0; r < m; r++)
        for (let i = 0; i < n; i++) {
          const v = -c * lam[r]! * G[r * n + i]!;
          add(n + r, i, v);
          add(i, n + r, v);
        }
      for (let i = 0; i < m; i++)
        for (let j = 0; j < m; j++) {
          add(n + i, n + j, -Q[i * m + j]!);
          if (i === j) add(n + i, n + i, 2 * lam[i]!);
        }
    }
    // (i, j) and (j, i) may round differently; the Cholesky reads only the lower triangle, whose
    // every entry is within γ_K |M| of the exact symmetric matrix's, which is all the test needs.
    const K = 2 * nx + 2 * m + 16;
    if (gamma(K) >= 1) return false;
    if (!verifyPositiveDefinite(M, size, absM, K).ok) return false;
  }
  return true;
}
