/**
 * Optimisation of the 1-D stage multipliers (Λ_k, P_k) on the eliminated problem (docs/method.md §6).
 *
 * As for FC chains (refine-fc.ts), all stage LMIs are jointly homogeneous in (ρ, Λ, P, Q) except
 * for the constant GᵀG of the last stage, so with ρ = 1
 *   min ρ = min_{Λ,P} g,   g = λ_max(G_ℓ N_ℓ⁻¹ G_ℓᵀ),
 * where N_ℓ is built from P_ℓ and the forward recursion Q_{ℓ−1}(Λ, P) of Loewner-maximal
 * Q*_k = 2Λ_k − c² Λ_k G_k N_k⁻¹ G_kᵀ Λ_k from Q_0 = I. N_k is affine in (P_k, Λ_k, Q_{k−1}), so
 * Q*_k is jointly matrix-concave and g is convex in (Λ, P) on its domain (all N_k ≻ 0).
 *
 * Parameters θ: log λ (keeps Λ ≻ 0) and the upper triangle of P_k / σ_k (σ_k the start scale;
 * P itself is not forced PD — N_k ≻ 0 implies P − AᵀPA ≻ 0, which for a stable A gives P ≻ 0,
 * and the certifier checks P ≻ 0 anyway). Gradient: one reverse pass. With Ḡ = ∂g/∂Q*_k and
 * Z = N⁻¹ GᵀΛ, Π = c² Z Ḡ Zᵀ = ∂g/∂N:
 *   ∂g/∂λ_i = 2Ḡ_ii − 2c² (G Z Ḡ)_ii + 2a (G Π Gᵀ)_ii,
 *   ∂g/∂P = Π_xx − F Π Fᵀ (F = [A B]),   ∂g/∂Q_{k−1} = Σ_b Π_{u_b u_b} (the s diagonal blocks),
 * and at the top Π_ℓ = −Σ_e w_e z_e z_eᵀ, z_e = N_ℓ⁻¹ Gᵀ v_e (softmax-weighted top eigenpairs).
 * Minimised by L-BFGS (refine-fc.ts' `lbfgs`) with log-sum-exp smoothing of λ_max and log-det
 * barriers on the Q_k and on every N_k, all faded out in stages (as refine-fc does). The N-barrier
 * matters: with few outputs the last stage only needs N_ℓ ⪰ GᵀG/ρ (low rank), so the optimum
 * drives N_ℓ singular in the directions G does not see, where the unbarriered iteration stalls. The result is a proposal only:
 * certify/oned-certify.ts proves whatever comes out.
 */
import { backSubstMany, choleskyInPlace, forwardSubstMany, inverseFromCholesky } from '../linalg/cholesky.js';
import { symEig } from '../linalg/eig.js';
import { ab, atb, buildN, stageNum, type StageNum } from '../lmi/oned/blocks.js';
import { symmetrise } from '../linalg/dense.js';
import { roesserOf, type OneDStage } from '../lmi/oned/stages.js';
import type { StageSystem } from '../lmi/conv/stages.js';
import type { OneDParams } from '../certify/oned-certify.js';
import { lbfgsAsync } from './lbfgs.js';
import { UNLIMITED, type RunBudget } from './budget.js';
import { cpuRoesserProducts, sandwichT, type RoesserProducts } from '../lmi/conv/stage-math.js';

export interface OneDProblem {
  readonly nums: readonly StageNum[];
  /** The stages' systems, for the backend's realisation products. */
  readonly systems: readonly StageSystem[];
  /** Scale σ_k of each P_k (P_k = σ_k · sym(p_k)). */
  readonly pScale: readonly number[];
}

export function oneDProblem(stages: readonly OneDStage[], pScale?: readonly number[]): OneDProblem {
  const nums = stages.map(stageNum);
  return { nums, systems: stages.map(roesserOf), pScale: pScale ?? nums.map(() => 1) };
}

