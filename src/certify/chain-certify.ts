/**
 * Float64 certificate for conv / pooling / residual / dense stage chains (docs/method.md
 * §6.3), the generalisation of fc-certify.ts.
 *
 * Given multipliers (P1, P2 per Roesser system, Λ per activation) from any source:
 * 1. The forward recursion (recursion.ts) at a fixed ρ: Q_0 = ρI, Loewner-maximal Q* per stage
 *    minus a margin, diagonal choice after max pooling, /μ for pooling; it needs every N_k ≻ 0
 *    and returns g = λ_max(G N_last⁻¹ Gᵀ).
 * 2. Output scaling instead of a search in ρ: the last block N − GᵀG/s² ≻ 0 holds for any
 *    s² > g, and it certifies the network's output divided by s, i.e. L² ≤ ρ·s². (Every block
 *    is homogeneous, so this is the same certificate as multipliers ×s² at ρ·s²; it needs one
 *    recursion where a bisection in ρ needs twenty, and it does not stall where the recursion
 *    saturates in ρ — long residual chains, whose storage terms do not grow with ρ.) ρ starts at
 *    the caller's guess and a short pattern search in log ρ lowers ρ·g(ρ).
 * 3. Verification at that ρ and s², independent of the recursion's algebra: every stage LMI
 *      M_k = [[N_k(Q_{k−1}, P, Λ), −c GᵀΛ], [−c ΛG, 2Λ − μ_k Q_k]]   (last: N − GᵀG/s²)
 *    is rebuilt in full from the stage data (the original kernels' Roesser matrices, dense
 *    weights) and the STORED Q_k, P, Λ, with an entrywise bound on its formation error, and proven
 *    positive definite by the rounding-aware Cholesky test (psd-check.ts). Also proven: every
 *    P1, P2 ≻ 0 (2-D dissipation telescoping needs P ⪰ 0), every interface Q_k ≻ 0 (cropping to
 *    the true feature map and pooling need Q ⪰ 0), Q_k exactly diagonal after max pooling (by
 *    construction), and λ ≥ 0. If rounding defeats the check, s² is nudged up, then the margin
 *    ε_k on the outgoing Q_k grows (bisect.ts MARGINS).
 * 4. L = √(ρ·s²) · outerGain, rounded up.
 */
import { isKronDense, qinIndex, type Stage, type StagePlan, type StageParams } from '../lmi/stage/stages.js';
import { minimiseRhoG, recursionSteps } from '../lmi/stage/recursion.js';
import { runSteps, type RunBudget } from '../solver/budget.js';
import type { Steps } from '../util/steps.js';
import { gamma, mulUp, nextUp, sqrtUp, verifyPositiveDefinite } from './psd-check.js';
import { choleskyInPlace, inverseFromCholesky } from '../linalg/cholesky.js';
import { symEig } from '../linalg/eig.js';
import { failedCertificate as failed, type Certificate } from './certificate.js';

/** The chain certificate also keeps the verified incoming weights (for diagnostics). */
export interface ChainCertificate extends Certificate {
  readonly qs?: Float64Array[];
}

export interface ChainCertifyOptions {
  /** ρ to start from (e.g. the solver's g for multipliers scaled by g); default 1. */
  readonly rhoGuess?: number;
  /** Give up when no ρ ≤ rhoGuess·maxGrowth keeps every N_k ≻ 0 (default 1e6). */
  readonly maxGrowth?: number;
  /** The run's budget: the certificate pauses between stages so an abort is seen (budget.ts). */
  readonly budget?: RunBudget;
  /**
   * Stages with the same LMIs as the plan's in exact arithmetic but cheaper to factor (the
   * compressed first layer, lmi/stage/compress.ts), for the recursion and the search in ρ (steps 1
   * and 2). The verification (step 3) always rebuilds the plan's own stages, so rounding in these
   * can make a certificate fail, never make it wrong.
   */
  readonly recursionStages?: readonly Stage[];
}

/**
 * Margins ε on the outgoing weights Q_k = Q* − ε·max|diag Q*|·I (recursion.ts), tried in turn when rounding defeats the
 * verification at the smallest one (a larger margin leaves the check more room).
 */
export const MARGINS = [1e-10, 1e-8, 1e-6, 1e-4] as const;

/** Recursions spent on the search for ρ (each is a Cholesky of every stage's N). */
const SEARCH_STEPS = 16;

