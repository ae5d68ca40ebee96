/**
 * Float64 certificate for fully connected chains (docs/method.md §6.3).
 *
 * Given multipliers Λ_k from ANY source (ADMM on either backend, the closed-form point), find the
 * smallest ρ for which the layered LMIs hold, and prove it:
 *
 * 1. Forward recursion: Q_0 = ρI; for each hidden layer N = Q_{k−1} + 2αβ WᵀΛW must be ≻ 0
 *    (Cholesky) and the Loewner-maximal outgoing weight is the Schur complement
 *    Q* = 2Λ − (α+β)² ΛW N⁻¹ WᵀΛ; we keep Q_k = Q* − ε_k I (a small margin so that step 3 has
 *    room for rounding). Last: Q_{ℓ−1} − W_ℓᵀW_ℓ ≻ 0. Feasibility is monotone in ρ (Q* is
 *    nondecreasing in Q_in), so bisection finds the smallest feasible ρ for these multipliers.
 * 2. The recursion uses a compressed first layer (W̃ with W̃W̃ᵀ = W_1W_1ᵀ, exact in real arithmetic)
 *    for speed.
 * 3. Verification at the final ρ rebuilds every block M_k in full from the ORIGINAL weights and the
 *    stored Q_k, Λ_k and proves M_k ≻ 0 with a rounding-aware Cholesky test (psd-check.ts).
 *    Only then is L = √ρ (rounded up) reported. Shares no code with the solver beyond the weights.
 */
import type { FcChain, Matrix } from '../model/ir.js';
import { choleskyInPlace, forwardSubstMany } from '../linalg/cholesky.js';
import { rowGramSqrt } from '../lmi/build-fc.js';
import { sqrtUp, verifyPositiveDefinite } from './psd-check.js';
import { failedCertificate as failed, type Certificate } from './certificate.js';
import { bisectAndVerify, type BisectionOptions } from './bisect.js';
import { runSteps, type RunBudget } from '../solver/budget.js';
import type { Steps } from '../util/steps.js';

/** Bracket, bisection and verification options (shared by every certifier, bisect.ts). */
export type CertifyOptions = BisectionOptions & {
  /** The run's budget: the certificate pauses between layers so an abort is seen (budget.ts). */
  readonly budget?: RunBudget;
};

interface HiddenLayer {
  readonly W: Matrix;
  readonly lam: Float64Array;
  readonly a: number; // αβ
  readonly c: number; // α+β
}

/** Sym(n) matrix or the scalar multiple ρI. */
type Incoming = { readonly kind: 'scalar'; readonly rho: number } | { readonly kind: 'matrix'; readonly Q: Float64Array };

export function certifyFcChain(chain: FcChain, lambdas: readonly Float64Array[], opts: CertifyOptions = {}): Promise<Certificate> {
  return runSteps(certifyFcChainSteps(chain, lambdas, opts), opts.budget);
}

export function* certifyFcChainSteps(chain: FcChain, lambdas: readonly Float64Array[], opts: BisectionOptions = {}): Steps<Certificate> {
  const L = chain.layers.length;
  if (lambdas.length !== L - 1) throw new Error(`certifyFcChain: need ${L - 1} multiplier vectors, got ${lambdas.length}`);
  const hidden: HiddenLayer[] = [];
  for (let k = 0; k < L - 1; k++) {
    const layer = chain.layers[k];
    const act = layer.activation;
    if (!act) throw new Error(`certifyFcChain: layer ${k} has no activation`);
    const lam = lambdas[k];
    if (lam.length !== layer.W.rows) throw new Error(`certifyFcChain: λ_${k} has ${lam.length} entries, layer has ${layer.W.rows} outputs`);
    if (lam.some((v) => !(v >= 0) || !Number.isFinite(v))) return failed('multipliers must be finite and nonnegative', 0);
    hidden.push({ W: layer.W, lam, a: act.slope.alpha * act.slope.beta, c: act.slope.alpha + act.slope.beta });
  }
  const last = chain.layers[L - 1].W;
  // Fast path first layer: compressed when it has more inputs than outputs.
  const fastHidden = hidden.slice();
  if (hidden.length > 0 && hidden[0].W.cols > hidden[0].W.rows) fastHidden[0] = { ...hidden[0], W: rowGramSqrt(hidden[0].W) };
  const fastLast = L === 1 && last.cols > last.rows ? rowGramSqrt(last) : last;
  const lastGram = gramCols(fastLast);

  const feasible = (rho: number, margin: number): Steps<Float64Array[] | null> => forwardRecursion(fastHidden, lastGram, rho, margin);
  const res = yield* bisectAndVerify(feasible, (rho, qs) => verifyChain(hidden, last, rho, qs), opts);
  if (res.status === 'failed') return failed('no ρ could be verified for these multipliers', res.evaluations);
  const bound = res.status === 'certified' ? sqrtUp(res.rho) : Math.sqrt(res.rho);
  return { status: res.status, rho: res.rho, L: bound, rhoInterval: res.rhoInterval, evaluations: res.evaluations, margin: res.margin };
}