/** Sizes of the parameter blocks: [λ_0, …, λ_{ℓ−2}, p_0, …, p_{ℓ−1}]. */
function layout(p: OneDProblem): { lamOff: number[]; pOff: number[]; dim: number } {
  const lamOff: number[] = [];
  const pOff: number[] = [];
  let o = 0;
  for (let k = 0; k < p.nums.length - 1; k++) {
    lamOff.push(o);
    o += p.nums[k]!.m;
  }
  for (const st of p.nums) {
    pOff.push(o);
    o += (st.nx * (st.nx + 1)) / 2;
  }
  return { lamOff, pOff, dim: o };
}

export function packParams(p: OneDProblem, params: OneDParams): Float64Array {
  const { lamOff, pOff, dim } = layout(p);
  const th = new Float64Array(dim);
  params.lambdas.forEach((l, k) => l.forEach((v, i) => (th[lamOff[k]! + i] = Math.log(Math.max(v, 1e-300)))));
  p.nums.forEach((st, k) => {
    let o = pOff[k]!;
    const P = params.Ps[k]!;
    for (let i = 0; i < st.nx; i++) for (let j = i; j < st.nx; j++) th[o++] = P[i * st.nx + j]! / p.pScale[k]!;
  });
  return th;
}

export function unpackParams(p: OneDProblem, th: Float64Array): OneDParams {
  const { lamOff, pOff } = layout(p);
  const lambdas = p.nums.slice(0, -1).map((st, k) => Float64Array.from({ length: st.m }, (_, i) => Math.exp(th[lamOff[k]! + i]!)));
  const Ps = p.nums.map((st, k) => {
    const P = new Float64Array(st.nx * st.nx);
    let o = pOff[k]!;
    for (let i = 0; i < st.nx; i++)
      for (let j = i; j < st.nx; j++) {
        const v = th[o++]! * p.pScale[k]!;
        P[i * st.nx + j] = v;
        P[j * st.nx + i] = v;
      }
    return P;
  });
  return { lambdas, Ps };
}

function inverseSpd(X: Float64Array, n: number): Float64Array | null {
  const L = Float64Array.from(X);
  return choleskyInPlace(L, n) ? inverseFromCholesky(L, n) : null;
}

/**
 * g (with smoothing mu ≥ 0 and barrier ≥ 0) and its gradient with respect to θ.
 * Returns f = Infinity outside the domain.
 */
export function evaluateOneD(p: OneDProblem, th: Float64Array, wantGrad: boolean, mu = 0, barrier = 0): { f: number; grad: Float64Array } {
  return evaluateOneDCore(p, th, wantGrad, mu, barrier);
}

/**
 * The optimiser's objective with the realisation products from a backend (f64 on the CPU, f32 on
 * the GPU): −FᵀPF of every stage before the recursion, and the P-adjoints FΠFᵀ batched after the
 * reverse pass.
 */
async function evaluateOneDVia(p: OneDProblem, th: Float64Array, mu: number, barrier: number, products: RoesserProducts): Promise<{ f: number; grad: Float64Array }> {
  const { Ps } = unpackParams(p, th);
  const D = await products.dissipation(Ps.map((P) => ({ P1: new Float64Array(0), P2: P })));
  const Pis: Float64Array[] = p.nums.map((st) => new Float64Array((st.nx + st.nu) ** 2));
  const r = evaluateOneDCore(p, th, true, mu, barrier, { dissipation: D, deferP: (k, Pi) => (Pis[k] = Pi) });
  if (!Number.isFinite(r.f)) return r;
  const X = await products.adjoint(Pis);
  p.nums.forEach((_, k) => writePGrad(p, r.grad, k, Pis[k]!, X[k]!));
  return r;
}

