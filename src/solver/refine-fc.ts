/**
 * f64 refinement of the multipliers of an FC chain on the eliminated problem (docs/method.md §6).
 *
 * The LMIs are jointly homogeneous in (ρ, Λ, Q) except for the constant W_ℓᵀW_ℓ in the last block,
 * so fixing ρ = 1 and asking for the largest t with Q_{ℓ−1}(Λ) ⪰ t·W_ℓᵀW_ℓ gives
 *   min ρ  =  min_Λ g(Λ),   g(Λ) = λ_max(W_ℓ Q_{ℓ−1}(Λ)⁻¹ W_ℓᵀ)
 * where Q_k(Λ) is the forward recursion of Loewner-maximal Schur complements from Q_0 = I, and the
 * optimal multipliers for ρ = g(Λ) are g(Λ)·Λ. Q_{ℓ−1} is matrix-concave in Λ and X ↦ W X⁻¹ Wᵀ is
 * matrix-convex and decreasing, so g is CONVEX: a local method finds the global optimum. Each
 * evaluation is one forward recursion plus a tiny eigenproblem (output size), and the gradient is
 * one reverse pass through the Schur complements:
 *   with G = ∂g/∂Q_k, Y = N⁻¹ WᵀΛ, P = Y G Yᵀ:
 *   ∂g/∂λ_i += 2 G_ii − 2c² (W Y G)_ii + 2ac² (W P Wᵀ)_ii,   ∂g/∂Q_{k−1} = c² P.
 * At the top, G_{ℓ−1} = −z zᵀ with z = Q⁻¹ W_ℓᵀ v (v the top eigenvector).
 *
 * We minimise over θ = log λ (keeps λ > 0) with L-BFGS and a backtracking line search that also
 * rejects steps leaving the domain (some N_k not positive definite). The result is only a proposal:
 * the certifier re-verifies it.
 */
import type { Matrix } from '../model/ir.js';
import { backSubst, backSubstMany, choleskyInPlace, forwardSubstMany, inverseFromCholesky } from '../linalg/cholesky.js';
import { symEig } from '../linalg/eig.js';
import { symmetrise } from '../linalg/dense.js';
import { lbfgsAsync } from './lbfgs.js';
import { UNLIMITED, runSteps, type RunBudget } from './budget.js';
import { runStepsSync, type Steps } from '../util/steps.js';

export interface RefineLayer {
  readonly W: Matrix;
  readonly a: number; // αβ
  readonly c: number; // α+β
}

export interface RefineProblem {
  readonly hidden: readonly RefineLayer[];
  readonly last: Matrix;
}

export interface RefineOptions {
  readonly maxIter?: number;
  readonly relTol?: number;
  /** The run's time limit and abort signal (default: none). */
  readonly budget?: RunBudget;
  readonly onIteration?: (it: number, g: number) => void;
}

export interface RefineResult {
  /** Multipliers for ρ = 1 (the optimal ones for ρ = g are g·lambdas). */
  readonly lambdas: Float64Array[];
  /** g at the result: the (uncertified) squared bound of the refined multipliers. */
  readonly g: number;
  readonly iterations: number;
}

interface Tape {
  readonly Y: Float64Array[]; // n×m per hidden layer
}

/** g(Λ) and optionally its gradient. Returns Infinity outside the domain. */
export function evaluateG(
  p: RefineProblem,
  lambdas: readonly Float64Array[],
  wantGrad: boolean,
  mu = 0,
  barrier = 0,
): { g: number; grad?: Float64Array[] } {
  return runStepsSync(evaluateGSteps(p, lambdas, wantGrad, mu, barrier));
}