/**
 * Q_1..Q_{ℓ−1} for this ρ (each Q* minus its margin), or null if some N_k or the last block is not
 * positive definite.
 */
function* forwardRecursion(hidden: readonly HiddenLayer[], lastGram: Float64Array, rho: number, margin: number): Steps<Float64Array[] | null> {
  const qs: Float64Array[] = [];
  let incoming: Incoming = { kind: 'scalar', rho };
  for (const layer of hidden) {
    yield;
    const q = schurOutgoing(layer, incoming);
    if (!q) return null;
    const m = layer.W.rows;
    let maxDiag = 0;
    for (let i = 0; i < m; i++) maxDiag = Math.max(maxDiag, Math.abs(q[i * m + i]));
    const eps = margin * maxDiag;
    for (let i = 0; i < m; i++) q[i * m + i] -= eps;
    qs.push(q);
    incoming = { kind: 'matrix', Q: q };
  }
  const n = Math.round(Math.sqrt(lastGram.length));
  const c = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) c[i] = (incoming.kind === 'scalar' ? 0 : incoming.Q[i]) - lastGram[i];
  if (incoming.kind === 'scalar') for (let i = 0; i < n; i++) c[i * n + i] += incoming.rho;
  return choleskyInPlace(c, n) ? qs : null;
}

/** Q* = 2Λ − c² ΛW N⁻¹ WᵀΛ with N = Q_in + 2a WᵀΛW, or null if N is not positive definite. */
function schurOutgoing(layer: HiddenLayer, incoming: Incoming): Float64Array | null {
  const { W, lam, a, c } = layer;
  const m = W.rows;
  const n = W.cols;
  const N = new Float64Array(n * n);
  if (incoming.kind === 'scalar') for (let i = 0; i < n; i++) N[i * n + i] = incoming.rho;
  else N.set(incoming.Q);
  if (a !== 0) addWtLamW(N, W, lam, 2 * a);
  if (!choleskyInPlace(N, n)) return null;
  // Y = L⁻¹ WᵀΛ (n×m), then Q* = 2Λ − c² YᵀY.
  const Y = new Float64Array(n * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) Y[j * m + i] = W.data[i * n + j] * lam[i];
  forwardSubstMany(N, n, Y, m);
  const q = new Float64Array(m * m);
  for (let j = 0; j < n; j++) {
    const yj = j * m;
    for (let p = 0; p < m; p++) {
      const v = Y[yj + p];
      if (v === 0) continue;
      const row = p * m;
      for (let r = 0; r < m; r++) q[row + r] += v * Y[yj + r];
    }
  }
  const c2 = c * c;
  for (let i = 0; i < m * m; i++) q[i] *= -c2;
  for (let i = 0; i < m; i++) q[i * m + i] += 2 * lam[i];
  return q;
}

function addWtLamW(N: Float64Array, W: Matrix, lam: Float64Array, coeff: number): void {
  const n = W.cols;
  for (let i = 0; i < W.rows; i++) {
    const ci = coeff * lam[i];
    if (ci === 0) continue;
    for (let p = 0; p < n; p++) {
      const v = ci * W.data[i * n + p];
      if (v === 0) continue;
      for (let r = 0; r < n; r++) N[p * n + r] += v * W.data[i * n + r];
    }
  }
}

function gramCols(W: Matrix): Float64Array {
  const n = W.cols;
  const g = new Float64Array(n * n);
  for (let k = 0; k < W.rows; k++)
    for (let p = 0; p < n; p++) {
      const v = W.data[k * n + p];
      if (v === 0) continue;
      for (let r = 0; r < n; r++) g[p * n + r] += v * W.data[k * n + r];
    }
  return g;
}

/**
 * Rebuilds every LMI block from the original weights and the stored Q_k, Λ_k at this ρ and proves
 * each positive definite (rounding-aware).
 */