/** ∂g/∂P_k = Π_xx − FΠFᵀ (X = FΠFᵀ), into θ's packed upper triangle (off-diagonals count twice). */
function writePGrad(p: OneDProblem, grad: Float64Array, k: number, Pi: Float64Array, X: Float64Array): void {
  const sk = p.nums[k]!;
  const nk = sk.nx + sk.nu;
  const dP = new Float64Array(sk.nx * sk.nx);
  for (let i = 0; i < sk.nx; i++) for (let j = 0; j < sk.nx; j++) dP[i * sk.nx + j] = Pi[i * nk + j]! - X[i * sk.nx + j]!;
  let o = layout(p).pOff[k]!;
  const sc = p.pScale[k]!;
  for (let i = 0; i < sk.nx; i++)
    for (let j = i; j < sk.nx; j++) grad[o++] = sc * (i === j ? dP[i * sk.nx + i]! : dP[i * sk.nx + j]! + dP[j * sk.nx + i]!);
}

function evaluateOneDCore(
  p: OneDProblem,
  th: Float64Array,
  wantGrad: boolean,
  mu: number,
  barrier: number,
  ext?: { dissipation: readonly Float64Array[]; deferP: (k: number, Pi: Float64Array) => void },
): { f: number; grad: Float64Array } {
  const { lamOff, dim } = layout(p);
  const grad = new Float64Array(dim);
  const { lambdas, Ps } = unpackParams(p, th);
  const nums = p.nums;
  const H = nums.length - 1;
  const Zs: Float64Array[] = [];
  const Qs: Float64Array[] = [];
  const qInvs: Float64Array[] = [];
  const nInvs: Float64Array[] = [];
  let qIn: Float64Array | null = null;
  let barrierValue = 0;
  for (let k = 0; k < H; k++) {
    const st = nums[k]!;
    const n = st.nx + st.nu;
    const lam = lambdas[k]!;
    const N = buildN(st, Ps[k]!, qIn, 1, lam, ext?.dissipation[k]);
    const L = Float64Array.from(N);
    if (!choleskyInPlace(L, n)) return { f: Infinity, grad };
    if (barrier > 0) {
      for (let i = 0; i < n; i++) barrierValue -= 2 * Math.log(L[i * n + i]!);
      if (wantGrad) nInvs.push(inverseSpd(N, n)!);
    }
    const Z = new Float64Array(n * st.m);
    for (let r = 0; r < st.m; r++) for (let i = 0; i < n; i++) Z[i * st.m + r] = st.G[r * n + i]! * lam[r]!;
    const GtL = Float64Array.from(Z);
    forwardSubstMany(L, n, Z, st.m);
    backSubstMany(L, n, Z, st.m);
    const Q = atb(GtL, Z, n, st.m, st.m);
    for (let i = 0; i < Q.length; i++) Q[i] = -st.c * st.c * Q[i]!;
    for (let i = 0; i < st.m; i++) Q[i * st.m + i] += 2 * lam[i]!;
    symmetrise(Q, st.m);
    if (barrier > 0) {
      const f = Float64Array.from(Q);
      if (!choleskyInPlace(f, st.m)) return { f: Infinity, grad };
      for (let i = 0; i < st.m; i++) barrierValue -= 2 * Math.log(f[i * st.m + i]!);
      if (wantGrad) qInvs.push(inverseSpd(Q, st.m)!);
    }
    Zs.push(Z);
    Qs.push(Q);
    qIn = Q;
  }
  const st = nums[H]!;
  const n = st.nx + st.nu;
  const N = buildN(st, Ps[H]!, qIn, 1, null, ext?.dissipation[H]);
  const L = Float64Array.from(N);
  if (!choleskyInPlace(L, n)) return { f: Infinity, grad };
  if (barrier > 0) {
    for (let i = 0; i < n; i++) barrierValue -= 2 * Math.log(L[i * n + i]!);
    if (wantGrad) nInvs.push(inverseSpd(N, n)!);
  }
  // W = L⁻¹ Gᵀ (n×m), Hm = WᵀW = G N⁻¹ Gᵀ.
  const W = new Float64Array(n * st.m);
  for (let r = 0; r < st.m; r++) for (let i = 0; i < n; i++) W[i * st.m + r] = st.G[r * n + i]!;
  forwardSubstMany(L, n, W, st.m);
  const Hm = atb(W, W, n, st.m, st.m);
  symmetrise(Hm, st.m);
  const { values, vectors } = symEig(Hm, st.m);
  const top = values[st.m - 1]!;
  const weights = new Float64Array(st.m);
  let g = top;
  if (mu > 0) {
    let sum = 0;
    for (let i = 0; i < st.m; i++) sum += weights[i] = Math.exp((values[i]! - top) / mu);
    for (let i = 0; i < st.m; i++) weights[i] /= sum;
    g = top + mu * Math.log(sum);
  } else weights[st.m - 1] = 1;
  const f = g + barrier * barrierValue;
  if (!wantGrad) return { f, grad };
  // Π_ℓ = −Σ w_e z_e z_eᵀ with z_e = N⁻¹ Gᵀ v_e = L⁻ᵀ (W v_e).
  let Pi = new Float64Array(n * n);
  for (let e = 0; e < st.m; e++) {
    const we = weights[e]!;
    if (we < 1e-14) continue;
    const z = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let r = 0; r < st.m; r++) acc += W[i * st.m + r]! * vectors[e * st.m + r]!;
      z[i] = acc;
    }
    backSubstMany(L, n, z, 1);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) Pi[i * n + j] -= we * z[i]! * z[j]!;
  }
  for (let k = H; k >= 0; k--) {
    const sk = nums[k]!;
    const nk = sk.nx + sk.nu;
    if (barrier > 0) {
      // ∂(−β log det N_k)/∂N_k = −β N_k⁻¹
      const ni = nInvs[k]!;
      for (let i = 0; i < nk * nk; i++) Pi[i] -= barrier * ni[i]!;
    }
    // ∂g/∂P_k = Π_xx − F Π Fᵀ, now or (backend products) after the reverse pass.
    if (ext) ext.deferP(k, Float64Array.from(Pi));
    else writePGrad(p, grad, k, Pi, sandwichT(sk.F, Pi, sk.nx, sk.nx + sk.nu));
    if (k === 0) break;
    // ∂g/∂Q_{k−1}: the sum of the s diagonal u-blocks of Π, plus the barrier term.
    const prev = nums[k - 1]!;
    const m = prev.m;
    const Gbar = new Float64Array(m * m);
    for (let b = 0; b < sk.s; b++) {
      const off = sk.nx + b * sk.cin;
      for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) Gbar[i * m + j] += Pi[(off + i) * nk + off + j]!;
    }
    if (barrier > 0) {
      const qi = qInvs[k - 1]!;
      for (let i = 0; i < m * m; i++) Gbar[i] -= barrier * qi[i]!;
    }
    // Back through Q*_{k−1} = 2Λ − c² ΛG Z.
    const kk = k - 1;
    const np = prev.nx + prev.nu;
    const Z = Zs[kk]!;
    const lam = lambdas[kk]!;
    const c2 = prev.c * prev.c;
    const ZG = ab(Z, Gbar, np, m, m); // Z Ḡ
    const GZG = ab(prev.G, ZG, m, np, m); // G Z Ḡ
    const PiPrev = new Float64Array(np * np);
    for (let i = 0; i < np; i++)
      for (let j = 0; j < np; j++) {
        let acc = 0;
        for (let r = 0; r < m; r++) acc += ZG[i * m + r]! * Z[j * m + r]!;
        PiPrev[i * np + j] = c2 * acc;
      }
    let GPG: Float64Array | null = null;
    if (prev.a !== 0) GPG = ab(ab(prev.G, PiPrev, m, np, np), transpose(prev.G, m, np), m, np, m);
    for (let i = 0; i < m; i++) {
      let v = 2 * Gbar[i * m + i]! - 2 * c2 * GZG[i * m + i]!;
      if (GPG) v += 2 * prev.a * GPG[i * m + i]!;
      grad[lamOff[kk]! + i] = v * lam[i]!; // chain rule for θ = log λ
    }
    Pi = PiPrev;
  }
  return { f, grad };
}