/** `evaluateG`, pausing before every layer of the forward and the reverse sweep. */
export function* evaluateGSteps(
  p: RefineProblem,
  lambdas: readonly Float64Array[],
  wantGrad: boolean,
  mu = 0,
  barrier = 0,
): Steps<{ g: number; grad?: Float64Array[] }> {
  const tape: Tape = { Y: [] };
  // Log-det barrier on every outgoing Q_k (only when barrier > 0): the optimum of g can sit on the
  // boundary of {Q_k ≻ 0} (e.g. a single output only needs Q ⪰ s·wwᵀ), where an unconstrained
  // method stalls; −β Σ log det Q_k keeps iterates inside and fades out as β → 0.
  const qInv: Float64Array[] = [];
  let barrierValue = 0;
  let Q: Float64Array | null = null; // null = identity
  for (let k = 0; k < p.hidden.length; k++) {
    yield;
    const { W, a, c } = p.hidden[k];
    const lam = lambdas[k];
    const n = W.cols;
    const m = W.rows;
    const N = new Float64Array(n * n);
    if (Q) N.set(Q);
    else for (let i = 0; i < n; i++) N[i * n + i] = 1;
    if (a !== 0)
      for (let i = 0; i < m; i++) {
        const ci = 2 * a * lam[i];
        if (ci === 0) continue;
        for (let x = 0; x < n; x++) {
          const v = ci * W.data[i * n + x];
          if (v === 0) continue;
          for (let y = 0; y < n; y++) N[x * n + y] += v * W.data[i * n + y];
        }
      }
    if (!choleskyInPlace(N, n)) return { g: Infinity };
    // Y = N⁻¹ WᵀΛ: forward then backward substitution on the n×m right-hand side.
    const Y = new Float64Array(n * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) Y[j * m + i] = W.data[i * n + j] * lam[i];
    const Z = Float64Array.from(Y);
    forwardSubstMany(N, n, Z, m); // Z = L⁻¹B
    backSubstMany(N, n, Z, m); // Z = L⁻ᵀL⁻¹B = N⁻¹B
    tape.Y.push(Z);
    // Q_k = 2Λ − c² Bᵀ N⁻¹ B = 2Λ − c² Bᵀ Y
    const q = new Float64Array(m * m);
    for (let j = 0; j < n; j++)
      for (let i = 0; i < m; i++) {
        const bji = W.data[i * n + j] * lam[i];
        if (bji === 0) continue;
        for (let r = 0; r < m; r++) q[i * m + r] += bji * Z[j * m + r];
      }
    for (let i = 0; i < m * m; i++) q[i] *= -c * c;
    for (let i = 0; i < m; i++) q[i * m + i] += 2 * lam[i];
    symmetrise(q, m);
    if (barrier > 0) {
      yield; // the barrier's factorisation and inverse cost as much as the layer itself
      const f = Float64Array.from(q);
      if (!choleskyInPlace(f, m)) return { g: Infinity };
      for (let i = 0; i < m; i++) barrierValue -= 2 * Math.log(f[i * m + i]);
      if (wantGrad) qInv.push(inverseFromCholesky(f, m));
    }
    Q = q;
  }
  const Wl = p.last;
  const n = Wl.cols;
  const pOut = Wl.rows;
  const L = new Float64Array(n * n);
  if (Q) L.set(Q);
  else for (let i = 0; i < n; i++) L[i * n + i] = 1;
  if (!choleskyInPlace(L, n)) return { g: Infinity };
  // Z = L⁻¹ Wᵀ (n×p), H = ZᵀZ
  const Zl = new Float64Array(n * pOut);
  for (let i = 0; i < pOut; i++) for (let j = 0; j < n; j++) Zl[j * pOut + i] = Wl.data[i * n + j];
  forwardSubstMany(L, n, Zl, pOut);
  const H = new Float64Array(pOut * pOut);
  for (let j = 0; j < n; j++)
    for (let a = 0; a < pOut; a++) {
      const v = Zl[j * pOut + a];
      if (v === 0) continue;
      for (let b = 0; b < pOut; b++) H[a * pOut + b] += v * Zl[j * pOut + b];
    }
  const { values, vectors } = symEig(H, pOut);
  const top = values[pOut - 1];
  // Smoothed objective (mu > 0): μ log Σ exp(λ_i/μ) ≥ λ_max, with softmax weights on eigenpairs.
  const weights = new Float64Array(pOut);
  let g = top;
  if (mu > 0) {
    let sum = 0;
    for (let i = 0; i < pOut; i++) sum += (weights[i] = Math.exp((values[i] - top) / mu));
    for (let i = 0; i < pOut; i++) weights[i] /= sum;
    g = top + mu * Math.log(sum);
  } else weights[pOut - 1] = 1;
  g += barrier * barrierValue;
  if (!wantGrad) return { g };
  // G = −Σ w_i z_i z_iᵀ with z_i = Q⁻¹ Wᵀ v_i = L⁻ᵀ (Z v_i)
  let G = new Float64Array(n * n);
  const z = new Float64Array(n);
  for (let e = 0; e < pOut; e++) {
    const we = weights[e];
    if (we < 1e-12) continue;
    const v = vectors.subarray(e * pOut, (e + 1) * pOut);
    for (let j = 0; j < n; j++) {
      let s2 = 0;
      for (let a = 0; a < pOut; a++) s2 += Zl[j * pOut + a] * v[a];
      z[j] = s2;
    }
    backSubst(L, n, z);
    for (let i = 0; i < n; i++) {
      const zi = we * z[i];
      for (let j = 0; j < n; j++) G[i * n + j] -= zi * z[j];
    }
  }
  const grad: Float64Array[] = p.hidden.map((h) => new Float64Array(h.W.rows));
  for (let k = p.hidden.length - 1; k >= 0; k--) {
    yield;
    const { W, a, c } = p.hidden[k];
    const nIn = W.cols;
    const m = W.rows;
    const Y = tape.Y[k];
    const gr = grad[k];
    if (barrier > 0) {
      // ∂(−β log det Q_k)/∂Q_k = −β Q_k⁻¹
      const qi = qInv[k];
      for (let i = 0; i < m * m; i++) G[i] -= barrier * qi[i];
    }
    // YG (nIn×m)
    const YG = new Float64Array(nIn * m);
    for (let x = 0; x < nIn; x++)
      for (let r = 0; r < m; r++) {
        const yv = Y[x * m + r];
        if (yv === 0) continue;
        for (let s = 0; s < m; s++) YG[x * m + s] += yv * G[r * m + s];
      }
    // P = YG Yᵀ (nIn×nIn)
    const P = new Float64Array(nIn * nIn);
    for (let x = 0; x < nIn; x++)
      for (let y = 0; y <= x; y++) {
        let s = 0;
        for (let r = 0; r < m; r++) s += YG[x * m + r] * Y[y * m + r];
        P[x * nIn + y] = s;
        P[y * nIn + x] = s;
      }
    for (let i = 0; i < m; i++) {
      let wyg = 0;
      for (let j = 0; j < nIn; j++) wyg += W.data[i * nIn + j] * YG[j * m + i];
      let val = 2 * G[i * m + i] - 2 * c * c * wyg;
      if (a !== 0) {
        let wpw = 0;
        for (let x = 0; x < nIn; x++) {
          let t = 0;
          for (let y = 0; y < nIn; y++) t += P[x * nIn + y] * W.data[i * nIn + y];
          wpw += W.data[i * nIn + x] * t;
        }
        val += 2 * a * c * c * wpw;
      }
      gr[i] += val;
    }
    for (let i = 0; i < P.length; i++) P[i] *= c * c;
    G = P;
  }
  return { g, grad };
}