export function certifyStages(plan: StagePlan, params: readonly StageParams[], opts: ChainCertifyOptions = {}): Promise<ChainCertificate> {
  return runSteps(certifySteps(plan, params, opts), opts.budget);
}

function* certifySteps(plan: StagePlan, params: readonly StageParams[], opts: ChainCertifyOptions): Steps<ChainCertificate> {
  const { stages } = plan;
  if (params.length !== stages.length) throw new Error(`certifyStages: ${stages.length} stages, ${params.length} parameter sets`);
  for (const p of params) {
    for (const l of [...p.lamInt, ...(p.lamOut ? [p.lamOut] : [])]) {
      if (l.some((v) => !(v >= 0) || !Number.isFinite(v))) return failed('multipliers must be finite and nonnegative', 0);
    }
  }
  let evaluations = 0;
  const fast = opts.recursionStages ?? stages;
  if (fast.length !== stages.length) throw new Error(`certifyStages: ${stages.length} stages, ${fast.length} recursion stages`);
  const recursion = function* (rho: number, margin: number) {
    evaluations++;
    // No storage cap here (stage-math.ts STORAGE_RANGE keeps the optimisers from walking off):
    // the interior-point optimum of a chain with a pure-delay system has its P beyond any cap,
    // and whatever P comes in is verified below on its own.
    const r = yield* recursionSteps(fast, params, { rho, margin, storageRange: Infinity });
    return r && r.g > 0 && Number.isFinite(r.g) ? r : null;
  };
  const guess = opts.rhoGuess !== undefined && opts.rhoGuess > 0 && Number.isFinite(opts.rhoGuess) ? opts.rhoGuess : 1;
  const limit = guess * (opts.maxGrowth ?? 1e6);
  for (const margin of MARGINS) {
    // A ρ at which every N_k ≻ 0 (×10 per try: feasibility of the inner blocks is monotone in ρ).
    let rho = guess;
    let r = yield* recursion(rho, margin);
    while (!r && rho * 10 <= limit) r = yield* recursion((rho *= 10), margin);
    // A larger margin only shrinks every Q_k: nothing will pass with the next one either.
    if (!r) break;
    // Lower ρ·g(ρ) (recursion.ts minimiseRhoG): any ρ at which the blocks verify is a
    // certificate, so this only tightens.
    ({ rho, r } = yield* minimiseRhoG((cand) => recursion(cand, margin), rho, r, SEARCH_STEPS));
    // s² from 1e-9 up to 1e-4 above g: a large storage P (≥ 1e6·Q on the pure-delay skip of a
    // strided residual block, stage-math.ts STORAGE_RANGE) makes |M| ~1e6·Q, whose rounding
    // allowance (~1e-5) exceeds the eigenvalue gap that s² = g(1 + 1e-6) leaves.
    for (let t = 0; t < 6; t++) {
      const s2 = nextUp(r.g * (1 + 1e-9 * 10 ** t));
      if (!(yield* verifyStages(stages, params, rho, r.qs, s2))) continue;
      const rhoL = mulUp(rho, s2);
      const L = mulUp(sqrtUp(rhoL), plan.outerGain);
      const exact = margin === MARGINS[0] ? r.g : ((yield* recursion(rho, 0))?.g ?? r.g);
      return { status: 'certified', rho: rhoL, L, rhoInterval: [rho * Math.min(exact, r.g), rhoL], evaluations, margin, qs: r.qs };
    }
  }
  return failed('no output scale could be verified for these multipliers', evaluations);
}

/**
 * Rigorous check of every stage LMI, every P and every interface Q at this ρ, with the last
 * block N − GᵀG/s² (s² = outScale2, default 1).
 */