function transpose(A: Float64Array, r: number, c: number): Float64Array {
  const T = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) T[j * r + i] = A[i * c + j]!;
  return T;
}

/**
 * Stein solution X = Σ_k (Aᵀ)^k A^k (X − AᵀXA = I) by the doubling (Smith) iteration, or null
 * when A is not Schur stable (the iteration does not settle).
 */
export function steinIdentity(A: Float64Array, nx: number): Float64Array | null {
  let X: Float64Array = new Float64Array(nx * nx);
  for (let i = 0; i < nx; i++) X[i * nx + i] = 1;
  let Ak: Float64Array = Float64Array.from(A);
  for (let it = 0; it < 60; it++) {
    let nrm = 0;
    for (const v of Ak) nrm = Math.max(nrm, Math.abs(v));
    if (nrm === 0 || nrm < 1e-18) return X;
    const XA = ab(X, Ak, nx, nx, nx);
    const add = atb(Ak, XA, nx, nx, nx);
    X = X.map((v, i) => v + add[i]!);
    Ak = ab(Ak, Ak, nx, nx, nx);
    if (!X.every(Number.isFinite) || Math.max(...X.map(Math.abs)) > 1e15) return null;
  }
  return null;
}

function lamMaxOfGNinvGt(st: StageNum, N: Float64Array): number {
  const n = st.nx + st.nu;
  const L = Float64Array.from(N);
  if (!choleskyInPlace(L, n)) return Infinity;
  const W = new Float64Array(n * st.m);
  for (let r = 0; r < st.m; r++) for (let i = 0; i < n; i++) W[i * st.m + r] = st.G[r * n + i]!;
  forwardSubstMany(L, n, W, st.m);
  const Hm = atb(W, W, n, st.m, st.m);
  symmetrise(Hm, st.m);
  const { values } = symEig(Hm, st.m);
  return values[st.m - 1]!;
}