/**
 * L-BFGS on θ = log λ, with continuation on a log-sum-exp smoothing of λ_max (the exact λ_max is
 * non-smooth where the top eigenvalue is multiple, which is typical at the optimum).
 */
export async function refineMultipliers(p: RefineProblem, start: readonly Float64Array[], opts: RefineOptions = {}): Promise<RefineResult> {
  const sizes = start.map((l) => l.length);
  const dim = sizes.reduce((a, b) => a + b, 0);
  const maxIter = opts.maxIter ?? 3000;
  const runBudget = opts.budget ?? UNLIMITED;
  const relTol = opts.relTol ?? 1e-9;
  const split = (theta: Float64Array): Float64Array[] => {
    const out: Float64Array[] = [];
    let o = 0;
    for (const s of sizes) {
      out.push(theta.subarray(o, o + s).map((t) => Math.exp(t)));
      o += s;
    }
    return out;
  };
  let theta: Float64Array = new Float64Array(dim);
  {
    let o = 0;
    for (const l of start) for (let i = 0; i < l.length; i++) theta[o++] = Math.log(Math.max(l[i], 1e-12));
  }
  const g0 = (await runSteps(evaluateGSteps(p, split(theta), false), runBudget)).g;
  if (!Number.isFinite(g0) || dim === 0) return { lambdas: start.map((l) => Float64Array.from(l)), g: g0, iterations: 0 };
  let iterations = 0;
  let bestTheta = theta;
  let bestG = g0;
  // Smoothing levels relative to the current value of g. A level is repeated while it still
  // halves g (a far-away start, e.g. the closed-form point of a deep net, is 1000× off).
  const stages = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6];
  let stage = 0;
  while (stage < stages.length && iterations < maxIter) {
    const rel = stages[stage];
    const gStart = bestG;
    const mu = rel * gStart;
    const barrier = (rel * gStart) / dim;
    const fg = async (th: Float64Array): Promise<{ f: number; grad: Float64Array }> => {
      const lam = split(th);
      const r = await runSteps(evaluateGSteps(p, lam, true, mu, barrier), runBudget);
      const grad = new Float64Array(dim);
      if (!Number.isFinite(r.g) || !r.grad) return { f: Infinity, grad };
      let o = 0;
      r.grad.forEach((gk, k) => {
        for (let i = 0; i < gk.length; i++) grad[o + i] = gk[i] * lam[k][i];
        o += gk.length;
      });
      return { f: r.g, grad };
    };
    // Each level only needs solving to about the smoothing error it introduces (≤ μ·log p), so
    // coarse levels stop early and the budget goes to the fine ones.
    const stagesLeft = stages.length - stage;
    const budget = Math.max(1, Math.floor((maxIter - iterations) / stagesLeft));
    const stageTol = Math.max(relTol, 1e-4 * rel);
    const res = await lbfgsAsync(fg, theta, budget, stageTol, runBudget, (g) => {
      iterations++;
      opts.onIteration?.(iterations, g);
    });
    theta = res.theta;
    const exact = (await runSteps(evaluateGSteps(p, split(theta), false), runBudget)).g;
    if (exact < bestG) {
      bestG = exact;
      bestTheta = theta;
    }
    if (iterations >= maxIter || runBudget.expired()) break;
    if (!(bestG < 0.5 * gStart)) stage++;
  }
  return { lambdas: split(bestTheta), g: bestG, iterations };
}