export function* verifyStages(stages: readonly Stage[], params: readonly StageParams[], rho: number, qs: readonly Float64Array[], outScale2 = 1): Steps<boolean> {
  if (!(outScale2 > 0) || !Number.isFinite(outScale2)) return false;
  if (!(rho > 0)) return false;
  for (let k = 0; k < stages.length; k++) {
    yield;
    const st = stages[k]!;
    const prm = params[k]!;
    for (let j = 0; j < st.systems.length; j++) {
      const sy = st.systems[j]!;
      if (sy.nx1 > 0 && !verifyPositiveDefinite(prm.P[j]!.P1, sy.nx1).ok) return false;
      if (sy.nx2 > 0 && !verifyPositiveDefinite(prm.P[j]!.P2, sy.nx2).ok) return false;
    }
    const c = st.qin.c;
    let Qin: Float64Array;
    if (k === 0) {
      Qin = new Float64Array(c * c);
      for (let i = 0; i < c; i++) Qin[i * c + i] = rho;
    } else {
      Qin = qs[k - 1]!;
      if (!verifyPositiveDefinite(Qin, c).ok) return false;
    }
    if (!st.last && st.pool.diag) {
      const q = qs[k]!;
      const m = st.out.G.rows;
      for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (i !== j && q[i * m + j] !== 0) return false;
    }
    if (isKronDense(st)) {
      if (!verifyKronDense(st, Qin, prm, st.last ? null : qs[k]!, outScale2)) return false;
      continue;
    }
    const { M, absM, size, ops } = assembleStageLmi(st, Qin, prm, st.last ? null : qs[k]!, outScale2);
    if (!verifyPositiveDefinite(M, size, absM, ops).ok) return false;
  }
  return true;
}

/**
 * The full stage LMI M and |M| (the same formula on absolute values), and a bound on the number
 * of rounded operations per entry. Deliberately straightforward (no shared algebra with the
 * recursion): every term of stages.ts' definition is added entry by entry.
 */
export function assembleStageLmi(st: Stage, Qin: Float64Array, prm: StageParams, Qout: Float64Array | null, outScale2 = 1): { M: Float64Array; absM: Float64Array; size: number; ops: number } {
  const nz = st.nz;
  const G = st.out.G;
  const m = G.rows;
  const size = st.last ? nz : nz + m;
  const M = new Float64Array(size * size);
  const A = new Float64Array(size * size);
  const add = (i: number, j: number, v: number, av: number): void => {
    M[i * size + j] += v;
    A[i * size + j] += av;
  };
  let ops = 4;
  // Incoming weight on u.
  const { c, rep } = st.qin;
  for (let p = 0; p < rep; p++)
    for (let i = 0; i < c; i++)
      for (let j = 0; j < c; j++) {
        const v = Qin[i * c + j]!;
        if (v !== 0) add(qinIndex(st.qin, p, i), qinIndex(st.qin, p, j), v, Math.abs(v));
      }
  // Dissipation of every Roesser system: blkdiag(P, 0) − [A B]ᵀ P [A B] on (x, input).
  st.systems.forEach((sy, jx) => {
    const { P1, P2 } = prm.P[jx]!;
    const nx = sy.nx1 + sy.nx2;
    const d = nx + sy.nin;
    const idx = (a: number): number => (a < nx ? sy.xOff + a : sy.inOff + a - nx);
    const F = (r: number, a: number): number => (a < nx ? sy.A.data[r * nx + a]! : sy.B.data[r * sy.nin + a - nx]!);
    const P = (r: number, q: number): number => {
      if (r < sy.nx1) return q < sy.nx1 ? P1[r * sy.nx1 + q]! : 0;
      return q >= sy.nx1 ? P2[(r - sy.nx1) * sy.nx2 + q - sy.nx1]! : 0;
    };
    // PF and |P||F|
    const PF = new Float64Array(nx * d);
    const aPF = new Float64Array(nx * d);
    for (let r = 0; r < nx; r++)
      for (let q = 0; q < nx; q++) {
        const p = P(r, q);
        if (p === 0) continue;
        for (let b = 0; b < d; b++) {
          const f = F(q, b);
          if (f === 0) continue;
          PF[r * d + b] += p * f;
          aPF[r * d + b] += Math.abs(p * f);
        }
      }
    for (let a = 0; a < d; a++)
      for (let b = 0; b < d; b++) {
        let s = 0;
        let as = 0;
        for (let r = 0; r < nx; r++) {
          const f = F(r, a);
          if (f === 0) continue;
          s += f * PF[r * d + b]!;
          as += Math.abs(f) * aPF[r * d + b]!;
        }
        let v = -s;
        let av = as;
        if (a < nx && b < nx) {
          const p = P(a, b);
          v += p;
          av += Math.abs(p);
        }
        if (v !== 0 || av !== 0) add(idx(a), idx(b), v, av);
      }
    ops += 2 * nx + 4;
  });
  // Σ_k over the rows g_k of G of the nonzero products term(k, g_ki, g_kj) at (i, j): the GᵀΛG
  // and GᵀG terms below, each with its own (fixed) order of rounded operations.
  const addGramTerms = (Gm: { rows: number; data: Float64Array }, term: (kk: number, gi: number, gj: number) => number): void => {
    for (let kk = 0; kk < Gm.rows; kk++)
      for (let i = 0; i < nz; i++) {
        const gi = Gm.data[kk * nz + i]!;
        if (gi === 0) continue;
        for (let j = 0; j < nz; j++) {
          const gj = Gm.data[kk * nz + j]!;
          if (gj === 0) continue;
          const v = term(kk, gi, gj);
          add(i, j, v, Math.abs(v));
        }
      }
  };
  // Quadratic constraints: 2a GᵀΛG − c(GᵀΛE + EᵀΛG) + 2EᵀΛE.
  const qc = (Gm: { rows: number; data: Float64Array }, lam: Float64Array, a: number, cc: number, wOff: number): void => {
    // (2aλ_k)·g_ki·g_kj; a row with 2aλ_k = 0 adds exact zeros.
    if (a !== 0) addGramTerms(Gm, (kk, gi, gj) => 2 * a * lam[kk]! * gi * gj);
    for (let kk = 0; kk < Gm.rows; kk++) {
      const w = wOff + kk;
      for (let i = 0; i < nz; i++) {
        const v = -cc * lam[kk]! * Gm.data[kk * nz + i]!;
        if (v === 0) continue;
        add(i, w, v, Math.abs(v));
        add(w, i, v, Math.abs(v));
      }
      add(w, w, 2 * lam[kk]!, 2 * lam[kk]!);
    }
  };
  st.internal.forEach((q, i) => {
    qc(q.G, prm.lamInt[i]!, q.a, q.c, q.wOff);
    ops += 2 * q.G.rows + 6;
  });
  if (st.last) {
    // − GᵀG / s² (one more rounded operation per term than − GᵀG)
    addGramTerms(G, (_kk, gi, gj) => -((gi * gj) / outScale2));
    ops += m + 3;
  } else {
    // Output QC with w at z-index nz.., and −μ Q_out on the w block.
    qc(G, prm.lamOut!, st.out.a, st.out.c, nz);
    const mu = st.pool.mu;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < m; j++) {
        const v = mu * Qout![i * m + j]!;
        if (v !== 0) add(nz + i, nz + j, -v, Math.abs(v));
      }
    ops += 2 * m + 8;
  }
  // Symmetrise exactly: both triangles were built with the same arithmetic, but make sure.
  for (let i = 0; i < size; i++)
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (M[i * size + j]! + M[j * size + i]!);
      M[i * size + j] = M[j * size + i] = v;
      const av = Math.max(A[i * size + j]!, A[j * size + i]!);
      A[i * size + j] = A[j * size + i] = av;
    }
  // Safety factor on the operation count (averaging above, accumulation order of `add`).
  return { M, absM: A, size, ops: 2 * ops + 10 };
}