/**
 * A feasible start for ρ = 1: per stage P = ε·X (X the Stein solution, so P − AᵀPA = εI) with ε
 * chosen on a grid to make the stage cheapest (largest guaranteed Q, or smallest last-stage g),
 * and Λ = τI with τ = 1/(c² λ_max(G N⁻¹ Gᵀ)), which makes Q* ⪰ τI. Returns null (with the index
 * of the offending stage) when some A is not Schur stable: the LMI is then infeasible (an
 * unstable LTI layer has unbounded ℓ2 gain).
 */
export function startParams(stages: readonly OneDStage[]): { params: OneDParams; pScale: number[] } | { unstable: number } {
  const nums = stages.map(stageNum);
  const lambdas: Float64Array[] = [];
  const Ps: Float64Array[] = [];
  const pScale: number[] = [];
  let qIn: Float64Array | null = null;
  let qMin = 1;
  for (let k = 0; k < nums.length; k++) {
    const st = nums[k]!;
    const nx = st.nx;
    const Ablk = new Float64Array(nx * nx);
    for (let i = 0; i < nx; i++) for (let j = 0; j < nx; j++) Ablk[i * nx + j] = st.F[i * (nx + st.nu) + j]!;
    const X = steinIdentity(Ablk, nx);
    if (!X) return { unstable: k };
    const last = k === nums.length - 1;
    let best: { score: number; eps: number; N: Float64Array } | null = null;
    for (let e = 0; e <= 24; e++) {
      const eps = qMin * 2 ** (4 - e);
      const P = X.map((v) => eps * v);
      const N = buildN(st, P, qIn, 1, null);
      const h = lamMaxOfGNinvGt(st, N);
      if (!Number.isFinite(h)) continue;
      // hidden: maximise the guaranteed Q* ⪰ I/(c²h) ⇔ minimise h; last: minimise g = h.
      if (!best || h < best.score) best = { score: h, eps, N };
    }
    if (!best) return { unstable: k };
    const P = X.map((v) => best!.eps * v);
    Ps.push(P);
    pScale.push(Math.max(best.eps, 1e-300));
    if (last) break;
    const c2 = st.c * st.c;
    let tau = 1 / (c2 * Math.max(best.score, 1e-300));
    // With αβ ≠ 0 the N also holds 2αβ GᵀΛG; shrink τ until the stage is still feasible.
    let out: Float64Array | null = null;
    for (let t = 0; t < 60 && !out; t++, tau *= 0.5) {
      const lam = new Float64Array(st.m).fill(tau);
      const N = buildN(st, P, qIn, 1, lam);
      const L = Float64Array.from(N);
      if (!choleskyInPlace(L, st.nx + st.nu)) continue;
      const Z = new Float64Array((st.nx + st.nu) * st.m);
      for (let r = 0; r < st.m; r++) for (let i = 0; i < st.nx + st.nu; i++) Z[i * st.m + r] = st.G[r * (st.nx + st.nu) + i]! * tau;
      forwardSubstMany(L, st.nx + st.nu, Z, st.m);
      const Q = atb(Z, Z, st.nx + st.nu, st.m, st.m).map((v) => -c2 * v);
      for (let i = 0; i < st.m; i++) Q[i * st.m + i] += 2 * tau;
      symmetrise(Q, st.m);
      const { values } = symEig(Q, st.m);
      if (values[0]! > 0) {
        out = Q;
        lambdas.push(lam);
        qMin = values[0]!;
      }
    }
    if (!out) return { unstable: k };
    qIn = out;
  }
  return { params: { lambdas, Ps }, pScale };
}