function* verifyChain(hidden: readonly HiddenLayer[], last: Matrix, rho: number, qs: readonly Float64Array[]): Steps<boolean> {
  for (let k = 0; k < hidden.length; k++) {
    yield;
    const { W, lam, a, c } = hidden[k];
    const n = W.cols;
    const m = W.rows;
    if (k === 0 && a === 0 && n > m) {
      if (!verifyFirstBySchur(W, lam, c, rho, qs[0])) return false;
      continue;
    }
    const size = n + m;
    const M = new Float64Array(size * size);
    const absM = new Float64Array(size * size);
    const qIn = k === 0 ? null : qs[k - 1];
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const v = qIn ? qIn[i * n + j] : i === j ? rho : 0;
        M[i * size + j] = v;
        absM[i * size + j] = Math.abs(v);
      }
    if (a !== 0) {
      // accumulate 2a WᵀΛW into the leading n×n block, and its absolute version
      for (let i = 0; i < m; i++) {
        const ci = 2 * a * lam[i];
        if (ci === 0) continue;
        for (let p = 0; p < n; p++) {
          const v = ci * W.data[i * n + p];
          if (v === 0) continue;
          for (let r = 0; r < n; r++) {
            const t = v * W.data[i * n + r];
            M[p * size + r] += t;
            absM[p * size + r] += Math.abs(t);
          }
        }
      }
    }
    const qOut = qs[k];
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const v = -c * lam[i] * W.data[i * n + j];
        M[(n + i) * size + j] = v;
        M[j * size + n + i] = v;
        absM[(n + i) * size + j] = Math.abs(v);
        absM[j * size + n + i] = Math.abs(v);
      }
      for (let j = 0; j < m; j++) {
        const qv = qOut[i * m + j];
        const v = (i === j ? 2 * lam[i] : 0) - qv;
        M[(n + i) * size + n + j] = v;
        absM[(n + i) * size + n + j] = (i === j ? 2 * lam[i] : 0) + Math.abs(qv);
      }
    }
    if (!verifyPositiveDefinite(M, size, absM, 3 * m + 4).ok) return false;
  }
  yield;
  // Last block: Q_{ℓ−1} − WᵀW (or ρI − WᵀW for a single layer).
  const n = last.cols;
  const M = new Float64Array(n * n);
  const absM = new Float64Array(n * n);
  const qIn = hidden.length === 0 ? null : qs[hidden.length - 1];
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const v = qIn ? qIn[i * n + j] : i === j ? rho : 0;
      M[i * n + j] = v;
      absM[i * n + j] = Math.abs(v);
    }
  for (let k = 0; k < last.rows; k++)
    for (let p = 0; p < n; p++) {
      const v = last.data[k * n + p];
      if (v === 0) continue;
      for (let r = 0; r < n; r++) {
        const t = v * last.data[k * n + r];
        M[p * n + r] -= t;
        absM[p * n + r] += Math.abs(t);
      }
    }
  return verifyPositiveDefinite(M, n, absM, 2 * last.rows + 2).ok;
}

/**
 * First block [[ρI, −cWᵀΛ], [−cΛW, 2Λ − Q_1]] when its leading block is exactly ρI (no αβ term):
 * M ≻ 0 ⇔ ρ > 0 and S = 2Λ − Q_1 − (c²/ρ) ΛWWᵀΛ ≻ 0 (exact Schur complement). S is formed in
 * f64 with entrywise error ≤ γ_K·|S|_abs, K = n + 8, and proven positive definite rigorously —
 * an m×m test instead of (n+m)×(n+m).
 */
function verifyFirstBySchur(W: Matrix, lam: Float64Array, c: number, rho: number, q1: Float64Array): boolean {
  if (!(rho > 0)) return false;
  const n = W.cols;
  const m = W.rows;
  const S = new Float64Array(m * m);
  const absS = new Float64Array(m * m);
  const f = (c * c) / rho;
  for (let i = 0; i < m; i++)
    for (let j = 0; j <= i; j++) {
      let g = 0;
      let ag = 0;
      for (let t = 0; t < n; t++) {
        const p = W.data[i * n + t] * W.data[j * n + t];
        g += p;
        ag += Math.abs(p);
      }
      const coeff = f * lam[i] * lam[j];
      const x = (i === j ? 2 * lam[i] : 0) - q1[i * m + j];
      const v = x - coeff * g;
      const av = (i === j ? 2 * lam[i] : 0) + Math.abs(q1[i * m + j]) + Math.abs(coeff) * ag;
      S[i * m + j] = S[j * m + i] = v;
      absS[i * m + j] = absS[j * m + i] = av;
    }
  return verifyPositiveDefinite(S, m, absS, n + 8).ok;
}