/**
 * The dense layer after a flatten (stages.ts isKronDense: incoming weight Q ⊗ I_hw, no αβ term),
 * whose LMI has size c·hw + m — thousands for a CIFAR feature map — proven with m×m and c×c tests:
 *   M = [[A, Bᵀ], [B, C]],  A = Q ⊗ I_hw,
 *   non-last: B = −c_out·ΛW, C = 2Λ − μQ_out;   last: B = W, C = s²I (⪰ 0 ⇔ A − WᵀW/s² ⪰ 0).
 * With K = (Z ⊗ I)Bᵀ for Z ≈ Q⁻¹ (any numbers) the congruence T = [[I, −K], [0, I]] gives
 *   TᵀMT = [[A, E], [Eᵀ, D]],  E = Bᵀ − AK,  D = C − BK − KᵀBᵀ + KᵀAK,
 * and TᵀMT ≻ 0 (⇔ M ≻ 0, T invertible) follows from A ⪰ αI (α > 0) and D − (‖E‖²/α)·I ≻ 0.
 * α: Q − αI proven positive definite; ‖E‖₂ ≤ ‖E‖_F bounded from the computed E plus its
 * entrywise rounding error; D's rounding enters the final rigorous test through |D| and the
 * operation count. No step needs Z to be accurate: a poor Z only makes the test fail.
 */
