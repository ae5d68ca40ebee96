/**
 * Primal-dual interior-point (Newton) method on the layered stage SDP with the interface weights
 * Q_k kept as explicit variables (docs/method.md §6.4). Every stage LMI of stages.ts,
 *
 *   M_k(Q_k, P_k, Λ_k, Q_{k+1}) ⪰ 0,   Q_0 = ρ·I,        minimise ρ,
 *
 * is affine in its own variables, so the Newton (Schur-complement) matrix of the path-following
 * method is block-tridiagonal over the stages: stage k couples only its local multipliers (P, Λ)
 * with the two interface weights Q_k, Q_{k+1}. One step eliminates every stage's local block
 * (dense Cholesky of a stage-sized matrix), leaves a block-tridiagonal system in the interface
 * weights alone and solves that by block Cholesky along the chain: cost linear in the depth.
 * Unlike the eliminated problem of refine-chain.ts (first order, smoothed λ_max, stalls on deep
 * chains whose gains grow geometrically) Newton's method is affine invariant, so the geometric
 * scale of Q_k along the chain does not slow it down.
 *
 * Derivatives: write M = M_const + Σ_j x_j A_j with every A_j a short sum of symmetric rank-2
 * terms sym(a, b) = (abᵀ + baᵀ)/2 over sparse "atoms" a, b (unit vectors, rows of the Roesser
 * map F = [A B], rows of the output map G). Every trace the method needs, tr(A_j X) and
 * tr(A_i Z A_j S⁻¹), then comes from the small matrices aᵀXb over atom pairs (hkmHessian).
 *
 * Symmetric matrix variables are parameterised by their upper triangle. After max pooling the
 * interface weight is diagonal (docs/method.md §4): only its diagonal is a variable, and it is
 * handed to the certifier as the stage's diagonal shape. Nothing here is trusted: the caller
 * certifies the returned multipliers with the f64 certifier (chain-certify.ts).
 *
 * No wall-clock limits: the method stops on the complementarity gap and the dual residual, or
 * on its step count, so the same input gives the same result on an idle and a loaded machine.
 */
import { forwardSubstMany, inverseFromCholesky, partialCholesky } from '../linalg/cholesky.js';
import { symEigenvalues } from '../linalg/eig.js';
import { dot, mulSparseLeft, mulSquare as mul, symmetrise } from '../linalg/dense.js';
import { runRecursion } from '../lmi/stage/recursion.js';
import { lmiSize, qinIndex, type Stage, type StageParams } from '../lmi/stage/stages.js';
import { systemF } from '../lmi/stage/stage-math.js';
import { scaleParams } from './refine-chain.js';
import { UNLIMITED, type RunBudget } from './budget.js';

/** x + a·y as a new array (plain loops: TypedArray.map with a closure is several times slower in V8). */
function plus(x: Float64Array, a: number, y: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! + a * y[i]!;
  return out;
}

/** `symmetrise` as an expression: the symmetrised matrix itself. */
function symmetrised(A: Float64Array, n: number): Float64Array {
  symmetrise(A, n);
  return A;
}

export interface NewtonOptions {
  /** Stop when the complementarity gap Σ tr(Z_k S_k) is below relGap·ρ and the dual residual has shrunk by 1e-8 (default 1e-6). */
  readonly relGap?: number;
  /** Newton steps in all (default 200). */
  readonly maxNewton?: number;
  /** Predictor step length below which the corrector’s second-order term is left out (default 0.1). */
  readonly corrStep?: number;
  /** Lower bound on the centering parameter σ (default 0.1). */
  readonly sigmaMin?: number;
  /** Initial dual Z = μ₀S⁻¹ with μ₀ = ρ₀/(t0Gap·ν) (default 0.1: start gap 10ρ₀). */
  readonly t0Gap?: number;
  /** Relative margin on the recursion's weights in the start (default 1e-2). */
  readonly startMargin?: number;
  /**
   * The run's time limit and abort signal: checked before every step (a time limit stops with
   * the current, strictly feasible iterate; an abort throws its reason), and the event loop gets
   * a turn between stages so that a timer-fired abort is seen promptly.
   */
  readonly budget?: RunBudget;
  /** Per step: ρ, the complementarity gap Σ tr(Z_k S_k), the dual residual relative to the start's. */
  readonly onIteration?: (it: number, rho: number, gap: number, residual: number) => void;
}

export interface NewtonResult {
  /** Multipliers (for Q_0 = ρ·I; diagShape after max pooling). */
  readonly params: StageParams[];
  /** ρ of the last iterate (primal feasible, not certified). */
  readonly rho: number;
  /**
   * ρ − Σ tr(Z_k S_k) at the last step whose dual residual had shrunk by 1e-9: an estimate of the
   * SDP optimum from below (not certified; −∞ if there was none).
   */
  readonly lowerBound: number;
  /** Newton steps taken. */
  readonly iterations: number;
  /** Whether the gap test was met (else the step count or the time limit ran out). */
  readonly converged: boolean;
  /** Whether the time limit ended the iteration. */
  readonly stopped: boolean;
  /**
   * Earlier iterates, latest first: the first whose gap fell below 1e-5·ρ, …, 1e-2·ρ. Near
   * the central path their LMIs keep a slack of about the gap per eigenvalue, where the last
   * iterate's can be below the certifier's rounding allowance: they are what the final iterate
   * is blended toward (costing at most their excess in ρ).
   */
  readonly checkpoints: readonly { readonly params: StageParams[]; readonly rho: number }[];
}

// ---------------------------------------------------------------- the affine model of a stage

/** A sparse vector in R^n (n = the stage's LMI size). */
interface Atom {
  readonly idx: Int32Array;
  readonly val: Float64Array;
}

/** Variable j of a stage: A_j = Σ_t coef_t · sym(atom a_t, atom b_t). */
interface VarTerms {
  readonly coef: Float64Array;
  readonly a: Int32Array;
  readonly b: Int32Array;
}

/** Which matrix / vector of StageParams a local variable belongs to. */
type LocalRef = { kind: 'P1' | 'P2'; sys: number; i: number; j: number } | { kind: 'lamInt'; qc: number; i: number } | { kind: 'lamOut'; i: number };

interface StageModel {
  readonly st: Stage;
  readonly n: number;
  readonly atoms: Atom[];
  /** Constant part (n × n): −GᵀG for the last stage, else null. */
  readonly constant: Float64Array | null;
  /** Variables in order [incoming weight (nq), local (nl), outgoing weight (no)]. */
  readonly vars: VarTerms[];
  /** `vars` in flat arrays, for the HKM Hessian's inner loops. */
  readonly terms: FlatTerms;
  readonly nq: number;
  readonly nl: number;
  readonly no: number;
  readonly local: LocalRef[];
  /** The storage matrices' blocks (P1, P2 of each system), whose variables are [pStart, pEnd). */
  readonly pBlocks: PBlock[];
  readonly pStart: number;
  readonly pEnd: number;
}