export interface OneDRefineOptions {
  readonly maxIter?: number;
  /** The run's time limit and abort signal (default: none). */
  readonly budget?: RunBudget;
  readonly onIteration?: (it: number, g: number) => void;
}

/**
 * Minimise g from `start`; returns multipliers for ρ = 1 and g (uncertified). The gradient
 * iterations use the realisation products of the backend that made `products` (default the CPU's;
 * f32 ones only down to level 1e-5, as in refine-conv.ts); every level's result is judged by an
 * exact f64 evaluation.
 */
export async function refineOneD(
  p: OneDProblem,
  start: OneDParams,
  opts: OneDRefineOptions = {},
  products?: RoesserProducts,
): Promise<{ params: OneDParams; g: number; iterations: number }> {
  let theta: Float64Array = packParams(p, start);
  const dim = theta.length;
  const maxIter = opts.maxIter ?? 2000;
  const runBudget = opts.budget ?? UNLIMITED;
  const g0 = evaluateOneD(p, theta, false).f;
  if (!Number.isFinite(g0) || dim === 0) return { params: unpackParams(p, theta), g: g0, iterations: 0 };
  const f64 = products?.precision === 'f64' ? products : cpuRoesserProducts(p.systems);
  const own = products ?? f64;
  let best = { theta, g: g0 };
  let iterations = 0;
  const stages = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 0];
  let stage = 0;
  while (stage < stages.length && iterations < maxIter) {
    const rel = stages[stage]!;
    const gStart = best.g;
    const mu = rel * gStart;
    const barrier = (rel * gStart) / Math.max(1, dim);
    const budget = Math.max(1, Math.floor((maxIter - iterations) / (stages.length - stage)));
    const via = rel >= 1e-5 ? own : f64;
    const res: { theta: Float64Array; f: number } = await lbfgsAsync(
      (th) => evaluateOneDVia(p, th, mu, barrier, via),
      theta,
      budget,
      Math.max(1e-10, 1e-4 * rel),
      runBudget,
      (f) => {
        iterations++;
        opts.onIteration?.(iterations, f);
      },
    );
    theta = res.theta;
    const exact = evaluateOneD(p, theta, false).f;
    if (exact < best.g) best = { theta, g: exact };
    if (iterations >= maxIter || runBudget.expired()) break;
    if (!(best.g < 0.5 * gStart)) stage++;
  }
  return { params: unpackParams(p, best.theta), g: best.g, iterations };
}

/** Multipliers for ρ = g from ρ = 1 ones (the LMIs are jointly homogeneous). */
export function scaleOneDParams(params: OneDParams, t: number): OneDParams {
  return { lambdas: params.lambdas.map((l) => l.map((v) => v * t)), Ps: params.Ps.map((P) => P.map((v) => v * t)) };
}