export function verifyKronDense(st: Stage, Qin: Float64Array, prm: StageParams, Qout: Float64Array | null, outScale2 = 1): boolean {
  const { c, rep } = st.qin;
  const nz = st.nz;
  const W = st.out.G.data;
  const m = st.out.G.rows;
  // α: half the computed smallest eigenvalue of Q, proven.
  const lmin = symEig(Float64Array.from(Qin), c).values[0]!;
  if (!(lmin > 0)) return false;
  const alpha = 0.5 * lmin;
  const shifted = Float64Array.from(Qin);
  for (let i = 0; i < c; i++) shifted[i * c + i] -= alpha;
  const absShifted = Float64Array.from(Qin, Math.abs);
  for (let i = 0; i < c; i++) absShifted[i * c + i] += alpha;
  if (!verifyPositiveDefinite(shifted, c, absShifted, 2).ok) return false;
  // Z ≈ Q⁻¹.
  const L = Float64Array.from(Qin);
  if (!choleskyInPlace(L, c)) return false;
  const Z = inverseFromCholesky(L, c);
  // B (m × nz) and C (m × m).
  const last = st.last;
  const lam = prm.lamOut;
  const cc = st.out.c;
  const bAt = (r: number, col: number): number => (last ? W[r * nz + col]! : -cc * lam![r]! * W[r * nz + col]!);
  // z-index of (channel i, pixel p): channel-major.
  const zi = (i: number, p: number): number => i * rep + p;
  // K = (Z ⊗ I)Bᵀ (nz × m), AK = (Q ⊗ I)K and its absolute counterpart |Q||K|.
  const K = new Float64Array(nz * m);
  const AK = new Float64Array(nz * m);
  const absAK = new Float64Array(nz * m);
  for (let p = 0; p < rep; p++)
    for (let i = 0; i < c; i++)
      for (let r = 0; r < m; r++) {
        let s = 0;
        for (let j = 0; j < c; j++) s += Z[i * c + j]! * bAt(r, zi(j, p));
        K[zi(i, p) * m + r] = s;
      }
  for (let p = 0; p < rep; p++)
    for (let i = 0; i < c; i++)
      for (let r = 0; r < m; r++) {
        let s = 0;
        let as = 0;
        for (let j = 0; j < c; j++) {
          const v = Qin[i * c + j]! * K[zi(j, p) * m + r]!;
          s += v;
          as += Math.abs(v);
        }
        AK[zi(i, p) * m + r] = s;
        absAK[zi(i, p) * m + r] = as;
      }
  // ‖E‖_F with E = Bᵀ − AK: computed entries plus their rounding error γ_{c+2}(|B| + |A||K|).
  const gE = gamma(c + 2);
  let e2 = 0;
  for (let t = 0; t < nz; t++)
    for (let r = 0; r < m; r++) {
      const b = bAt(r, t);
      const e = Math.abs(b - AK[t * m + r]!) + gE * (Math.abs(b) + absAK[t * m + r]!);
      e2 += e * e;
    }
  const eNorm2 = nextUp(e2 * (1 + 2 * (nz * m + 2) * 2 ** -53));
  const shift = nextUp(nextUp(eNorm2 / alpha) * (1 + 2 ** -52));
  // D = C − BK − KᵀBᵀ + KᵀAK − shift·I, with |D| for the formation error.
  const D = new Float64Array(m * m);
  const absD = new Float64Array(m * m);
  for (let r = 0; r < m; r++)
    for (let q = 0; q <= r; q++) {
      let cval: number;
      if (last) cval = r === q ? outScale2 : 0;
      else cval = (r === q ? 2 * lam![r]! : 0) - st.pool.mu * Qout![r * m + q]!;
      let s = 0;
      let as = 0;
      for (let t = 0; t < nz; t++) {
        const br = bAt(r, t);
        const bq = bAt(q, t);
        const kr = K[t * m + r]!;
        const kq = K[t * m + q]!;
        const v = -br * kq - kr * bq + kr * AK[t * m + q]!;
        s += v;
        as += Math.abs(br * kq) + Math.abs(kr * bq) + Math.abs(kr) * absAK[t * m + q]!;
      }
      const v = cval + s - (r === q ? shift : 0);
      const av = Math.abs(cval) + as + (r === q ? shift : 0) + (last ? 0 : Math.abs(st.pool.mu * Qout![r * m + q]!));
      D[r * m + q] = D[q * m + r] = v;
      absD[r * m + q] = absD[q * m + r] = av;
    }
  return verifyPositiveDefinite(D, m, absD, 3 * nz + c + 12).ok;
}