/**
 * The variables of one symmetric storage block P (cnt × cnt): entry (i, j ≥ i) is variable
 * v0 + i·cnt − i(i − 1)/2 + (j − i), with the terms w·sym(u_i, u_j) − w·sym(f_i, f_j)
 * (w = 1 on the diagonal, else 2; u_i the unit atom of state i, f_i its row of F).
 */
interface PBlock {
  readonly v0: number;
  readonly cnt: number;
  readonly unit: Int32Array;
  readonly f: Int32Array;
}

/** Entries of an interface weight: upper triangle of a c × c matrix, or its diagonal. */
function weightEntries(c: number, diag: boolean): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < c; i++) for (let j = diag ? i : i; j < (diag ? i + 1 : c); j++) out.push([i, j]);
  return out;
}

/**
 * The stage's LMI as constant + Σ x_j A_j, in exactly the terms of stages.ts /
 * chain-certify.ts assembleStageLmi. `first`: the incoming weight is ρ·I (one variable).
 * `inDiag` / `outDiag`: the incoming / outgoing weight is diagonal (max pooling).
 */
function buildModel(st: Stage, first: boolean, inDiag: boolean): StageModel {
  const nz = st.nz;
  const m = st.out.G.rows;
  const n = lmiSize(st);
  const atoms: Atom[] = [];
  const units = new Map<number, number>();
  const unit = (i: number): number => {
    let a = units.get(i);
    if (a === undefined) {
      a = atoms.length;
      atoms.push({ idx: Int32Array.of(i), val: Float64Array.of(1) });
      units.set(i, a);
    }
    return a;
  };
  const dense = (v: Float64Array): number => {
    const idx: number[] = [];
    const val: number[] = [];
    for (let i = 0; i < v.length; i++)
      if (v[i] !== 0) {
        idx.push(i);
        val.push(v[i]!);
      }
    atoms.push({ idx: Int32Array.from(idx), val: Float64Array.from(val) });
    return atoms.length - 1;
  };
  const mk = (terms: [number, number, number][]): VarTerms => ({
    coef: Float64Array.from(terms.map((t) => t[0])),
    a: Int32Array.from(terms.map((t) => t[1])),
    b: Int32Array.from(terms.map((t) => t[2])),
  });
  const vars: VarTerms[] = [];
  // Incoming weight on u (I_rep ⊗ Q or Q ⊗ I_rep, stages.ts StageInput).
  const { c, rep } = st.qin;
  const uPos = (p: number, i: number): number => qinIndex(st.qin, p, i);
  if (first) {
    const t: [number, number, number][] = [];
    for (let p = 0; p < rep; p++) for (let i = 0; i < c; i++) t.push([1, unit(uPos(p, i)), unit(uPos(p, i))]);
    vars.push(mk(t));
  } else
    for (const [i, j] of weightEntries(c, inDiag)) {
      const t: [number, number, number][] = [];
      for (let p = 0; p < rep; p++) t.push([i === j ? 1 : 2, unit(uPos(p, i)), unit(uPos(p, j))]);
      vars.push(mk(t));
    }
  const nq = vars.length;
  const local: LocalRef[] = [];
  const pBlocks: PBlock[] = [];
  // Dissipation: blkdiag(P, 0) − FᵀPF on (x, input) ⇒ P_ab ↦ sym(s_a, s_b) − sym(f_a, f_b).
  st.systems.forEach((sy, sys) => {
    const nx = sy.nx1 + sy.nx2;
    const d = nx + sy.nin;
    const F = systemF(sy);
    const at = (q: number): number => (q < nx ? sy.xOff + q : sy.inOff + q - nx);
    const fAtom: number[] = [];
    for (let r = 0; r < nx; r++) {
      const v = new Float64Array(n);
      for (let q = 0; q < d; q++) v[at(q)] += F[r * d + q]!;
      fAtom.push(dense(v));
    }
    for (const [kind, lo, cnt] of [['P1', 0, sy.nx1], ['P2', sy.nx1, sy.nx2]] as const) {
      if (cnt > 0) pBlocks.push({ v0: vars.length, cnt, unit: Int32Array.from({ length: cnt }, (_, i) => unit(sy.xOff + lo + i)), f: Int32Array.from({ length: cnt }, (_, i) => fAtom[lo + i]!) });
      for (let i = 0; i < cnt; i++)
        for (let j = i; j < cnt; j++) {
          const w = i === j ? 1 : 2;
          vars.push(mk([[w, unit(sy.xOff + lo + i), unit(sy.xOff + lo + j)], [-w, fAtom[lo + i]!, fAtom[lo + j]!]]));
          local.push({ kind, sys, i, j });
        }
    }
  });
  const pEnd = vars.length;
  // Quadratic constraints: λ_k ↦ 2a·sym(g_k, g_k) − 2c·sym(g_k, e_w) + 2·sym(e_w, e_w).
  const qcVars = (G: { rows: number; data: Float64Array }, a: number, cc: number, wOff: number, ref: (k: number) => LocalRef): void => {
    for (let k = 0; k < G.rows; k++) {
      const g = new Float64Array(n);
      for (let i = 0; i < nz; i++) g[i] = G.data[k * nz + i]!;
      const ga = dense(g);
      const t: [number, number, number][] = [];
      if (a !== 0) t.push([2 * a, ga, ga]);
      if (cc !== 0) t.push([-2 * cc, ga, unit(wOff + k)]);
      t.push([2, unit(wOff + k), unit(wOff + k)]);
      vars.push(mk(t));
      local.push(ref(k));
    }
  };
  st.internal.forEach((qc, q) => qcVars(qc.G, qc.a, qc.c, qc.wOff, (i) => ({ kind: 'lamInt', qc: q, i })));
  let constant: Float64Array | null = null;
  if (st.last) {
    constant = new Float64Array(n * n);
    const G = st.out.G.data;
    for (let k = 0; k < m; k++)
      for (let i = 0; i < nz; i++) {
        const gi = G[k * nz + i]!;
        if (gi === 0) continue;
        for (let j = 0; j < nz; j++) constant[i * n + j] -= gi * G[k * nz + j]!;
      }
  } else qcVars(st.out.G, st.out.a, st.out.c, nz, (i) => ({ kind: 'lamOut', i }));
  const nl = vars.length - nq;
  // Outgoing weight: −μ·Q_out on the w block.
  if (!st.last)
    for (const [i, j] of weightEntries(m, st.pool.diag)) vars.push(mk([[-(i === j ? 1 : 2) * st.pool.mu, unit(nz + i), unit(nz + j)]]));
  return { st, n, atoms, constant, vars, terms: flatTerms(vars), nq, nl, no: vars.length - nq - nl, local, pBlocks, pStart: nq, pEnd };
}

// ---------------------------------------------------------------- per-stage barrier derivatives

/**
 * M(x) for the stage's variables x (length nq + nl + no). With the atoms as the rows of a sparse
 * matrix X (na × n) and Ŵ the symmetric na × na weights of the atom pairs (Σ_j x_j·coef over
 * the terms sym(a, b)), M = constant + XᵀŴX: T = ŴX row by row, then M += Σ_a x_a ⊗ T_a. That
 * costs nnz(X)·n where expanding each term sym(a, b) costs nnz(a)·nnz(b) (a Roesser map's dense
 * rows meet each other once per storage entry: 30× more on a 16-channel conv stage).
 */
function assemble(md: StageModel, x: Float64Array): Float64Array {
  const n = md.n;
  const na = md.atoms.length;
  const { start, coef, a: ta, b: tb } = md.terms;
  const T = new Float64Array(na * n);
  const used = new Uint8Array(na);
  const addAtom = (row: number, w: number, atom: Atom): void => {
    used[row] = 1;
    const o = row * n;
    for (let p = 0; p < atom.idx.length; p++) T[o + atom.idx[p]!] += w * atom.val[p]!;
  };
  for (let j = 0; j < md.vars.length; j++) {
    const xj = x[j]!;
    if (xj === 0) continue;
    for (let t = start[j]!; t < start[j + 1]!; t++) {
      const w = 0.5 * xj * coef[t]!;
      addAtom(ta[t]!, w, md.atoms[tb[t]!]!);
      addAtom(tb[t]!, w, md.atoms[ta[t]!]!);
    }
  }
  const M = md.constant ? Float64Array.from(md.constant) : new Float64Array(n * n);
  for (let a = 0; a < na; a++) {
    if (!used[a]) continue;
    const atom = md.atoms[a]!;
    const o = a * n;
    for (let p = 0; p < atom.idx.length; p++) {
      const r = atom.idx[p]! * n;
      const v = atom.val[p]!;
      for (let q = 0; q < n; q++) M[r + q] += v * T[o + q]!;
    }
  }
  return symmetrised(M, n);
}

/** Cholesky of M(x) (lower, in place) and log det, or null outside the cone. */
function factorStage(md: StageModel, x: Float64Array): { L: Float64Array; logDet: number } | null {
  const L = assemble(md, x);
  if (!partialCholesky(L, md.n, md.n)) return null;
  let s = 0;
  for (let i = 0; i < md.n; i++) s += 2 * Math.log(L[i * md.n + i]!);
  return Number.isFinite(s) ? { L, logDet: s } : null;
}

// ---------------------------------------------------------------- small dense helpers

/**
 * Partial Cholesky (linalg/cholesky.ts partialCholesky) of the symmetric n × n matrix that
 * `build` returns (a fresh array per call: the first attempt factors it in place, a retry
 * rebuilds it), over its leading `p` rows, with a relative ridge on that block's diagonal when it
 * is numerically singular. The trailing block comes back as the Schur complement.
 */
function cholRidge(build: () => Float64Array, n: number, p = n): Float64Array {
  let diag: Float64Array | null = null;
  let dmax = 0;
  for (let ridge = 0; ; ridge = ridge === 0 ? 1e-14 : ridge * 100) {
    const L = build();
    if (!diag) {
      diag = new Float64Array(p);
      for (let i = 0; i < p; i++) dmax = Math.max(dmax, (diag[i] = Math.abs(L[i * n + i]!)));
    }
    // Relative to each diagonal entry: the local and interface blocks differ in scale by orders
    // of magnitude, one ridge for both would swamp the smaller.
    if (ridge > 0) for (let i = 0; i < p; i++) L[i * n + i] += ridge * (diag[i] || dmax || 1);
    if (partialCholesky(L, n, p)) return L;
    if (ridge > 1) throw new Error('newton-chain: Hessian block not positive definite');
  }
}

// ---------------------------------------------------------------- the chain Newton system

/**
 * Factorisation of the block-tridiagonal Newton system. Ordered stage by stage as
 * [l_0, y_0, l_1, y_1, …] (l_k stage k's local variables, y_k the interface weight Q_k; y_0 = ρ),
 * the system's Cholesky factor has, per stage, a leading lower-triangular block on [l_k, y_k] and
 * a coupling block from it to y_{k+1} only: l_k meets y_k and y_{k+1}, nothing else. So one
 * partial Cholesky per stage (linalg/cholesky.ts) of stage k's Hessian over [l_k, y_k, y_{k+1}],
 * with the Schur complement the stages before left on y_k added to its y_k block, factors
 * everything: its trailing block is what stage k leaves on y_{k+1}. Cost linear in the number of
 * stages.
 */
interface ChainFactor {
  solve(rhs: Float64Array[][]): Float64Array[][];
}

/** Stage k's block sizes in the chain factor: nv = all its variables, np = those it eliminates. */
function blockSizes(md: StageModel): { nq: number; nl: number; no: number; nv: number; np: number } {
  const { nq, nl, no } = md;
  return { nq, nl, no, nv: nq + nl + no, np: nl + nq };
}

/**
 * `hess[k]` over stage k's [q_k, l_k, q_{k+1}], consumed: each is released once factored (with
 * wide dense stages the Hessians and factors are hundreds of MB together). rhs / result per
 * stage: [y_k, l_k] (y of size nq_k, l of size nl_k).
 */
function factorChain(models: readonly StageModel[], hess: Float64Array[]): ChainFactor {
  const K = models.length;
  /** Stage k's partial factor over [l_k, y_k, y_{k+1}] (nv × nv, row-major). */
  const F: Float64Array[] = [];
  let carry: Float64Array | null = null;
  for (let k = 0; k < K; k++) {
    const { nq, nl, no, nv, np } = blockSizes(models[k]!);
    const H = hess[k]!;
    const order = [...Array.from({ length: nl }, (_, i) => nq + i), ...Array(nq).keys(), ...Array.from({ length: no }, (_, i) => nq + nl + i)];
    const prev = carry;
    // The stage's Hessian in the order [l_k, y_k, y_{k+1}], lower triangle, from the upper
    // triangle hkmHessian fills; plus what the stages before left on y_k.
    const build = (): Float64Array => {
      const P = new Float64Array(nv * nv);
      // In 32 × 32 tiles: most entries come from the transposed position (a column walk through
      // H), which row by row would touch a new cache line per entry.
      for (let ib = 0; ib < nv; ib += 32)
        for (let jb = 0; jb <= ib; jb += 32)
          for (let i = ib; i < Math.min(ib + 32, nv); i++) {
            const oi = order[i]!;
            for (let j = jb; j < Math.min(jb + 32, i + 1); j++) {
              const oj = order[j]!;
              P[i * nv + j] = oi <= oj ? H[oi * nv + oj]! : H[oj * nv + oi]!;
            }
          }
      if (prev) for (let i = 0; i < nq; i++) for (let j = 0; j <= i; j++) P[(nl + i) * nv + nl + j] += prev[i * nq + j]!;
      return P;
    };
    const Fk = cholRidge(build, nv, np);
    hess[k] = new Float64Array(0);
    F.push(Fk);
    carry = null;
    if (no > 0) {
      const c = new Float64Array(no * no);
      for (let i = 0; i < no; i++) for (let j = 0; j <= i; j++) c[i * no + j] = c[j * no + i] = Fk[(np + i) * nv + np + j]!;
      carry = c;
    }
  }
  return {
    solve(rhs) {
      // Forward: v_k = L_kk⁻¹(r_k − what stage k − 1 pushed onto y_k), then push L_{o,k} v_k.
      const v: Float64Array[] = [];
      let push: Float64Array | null = null;
      for (let k = 0; k < K; k++) {
        const { nq, nl, no, nv, np } = blockSizes(models[k]!);
        const Fk = F[k]!;
        const w = new Float64Array(np);
        w.set(rhs[k]![1]!, 0);
        w.set(rhs[k]![0]!, nl);
        if (push) for (let i = 0; i < nq; i++) w[nl + i] -= push[i]!;
        for (let i = 0; i < np; i++) {
          const r = i * nv;
          let s = w[i]!;
          for (let j = 0; j < i; j++) s -= Fk[r + j]! * w[j]!;
          w[i] = s / Fk[r + i]!;
        }
        push = new Float64Array(no);
        for (let j = 0; j < no; j++) {
          const r = (np + j) * nv;
          let s = 0;
          for (let i = 0; i < np; i++) s += Fk[r + i]! * w[i]!;
          push[j] = s;
        }
        v.push(w);
      }
      // Backward: x_k = L_kkᵀ⁻¹(v_k − L_{o,k}ᵀ y_{k+1}).
      const out: Float64Array[][] = new Array(K);
      let next: Float64Array | null = null;
      for (let k = K - 1; k >= 0; k--) {
        const { nq, nl, no, nv, np } = blockSizes(models[k]!);
        const Fk = F[k]!;
        const w = v[k]!;
        if (next)
          for (let j = 0; j < no; j++) {
            const r = (np + j) * nv;
            const yj = next[j]!;
            if (yj !== 0) for (let i = 0; i < np; i++) w[i] -= Fk[r + i]! * yj;
          }
        for (let i = np - 1; i >= 0; i--) {
          const r = i * nv;
          const xi = w[i]! / Fk[r + i]!;
          w[i] = xi;
          if (xi !== 0) for (let j = 0; j < i; j++) w[j] -= Fk[r + j]! * xi;
        }
        const y = w.slice(nl, np);
        out[k] = [y, w.slice(0, nl)];
        next = y;
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------- iterate layout

/** Iterate: per stage [y_k, l_k] (y_0 = [ρ]). */
type Iterate = Float64Array[][];

function stageVector(models: readonly StageModel[], x: Iterate, k: number): Float64Array {
  const md = models[k]!;
  const v = new Float64Array(md.nq + md.nl + md.no);
  v.set(x[k]![0]!, 0);
  v.set(x[k]![1]!, md.nq);
  if (md.no > 0) v.set(x[k + 1]![0]!, md.nq + md.nl);
  return v;
}

function axpy(x: Iterate, a: number, d: Iterate): Iterate {
  return x.map((blk, k) => blk.map((v, i) => plus(v, a, d[k]![i]!)));
}


/** StageParams from the local variables (and diagonal shapes from the outgoing weights). */
function toParams(models: readonly StageModel[], x: Iterate): StageParams[] {
  return models.map((md, k) => {
    const st = md.st;
    const P = st.systems.map((sy) => ({ P1: new Float64Array(sy.nx1 * sy.nx1), P2: new Float64Array(sy.nx2 * sy.nx2) }));
    const lamInt = st.internal.map((q) => new Float64Array(q.G.rows));
    const lamOut = st.last ? null : new Float64Array(st.out.G.rows);
    const l = x[k]![1]!;
    md.local.forEach((ref, i) => {
      const v = l[i]!;
      if (ref.kind === 'P1' || ref.kind === 'P2') {
        const sy = st.systems[ref.sys]!;
        const nn = ref.kind === 'P1' ? sy.nx1 : sy.nx2;
        const M = P[ref.sys]![ref.kind];
        M[ref.i * nn + ref.j] = M[ref.j * nn + ref.i] = v;
      } else if (ref.kind === 'lamInt') lamInt[ref.qc]![ref.i] = v;
      else lamOut![ref.i] = v;
    });
    const diagShape = !st.last && st.pool.diag ? Float64Array.from(x[k + 1]![0]!) : null;
    return { P, lamInt, lamOut, diagShape };
  });
}

/** Local variables from StageParams (inverse of toParams). */
function localsOf(md: StageModel, prm: StageParams): Float64Array {
  const st = md.st;
  return Float64Array.from(
    md.local.map((ref) => {
      if (ref.kind === 'P1' || ref.kind === 'P2') {
        const sy = st.systems[ref.sys]!;
        const nn = ref.kind === 'P1' ? sy.nx1 : sy.nx2;
        return prm.P[ref.sys]![ref.kind][ref.i * nn + ref.j]!;
      }
      return ref.kind === 'lamInt' ? prm.lamInt[ref.qc]![ref.i]! : prm.lamOut![ref.i]!;
    }),
  );
}

function weightVector(Q: Float64Array, c: number, diag: boolean): Float64Array {
  return Float64Array.from(weightEntries(c, diag).map(([i, j]) => Q[i * c + j]!));
}

export function buildModels(stages: readonly Stage[]): StageModel[] {
  return stages.map((st, k) => buildModel(st, k === 0, k > 0 && stages[k - 1]!.pool.diag));
}

/**
 * A strictly feasible iterate from any multipliers that the recursion accepts: scale them so the
 * chain is feasible with slack at ρ = g·f, and take the recursion's weights minus a margin as
 * the interface variables (docs/method.md §6.1: any Q_out ⪯ Q* keeps M_k ⪰ 0; the margin makes it
 * strict). Null when no such point is found.
 */
function feasibleStart(models: readonly StageModel[], start: readonly StageParams[], margin: number): Iterate | null {
  const stages = models.map((m) => m.st);
  const r0 = runRecursion(stages, start, { rho: 1 });
  if (!r0 || !(r0.g > 0) || !Number.isFinite(r0.g)) return null;
  // Scaling ρ and the multipliers together changes only the last block (homogeneity), so a
  // margin that makes an inner N_k indefinite is not cured by a larger ρ: try smaller margins.
  // (Starts whose stage multipliers were optimised alone sit near the boundary of N_k.)
  for (let mg = margin, tries = 0; tries < 24; tries++, mg = tries % 6 === 0 ? mg / 100 : mg) {
    const f = 1.01 * 2 ** (tries % 6);
    const rho = r0.g * f;
    const prm = scaleParams(start, rho);
    const r = runRecursion(stages, prm, { rho, margin: mg });
    if (!r || !(r.g < 1)) continue;
    const x: Iterate = models.map((md, k) => {
      const y = k === 0 ? Float64Array.of(rho) : weightVector(r.qs[k - 1]!, md.st.qin.c, stages[k - 1]!.pool.diag);
      return [y, localsOf(md, prm[k]!)];
    });
    if (models.every((md, k) => factorStage(md, stageVector(models, x, k)))) return x;
  }
  return null;
}

/** Cholesky factor of a symmetric matrix (copy), or null if not positive definite. */
function chol(A: Float64Array, n: number): Float64Array | null {
  const L = Float64Array.from(A);
  return partialCholesky(L, n, n) ? L : null;
}

/**
 * X·ΔS·Y for symmetric n × n X and ΔS, ΔS sparse (a step of the stage LMI: the stage's block
 * pattern). X·ΔS = (ΔS·X)ᵀ costs nnz(ΔS)·n instead of n³; the same products in the same order.
 */
function timesSparseTimes(X: Float64Array, dS: Float64Array, Y: Float64Array, n: number): Float64Array {
  const SX = mulSparseLeft(dS, X, n, n, n);
  const XS = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) XS[i * n + j] = SX[j * n + i]!;
  return mul(XS, Y, n);
}

/** Largest α with S + αD ⪰ 0 (Infinity if every α ≥ 0 works), from the Cholesky factor L of S. */
function maxStep(L: Float64Array, D: Float64Array, n: number): number {
  const B = Float64Array.from(D);
  forwardSubstMany(L, n, B, n); // L⁻¹D
  const T = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) T[i * n + j] = B[j * n + i]!;
  forwardSubstMany(L, n, T, n); // L⁻¹(L⁻¹D)ᵀ = L⁻¹DL⁻ᵀ
  const lmin = symEigenvalues(T, n)[0]!;
  return lmin < 0 ? -1 / lmin : Infinity;
}

/**
 * min(cap, the largest α with S + αD ⪰ 0), S with Cholesky factor L: the step lengths are
 * minima over the stages, and for most stages S + cap·D (cap = the minimum so far) has a Cholesky
 * factor, which settles that stage at n³/3 multiply-adds instead of an eigenvalue problem
 * (measured: the eigenvalues took 0.8 s of cnn_C17_CH8's 6.6 s). Equal to
 * min(cap, maxStep(L, D, n)) up to rounding at the boundary.
 */
function stepWithin(S: Float64Array, L: Float64Array, D: Float64Array, n: number, cap: number): number {
  // plus() makes a fresh matrix: factor it in place (chol() would copy it again).
  if (partialCholesky(plus(S, cap, D), n, n)) return cap;
  return Math.min(cap, maxStep(L, D, n));
}

/**
 * A_k*(Y)_j = tr(A_j Y) for a symmetric Y over the stage's variables, from its atom Gram
 * G = XᵀYX (atomGram): tr(sym(a, b)·Y) = aᵀYb = G_ab.
 */
function adjointFromGram(md: StageModel, G: Float64Array): Float64Array {
  const na = md.atoms.length;
  const { start, coef, a: ta, b: tb } = md.terms;
  const out = new Float64Array(md.vars.length);
  for (let j = 0; j < out.length; j++) {
    let s = 0;
    for (let t = start[j]!; t < start[j + 1]!; t++) s += coef[t]! * G[ta[t]! * na + tb[t]!]!;
    out[j] = s;
  }
  return out;
}

/**
 * Atom Gram matrix G = XYXᵀ (na × na) of a symmetric Y, X the atoms as rows: first XY row by
 * row (row a = Σ_p x_ap·Y_p, Y's rows being its columns), then G row by row from (XY)ᵀ = YXᵀ —
 * both passes over contiguous rows.
 */
function atomGram(md: StageModel, Y: Float64Array): Float64Array {
  const n = md.n;
  const na = md.atoms.length;
  const XY = new Float64Array(na * n);
  md.atoms.forEach((a, j) => addAtomTimesRows(XY, j * n, a, Y, n));
  const YX = new Float64Array(n * na);
  for (let j = 0; j < na; j++) for (let i = 0; i < n; i++) YX[i * na + j] = XY[j * n + i]!;
  const G = new Float64Array(na * na);
  md.atoms.forEach((a, i) => addAtomTimesRows(G, i * na, a, YX, na));
  return symmetrised(G, na);
}

/** out[o + q] += Σ_p a.val[p]·src[a.idx[p]·w + q] for q < w: the atom (a sparse row) times src (rows of width w). */
function addAtomTimesRows(out: Float64Array, o: number, a: Atom, src: Float64Array, w: number): void {
  for (let p = 0; p < a.idx.length; p++) {
    const r = a.idx[p]! * w;
    const v = a.val[p]!;
    for (let q = 0; q < w; q++) out[o + q] += v * src[r + q]!;
  }
}

/**
 * HKM Schur matrix of a stage, H_ij = tr(A_i Z A_j S⁻¹) (Helmberg, Rendl, Vanderbei & Wolkowicz
 * 1996; Kojima, Shindoh & Hara 1997; Monteiro 1997), from the atom Grams J = XᵀZX, K = XᵀS⁻¹X:
 * tr(sym(a,b) Z sym(c,d) S⁻¹) = (J_bc K_da + J_bd K_ca + J_ac K_db + J_ad K_cb)/4.
 * Only the upper triangle (j ≥ i) is filled: factorChain reads that.
 */
function hkmHessian(md: StageModel, J: Float64Array, K: Float64Array): Float64Array {
  const na = md.atoms.length;
  const nv = md.vars.length;
  const { start, coef, a: ta, b: tb, owner } = md.terms;
  const H = new Float64Array(nv * nv);
  const total = start[nv]!;
  const { pStart, pEnd } = md;
  // Row i of H: for each of variable i's terms, one pass over the terms of every variable j ≥ i
  // (one flat loop, accumulating into row i by the term's owner), with that term's four rows of J
  // and K at hand: far fewer short loops and branches than a loop per pair (i, j). Pairs of
  // storage-matrix variables are left to hkmStorage.
  for (let i = 0; i < nv; i++) {
    const row = i * nv;
    const q0 = i >= pStart && i < pEnd ? start[pEnd]! : start[i]!;
    for (let t = start[i]!; t < start[i + 1]!; t++) {
      const a = ta[t]! * na;
      const b = tb[t]! * na;
      const ct = 0.25 * coef[t]!;
      for (let q = q0; q < total; q++) {
        const c = ta[q]!;
        const d = tb[q]!;
        H[row + owner[q]!] += ct * coef[q]! * (J[b + c]! * K[a + d]! + J[b + d]! * K[a + c]! + J[a + c]! * K[b + d]! + J[a + d]! * K[b + c]!);
      }
    }
  }
  hkmStorage(md, J, K, H);
  return H;
}

/**
 * The HKM entries between two storage variables α = (a, b) of block A and β = (c, d) of block B
 * (β ≥ α, upper triangle of H). With both terms expanded (classes s, t ∈ {unit, F row}, signs
 * σ_u = 1, σ_f = −1),
 *   H_αβ = w_α·w_β/4 · Σ_{s,t} σ_s·σ_t·(J_bc K_ad + J_bd K_ac + J_ac K_bd + J_ad K_bc),
 * J_xy = J(atom_s(x), atom_t(y)) and the same for K: for fixed α and c, four products of a scalar
 * and a contiguous row over d per class pair, on J and K gathered per block pair. The same sums
 * as the term-by-term loop, without its index loads and gathers (7× faster on 16-channel stages).
 */
function hkmStorage(md: StageModel, J: Float64Array, K: Float64Array, H: Float64Array): void {
  const na = md.atoms.length;
  const nv = md.vars.length;
  const blocks = md.pBlocks;
  for (let A = 0; A < blocks.length; A++)
    for (let B = A; B < blocks.length; B++) {
      const bA = blocks[A]!;
      const bB = blocks[B]!;
      const nA = bA.cnt;
      const nB = bB.cnt;
      // g[2s + t]: J and K between block A's class-s atoms and block B's class-t atoms (nA × nB).
      const gJ: Float64Array[] = [];
      const gK: Float64Array[] = [];
      for (const sa of [bA.unit, bA.f])
        for (const tb of [bB.unit, bB.f]) {
          const mJ = new Float64Array(nA * nB);
          const mK = new Float64Array(nA * nB);
          for (let x = 0; x < nA; x++)
            for (let y = 0; y < nB; y++) {
              mJ[x * nB + y] = J[sa[x]! * na + tb[y]!]!;
              mK[x * nB + y] = K[sa[x]! * na + tb[y]!]!;
            }
          gJ.push(mJ);
          gK.push(mK);
        }
      const [J0, J1, J2, J3] = gJ as [Float64Array, Float64Array, Float64Array, Float64Array];
      const [K0, K1, K2, K3] = gK as [Float64Array, Float64Array, Float64Array, Float64Array];
      const offA = (i: number): number => bA.v0 + i * nA - (i * (i - 1)) / 2;
      const offB = (i: number): number => bB.v0 + i * nB - (i * (i - 1)) / 2;
      for (let a = 0; a < nA; a++)
        for (let b = a; b < nA; b++) {
          const alpha = offA(a) + (b - a);
          const row = alpha * nv;
          const wa = (a === b ? 1 : 2) / 4;
          const ra = a * nB;
          const rb = b * nB;
          for (let c = A === B ? a : 0; c < nB; c++) {
            const d0 = A === B && c === a ? b : c;
            // The sixteen scalars, class signs σ_s·σ_t folded in (classes uu, uf, fu, ff).
            const p0 = J0[rb + c]!, q0 = K0[ra + c]!, r0 = J0[ra + c]!, t0 = K0[rb + c]!; // prettier-ignore
            const p1 = -J1[rb + c]!, q1 = -K1[ra + c]!, r1 = -J1[ra + c]!, t1 = -K1[rb + c]!; // prettier-ignore
            const p2 = -J2[rb + c]!, q2 = -K2[ra + c]!, r2 = -J2[ra + c]!, t2 = -K2[rb + c]!; // prettier-ignore
            const p3 = J3[rb + c]!, q3 = K3[ra + c]!, r3 = J3[ra + c]!, t3 = K3[rb + c]!; // prettier-ignore
            const at = row + offB(c) - c;
            for (let d = d0; d < nB; d++) {
              const v =
                p0 * K0[ra + d]! + q0 * J0[rb + d]! + r0 * K0[rb + d]! + t0 * J0[ra + d]! +
                p1 * K1[ra + d]! + q1 * J1[rb + d]! + r1 * K1[rb + d]! + t1 * J1[ra + d]! +
                p2 * K2[ra + d]! + q2 * J2[rb + d]! + r2 * K2[rb + d]! + t2 * J2[ra + d]! +
                p3 * K3[ra + d]! + q3 * J3[rb + d]! + r3 * K3[rb + d]! + t3 * J3[ra + d]!; // prettier-ignore
              H[at + d] = (d === c ? wa : 2 * wa) * v;
            }
          }
        }
    }
}

/** Variables' terms in flat arrays: variable i owns terms start[i] … start[i + 1] − 1. */
interface FlatTerms {
  readonly start: Int32Array;
  /** The variable each term belongs to. */
  readonly owner: Int32Array;
  readonly coef: Float64Array;
  readonly a: Int32Array;
  readonly b: Int32Array;
}

function flatTerms(vars: readonly VarTerms[]): FlatTerms {
  const start = new Int32Array(vars.length + 1);
  vars.forEach((v, i) => (start[i + 1] = start[i]! + v.coef.length));
  const total = start[vars.length]!;
  const coef = new Float64Array(total);
  const a = new Int32Array(total);
  const b = new Int32Array(total);
  const owner = new Int32Array(total);
  vars.forEach((v, i) => {
    owner.fill(i, start[i]!, start[i + 1]!);
    coef.set(v.coef, start[i]!);
    a.set(v.a, start[i]!);
    b.set(v.b, start[i]!);
  });
  return { start, owner, coef, a, b };
}

/**
 * Minimise ρ subject to every stage LMI, from the multipliers `start` (any scale; the recursion
 * must accept them). Returns null when no strictly feasible start could be built.
 *
 * Primal-dual path following with the HKM direction and Mehrotra's predictor-corrector
 * (Mehrotra, SIAM J. Optim. 2 (1992); for SDP e.g. Todd, Toh & Tütüncü 1998). With S_k = M_k(x)
 * and dual matrices Z_k ⪰ 0, the optimality conditions are Σ_k A_k*(Z_k) = e_ρ, Z_k S_k = μI.
 * Eliminating ΔZ = σμS⁻¹ − Z − sym(ZΔS S⁻¹) − sym(ΔZ_aΔS_a S⁻¹) leaves
 *   H Δx = σμ A*(S⁻¹) − e_ρ − A*(sym(ΔZ_aΔS_aS⁻¹)),   H_ij = Σ_k tr(A_ki Z_k A_kj S_k⁻¹),
 * block-tridiagonal over the stages like the barrier Hessian (factorChain). x stays strictly
 * feasible (it is what the certifier gets); Z may start infeasible (Z = μ₀S⁻¹) and its residual
 * shrinks by (1 − α_d) per step.
 */
/** Relative gaps at which an iterate is kept (NewtonResult.checkpoints). */
const CHECKPOINT_GAPS = [1e-2, 1e-3, 1e-4, 1e-5];

export async function newtonChain(stages: readonly Stage[], start: readonly StageParams[], opts: NewtonOptions = {}): Promise<NewtonResult | null> {
  const budget = opts.budget ?? UNLIMITED;
  const models = buildModels(stages);
  let x = feasibleStart(models, start, opts.startMargin ?? 1e-2);
  if (!x) return null;
  const relGap = opts.relGap ?? 1e-6;
  const maxNewton = opts.maxNewton ?? 200;
  const K = models.length;
  const nu = models.reduce((s, md) => s + md.n, 0);
  const zeroIt = (): Iterate => models.map((md) => [new Float64Array(md.nq), new Float64Array(md.nl)]);
  /** Adds a stage vector (over [q_k, l_k, q_{k+1}]) into the chain layout. */
  const scatter = (into: Iterate, k: number, v: Float64Array, f = 1): void => {
    const md = models[k]!;
    for (let i = 0; i < md.nq; i++) into[k]![0]![i] += f * v[i]!;
    for (let i = 0; i < md.nl; i++) into[k]![1]![i] += f * v[md.nq + i]!;
    for (let i = 0; i < md.no; i++) into[k + 1]![0]![i] += f * v[md.nq + md.nl + i]!;
  };
  /** ΔS_k = Σ_j Δx_j A_kj (no constant). */
  const deltaS = (d: Iterate, k: number): Float64Array => assemble({ ...models[k]!, constant: null }, stageVector(models, d, k));

  let S = models.map((md, k) => assemble(md, stageVector(models, x!, k)));
  let LS = S.map((M, k) => chol(M, models[k]!.n)!);
  // Z = μ₀S⁻¹ is exactly central (ZS = μ₀I) but not dual feasible; μ₀ sets the start's gap
  // ν·μ₀ = 10ρ₀ (measured on the paper chains: smaller starts take more steps).
  const rho0 = x[0]![0]![0]!;
  const mu0 = rho0 / ((opts.t0Gap ?? 0.1) * nu);
  let Z: Float64Array[] = LS.map((L, k) => symmetrised(inverseFromCholesky(L, models[k]!.n), models[k]!.n).map((v) => v * mu0));
  let res0 = NaN;
  let iterations = 0;
  let converged = false;
  let lb = -Infinity;
  let stopped = false;
  const checkpoints: { params: StageParams[]; rho: number }[] = [];
  let nextCheckpoint = 0;
  for (; iterations < maxNewton; iterations++) {
    const rho = x[0]![0]![0]!;
    if (budget.expired()) {
      stopped = true;
      break;
    }
    const LZn = Z.map((Zk, k) => chol(Zk, models[k]!.n));
    // Rounding can leave a dual matrix on the boundary after a long step: stop with the current
    // (strictly feasible) primal iterate rather than step on a wrong direction.
    if (!LZn.every((L) => L)) break;
    const LZ = LZn as Float64Array[];
    const Sinv = LS.map((L, k) => inverseFromCholesky(L, models[k]!.n));
    let mu = 0;
    for (let k = 0; k < K; k++) mu += dot(Z[k]!, S[k]!);
    const gap = mu;
    mu /= nu;
    // Dual residual e_ρ − Σ A*(Z), and the dual objective Σ tr(GᵀG Z_last).
    const rd = zeroIt();
    rd[0]![0]![0] = 1;
    const aSinv = zeroIt();
    const hs: Float64Array[] = [];
    for (let k = 0; k < K; k++) {
      const md = models[k]!;
      const J = atomGram(md, Z[k]!);
      const Kg = atomGram(md, Sinv[k]!);
      hs.push(hkmHessian(md, J, Kg));
      await budget.yield();
      scatter(rd, k, adjointFromGram(md, J), -1);
      scatter(aSinv, k, adjointFromGram(md, Kg));
    }
    let resNorm = 0;
    rd.forEach((b) => b.forEach((v) => v.forEach((e) => (resNorm = Math.max(resNorm, Math.abs(e))))));
    if (!(res0 > 0)) res0 = Math.max(resNorm, 1e-300);
    const dobj = rho - gap; // exact when the dual residual is zero
    if (resNorm <= 1e-9 * res0) lb = Math.max(lb, dobj);
    opts.onIteration?.(iterations, rho, gap, resNorm / res0);
    while (nextCheckpoint < CHECKPOINT_GAPS.length && gap <= CHECKPOINT_GAPS[nextCheckpoint]! * rho) {
      if (checkpoints[0]?.rho !== rho) checkpoints.unshift({ params: toParams(models, x), rho });
      nextCheckpoint++;
    }
    if (gap <= relGap * rho && resNorm <= 1e-8 * res0) {
      converged = true;
      break;
    }
    const fac = factorChain(models, hs);
    await budget.yield();
    // Predictor (σ = 0): H Δx = −e_ρ.
    const rhsA = zeroIt();
    rhsA[0]![0]![0] = -1;
    const dxA = fac.solve(rhsA);
    const dSA = models.map((_, k) => deltaS(dxA, k));
    // ΔZ = sym(rest − Z·ΔS·S⁻¹), entry by entry as `entry(i, (ZΔSS⁻¹)_i)`.
    const dualDirection = (k: number, dSk: Float64Array, entry: (i: number, t: number) => number): Float64Array => {
      const n = models[k]!.n;
      const T = timesSparseTimes(Z[k]!, dSk, Sinv[k]!, n);
      const out = new Float64Array(n * n);
      for (let i = 0; i < n * n; i++) out[i] = entry(i, T[i]!);
      return symmetrised(out, n);
    };
    const dZA = models.map((_, k) => dualDirection(k, dSA[k]!, (i, t) => -Z[k]![i]! - t));
    let ap = 1;
    let ad = 1;
    for (let k = 0; k < K; k++) {
      const n = models[k]!.n;
      ap = stepWithin(S[k]!, LS[k]!, dSA[k]!, n, ap);
      ad = stepWithin(Z[k]!, LZ[k]!, dZA[k]!, n, ad);
    }
    let muAff = 0;
    for (let k = 0; k < K; k++) {
      muAff += dot(plus(S[k]!, ap, dSA[k]!), plus(Z[k]!, ad, dZA[k]!));
    }
    muAff /= nu;
    const sigma = Math.min(1, Math.max(opts.sigmaMin ?? 0.1, (muAff / mu) ** 3));
    // Corrector: H Δx = σμ A*(S⁻¹) − e_ρ − A*(sym(ΔZ_a ΔS_a S⁻¹)).
    const rhs = zeroIt();
    rhs[0]![0]![0] = -1;
    // The second-order term only helps where the predictor could go a long way (Mehrotra's
    // heuristic misleads far from the central path of an infeasible-dual start).
    const useCorr = Math.min(ap, ad) >= (opts.corrStep ?? 0.1);
    const corr = models.map((md, k) => (useCorr ? symmetrised(timesSparseTimes(dZA[k]!, dSA[k]!, Sinv[k]!, md.n), md.n) : new Float64Array(md.n * md.n)));
    aSinv.forEach((b, k) => b.forEach((v, i) => v.forEach((e, j) => (rhs[k]![i]![j] += sigma * mu * e))));
    for (let k = 0; k < K; k++) if (useCorr) scatter(rhs, k, adjointFromGram(models[k]!, atomGram(models[k]!, corr[k]!)), -1);
    const dx = fac.solve(rhs);
    const dS = models.map((_, k) => deltaS(dx, k));
    const dZ = models.map((_, k) => dualDirection(k, dS[k]!, (i, t) => sigma * mu * Sinv[k]![i]! - Z[k]![i]! - t - corr[k]![i]!));
    ap = 1;
    ad = 1;
    for (let k = 0; k < K; k++) {
      const n = models[k]!.n;
      // ap ≤ 0.95·α_max,k ⇔ α_max,k ≥ ap / 0.95.
      ap = 0.95 * stepWithin(S[k]!, LS[k]!, dS[k]!, n, ap / 0.95);
      ad = 0.95 * stepWithin(Z[k]!, LZ[k]!, dZ[k]!, n, ad / 0.95);
    }
    // Primal step: x must stay strictly feasible in the recomputed (not updated) S = M(x).
    let moved = false;
    for (let tries = 0; tries < 30; tries++, ap *= 0.5) {
      const xn = axpy(x, ap, dx);
      const Sn = models.map((md, k) => assemble(md, stageVector(models, xn, k)));
      const Ln = Sn.map((M, k) => chol(M, models[k]!.n));
      if (Ln.every((L) => L)) {
        x = xn;
        S = Sn;
        LS = Ln as Float64Array[];
        moved = true;
        break;
      }
    }
    if (!moved) break;
    Z = Z.map((Zk, k) => symmetrised(plus(Zk, ad, dZ[k]!), models[k]!.n));
  }
  return { params: toParams(models, x), rho: x[0]![0]![0]!, lowerBound: lb, iterations, converged, stopped, checkpoints };
}

/**
 * Variables of the largest stage-local block and of the largest interface weight, and the
 * largest LMI: what one Newton step's dense work grows with (local block Cholesky ~ nl³/3 per
 * stage; interface blocks ~ nq³).
 */
export function newtonSize(stages: readonly Stage[]): { local: number; iface: number; lmi: number } {
  let local = 0;
  let iface = 0;
  let lmi = 0;
  stages.forEach((st, k) => {
    let nl = st.internal.reduce((s, q) => s + q.G.rows, 0) + (st.last ? 0 : st.out.G.rows);
    for (const sy of st.systems) nl += (sy.nx1 * (sy.nx1 + 1)) / 2 + (sy.nx2 * (sy.nx2 + 1)) / 2;
    const c = st.qin.c;
    const diag = k > 0 && stages[k - 1]!.pool.diag;
    local = Math.max(local, nl);
    iface = Math.max(iface, diag ? c : (c * (c + 1)) / 2);
    lmi = Math.max(lmi, lmiSize(st));
  });
  return { local, iface, lmi };
}

/**
 * Size rule for the Newton solver (docs/method.md §6.4): every block small enough for dense work.
 * A step costs about (local + interface)³/3 multiply-adds per stage (the partial Cholesky in
 * factorChain) at 6–11·10⁹ per second with the SIMD kernels (linalg/simd), plus ~16 per entry
 * of the stage's HKM matrix. Measured on the idle 2-core dev machine (inner glipsdp chains, build +
 * solve + certify, bench/README.md): 3 × 3 convs with 8 channels (280 local variables, 36
 * interface entries) 1.1 s at depth 2, 6.1 s at depth 16; 16 channels (1072 local variables)
 * 6.4 s at depth 2, 60 s at depth 16; dense width 32 (528 interface entries) 26 s at depth 16 and
 * 71 s at depth 32, all at the optimum. 32 channels (4192 local variables: a 5248-row
 * factorisation per stage and step, an estimated ~5 s at that rate, and 220 MB) and dense
 * width 64 (2080 interface entries) are left to L-BFGS.
 */
export const NEWTON_LIMITS = { local: 1200, iface: 600, lmi: 300 } as const;

export function newtonFits(stages: readonly Stage[]): boolean {
  const s = newtonSize(stages);
  return s.local <= NEWTON_LIMITS.local && s.iface <= NEWTON_LIMITS.iface && s.lmi <= NEWTON_LIMITS.lmi;
}

/**
 * Stage k's LMI as the Newton model assembles it, at the interface weights Qin (ρ·I for k = 0:
 * pass ρ·I) and Qout and the multipliers prm (for tests: it must equal the certifier's
 * assembleStageLmi).
 */
export function modelStageLmi(stages: readonly Stage[], k: number, Qin: Float64Array, prm: StageParams, Qout: Float64Array | null): Float64Array {
  const md = buildModel(stages[k]!, k === 0, k > 0 && stages[k - 1]!.pool.diag);
  const st = md.st;
  const y = k === 0 ? Float64Array.of(Qin[0]!) : weightVector(Qin, st.qin.c, stages[k - 1]!.pool.diag);
  const v = new Float64Array(md.nq + md.nl + md.no);
  v.set(y, 0);
  v.set(localsOf(md, prm), md.nq);
  if (md.no > 0) v.set(weightVector(Qout!, st.out.G.rows, st.pool.diag), md.nq + md.nl);
  return assemble(md, v);
}

/**
 * For tests: stage k's HKM matrix H_ij = tr(A_i Z A_j Y) for symmetric Z, Y (n × n), and the
 * operators A_j themselves (assembled from unit vectors), so that H can be checked against its
 * definition.
 */
export function modelHkmHessian(stages: readonly Stage[], k: number, Z: Float64Array, Y: Float64Array): { H: Float64Array; A: Float64Array[] } {
  const md = buildModel(stages[k]!, k === 0, k > 0 && stages[k - 1]!.pool.diag);
  const nv = md.vars.length;
  const A = Array.from({ length: nv }, (_, j) => {
    const e = new Float64Array(nv);
    e[j] = 1;
    return assemble({ ...md, constant: null }, e);
  });
  const H = hkmHessian(md, atomGram(md, Z), atomGram(md, Y));
  for (let i = 0; i < nv; i++) for (let j = i + 1; j < nv; j++) H[j * nv + i] = H[i * nv + j]!;
  return { H, A };
}
