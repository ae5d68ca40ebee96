/**
 * Float64 forward recursion through one stage (stages.ts) with its reverse-mode adjoint:
 *   non-last:  Q* = 2Λ − c² ΛG N⁻¹ GᵀΛ          (Loewner-maximal outgoing weight, docs/method.md §6)
 *   last:      g  = λ_max(G N⁻¹ Gᵀ)              (the eliminated objective for ρ = 1)
 * N = N(Q_in, P, Λ_int, Λ_out) as in stages.ts. Used by the certifier's bisection (forward only)
 * and by the optimiser (forward + backward). Nothing here proves anything: the certifier's
 * verification rebuilds every LMI independently (chain-certify.ts).
 *
 * Adjoint: with Y = N⁻¹GᵀΛ and Ḡ = ∂g/∂Q*,
 *   ∂g/∂λ_out,i = 2Ḡ_ii − 2c²(GYḠ)_ii (+ the N-dependence), Π := ∂g/∂N = c² YḠYᵀ,
 * and Π is pushed through the affine map N(·) (u-block → Q_in, dissipation → P, QCs → Λ).
 * For the last stage Π = −Σ_e w_e z_e z_eᵀ with z_e = N⁻¹Gᵀv_e (eigenpairs, softmax weights w).
 *
 * The dense-after-flatten stage (N = Q_in ⊗ I_hw, ReLU-type a = 0) takes a Kronecker path:
 * G N⁻¹ Gᵀ = Σ_p W_p Q_in⁻¹ W_pᵀ with W_p the columns of pixel p (c of them), never forming the
 * (c·hw)-square N.
 */
import { backSubstMany, forwardSubstMany, inverseFromCholesky, partialCholesky } from '../../linalg/cholesky.js';
import { symEig } from '../../linalg/eig.js';
import { mulSparseLeft, productT, symmetricProductT } from '../../linalg/dense.js';
import { isKronDense, nIsInputWeight, qinIndex, type Stage, type StageParams } from './stages.js';

export interface StageGrad {
  readonly P: { P1: Float64Array; P2: Float64Array }[];
  readonly lamInt: Float64Array[];
  readonly lamOut: Float64Array | null;
  /** ∂g/∂d of the max-pool diagonal shape (filled by recursion.ts). */
  readonly diag?: Float64Array | null;
}

export interface ForwardResult {
  /** Non-last: Q* (m × m). */
  readonly Qstar?: Float64Array;
  /** Last: the (smoothed) λ_max. */
  readonly g?: number;
  /** −barrier·(log det N + log det Q*) when a barrier was asked for (optimiser only), else 0. */
  readonly barrierValue: number;
  /** Adjoint: gbar = ∂g/∂Q* (non-last; ignored for last). Returns ∂g/∂Q_in and parameter grads. */
  readonly back: (gbar: Float64Array | null) => { gQin: Float64Array; grad: StageGrad };
}

/**
 * The Roesser realisation products of the optimiser, for every system of a chain at once, behind
 * a backend (docs/method.md §7: for conv blocks these Roesser products are what the GPU kernels compute).
 * With F = [A B] (nx × d, d = nx + nin) and P = blkdiag(P1, P2):
 *   dissipation: −FᵀPF (d × d)  — the AᵀPA, AᵀPB, BᵀPB blocks of the dissipation term;
 *   adjoint:     F Π Fᵀ (nx × nx) — their adjoint, for the P-gradient.
 * The f64 CPU versions are dissipationProduct / adjointProduct below.
 */
export interface RoesserProducts {
  readonly precision: 'f64' | 'f32';
  dissipation(P: readonly { readonly P1: Float64Array; readonly P2: Float64Array }[]): Promise<Float64Array[]>;
  adjoint(Pi: readonly Float64Array[]): Promise<Float64Array[]>;
  bufferBytes(): number;
  dispose(): void;
}

/** The f64 products on the CPU: the CPU backend's, and the reference every other backend's are checked against. */
export function cpuRoesserProducts(systems: readonly Stage['systems'][number][]): RoesserProducts {
  return {
    precision: 'f64',
    dissipation: async (P) => systems.map((sy, j) => dissipationProduct(sy, P[j]!.P1, P[j]!.P2)),
    adjoint: async (Pi) => systems.map((sy, j) => adjointProduct(sy, Pi[j]!)),
    bufferBytes: () => 0,
    dispose: () => {},
  };
}

/** Products computed outside the stage (per system of this stage), and where to defer P-adjoints. */
export interface StageProducts {
  /** −FᵀPF per system of the stage. */
  readonly dissipation: readonly Float64Array[];
  /** Receives Π restricted to (x, input) of system j; the caller turns it into ∂/∂P later. */
  readonly deferAdjoint: (j: number, Ps: Float64Array) => void;
}

/**
 * −FᵀPF (d × d) of one system in f64, P = blkdiag(P1, P2). F = [A B] of a convolution's Roesser
 * realisation has two kinds of rows: shift rows (one nonzero: the state is a delayed input or
 * state) and rows that carry the kernel (dense). The shift rows are taken entry by entry, the
 * dense ones as matrix products (systemMap); D is symmetric, so its lower triangle is summed and
 * mirrored.
 */
export function dissipationProduct(sy: Stage['systems'][number], P1: Float64Array, P2: Float64Array): Float64Array {
  const { F, PF, d } = systemParts(sy, P1, P2);
  const { rowNz, dense, sparse, FdT } = systemMap(sy);
  const nd = dense.length;
  const PFdT = new Float64Array(d * nd);
  for (let i = 0; i < nd; i++) {
    const r = dense[i]! * d;
    for (let b = 0; b < d; b++) PFdT[b * nd + i] = PF[r + b]!;
  }
  // Σ over the dense rows r of F[r][a]·PF[r][b]: dot products of columns.
  const D = symmetricProductT(FdT, PFdT, d, nd);
  for (const r of sparse) {
    const nz = rowNz[r]!;
    for (let k = 0; k < nz.length; k++) {
      const a = nz[k]!;
      const f = F[r * d + a]!;
      for (let b = 0; b <= a; b++) D[a * d + b] += f * PF[r * d + b]!;
    }
  }
  for (let a = 0; a < d; a++)
    for (let b = 0; b <= a; b++) {
      const v = -D[a * d + b]!;
      D[a * d + b] = v;
      D[b * d + a] = v;
    }
  return D;
}

/**
 * F Π Fᵀ (nx × nx) of one system in f64, Π on (x, input) (d × d, symmetric): FΠ with the dense
 * rows of F as one product and the shift rows as combinations of rows of Π, then (FΠ)Fᵀ with the
 * dense rows' columns as dot products and the shift rows' by their nonzeros. Exactly symmetric
 * (the lower triangle is kept).
 */
export function adjointProduct(sy: Stage['systems'][number], Ps: Float64Array): Float64Array {
  const nx = sy.nx1 + sy.nx2;
  const d = nx + sy.nin;
  const { F, rowNz, dense, sparse, Fd } = systemMap(sy);
  const nd = dense.length;
  const FPd = mulSparseLeft(Fd, Ps, nd, d, d);
  const FP = new Float64Array(nx * d);
  for (let i = 0; i < nd; i++) FP.set(FPd.subarray(i * d, (i + 1) * d), dense[i]! * d);
  for (const r of sparse) {
    const nz = rowNz[r]!;
    for (let k = 0; k < nz.length; k++) {
      const b = nz[k]!;
      const f = F[r * d + b]!;
      for (let j = 0; j < d; j++) FP[r * d + j] += f * Ps[b * d + j]!;
    }
  }
  const Y = productT(FP, Fd, nx, nd, d);
  const X = new Float64Array(nx * nx);
  for (let r = 0; r < nx; r++) {
    for (let i = 0; i < nd; i++) X[r * nx + dense[i]!] = Y[r * nd + i]!;
    for (const q of sparse) {
      const nz = rowNz[q]!;
      let v = 0;
      for (let k = 0; k < nz.length; k++) v += FP[r * d + nz[k]!]! * F[q * d + nz[k]!]!;
      X[r * nx + q] = v;
    }
  }
  for (let r = 0; r < nx; r++) for (let q = 0; q < r; q++) X[q * nx + r] = X[r * nx + q]!;
  return X;
}

/** Column indices of the nonzeros of each row of F (rows × d, row-major). */
function rowNonzeros(F: Float64Array, rows: number, d: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (let q = 0; q < rows; q++) {
    const nzb: number[] = [];
    for (let b = 0; b < d; b++) if (F[q * d + b] !== 0) nzb.push(b);
    out.push(Int32Array.from(nzb));
  }
  return out;
}

/** ∂g/∂P1, ∂g/∂P2 += Πs[x,x] − FΠsFᵀ on the diagonal blocks (X = FΠsFᵀ). */
export function addPGradient(sy: Stage['systems'][number], Ps: Float64Array, X: Float64Array, g: { P1: Float64Array; P2: Float64Array }): void {
  const nx = sy.nx1 + sy.nx2;
  const d = nx + sy.nin;
  const n1 = sy.nx1;
  for (let r = 0; r < nx; r++)
    for (let q = 0; q < nx; q++) {
      if (r < n1 !== q < n1) continue;
      const v = Ps[r * d + q]! - X[r * nx + q]!;
      if (r < n1) g.P1[r * n1 + q] += v;
      else g.P2[(r - n1) * sy.nx2 + q - n1] += v;
    }
}

/** Assemble N (nz × nz) in the generic (non-Kronecker) form (dissipation products given or computed here). */
export function buildN(st: Stage, Qin: Float64Array, prm: StageParams, dissipation?: readonly Float64Array[]): Float64Array {
  const nz = st.nz;
  const N = new Float64Array(nz * nz);
  addQin(st, N, Qin);
  st.systems.forEach((sy, j) => {
    const { P1, P2 } = prm.P[j]!;
    const nx = sy.nx1 + sy.nx2;
    const d = nx + sy.nin;
    const D = dissipation?.[j] ?? dissipationProduct(sy, P1, P2);
    const at = (a: number): number => (a < nx ? sy.xOff + a : sy.inOff + a - nx);
    for (let a = 0; a < d; a++)
      for (let b = 0; b < d; b++) {
        let v = D[a * d + b]!;
        if (a < nx && b < nx) v += a < sy.nx1 ? (b < sy.nx1 ? P1[a * sy.nx1 + b]! : 0) : b >= sy.nx1 ? P2[(a - sy.nx1) * sy.nx2 + b - sy.nx1]! : 0;
        N[at(a) * nz + at(b)] += v;
      }
  });
  st.internal.forEach((qc, i) => addQc(N, nz, qc.G, prm.lamInt[i]!, qc.a, qc.c, qc.wOff));
  if (!st.last && st.out.a !== 0) addQc(N, nz, st.out.G, prm.lamOut!, st.out.a, 0, -1);
  return N;
}

function addQin(st: Stage, N: Float64Array, Q: Float64Array): void {
  const { c, rep } = st.qin;
  for (let p = 0; p < rep; p++)
    for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) N[qinIndex(st.qin, p, i) * st.nz + qinIndex(st.qin, p, j)] += Q[i * c + j]!;
}

/** F = [A B] (nx × (nx + nin)) of a system, row-major. */
export function systemF(sy: Stage['systems'][number]): Float64Array {
  const nx = sy.nx1 + sy.nx2;
  const d = nx + sy.nin;
  const F = new Float64Array(nx * d);
  for (let r = 0; r < nx; r++) {
    for (let q = 0; q < nx; q++) F[r * d + q] = sy.A.data[r * nx + q]!;
    for (let q = 0; q < sy.nin; q++) F[r * d + nx + q] = sy.B.data[r * sy.nin + q]!;
  }
  return F;
}

/** Rows of F = [A B] with at most this many nonzeros are handled entry by entry (shift rows have one). */
const SPARSE_ROW = 4;

/** F = [A B] of a system, its rows' nonzeros, and its dense rows as a block (cached: constant). */
interface SystemMap {
  readonly F: Float64Array;
  readonly rowNz: Int32Array[];
  /** Rows with more than SPARSE_ROW nonzeros, increasing, and the others. */
  readonly dense: Int32Array;
  readonly sparse: Int32Array;
  /** The dense rows (nd × d) and their transpose (d × nd). */
  readonly Fd: Float64Array;
  readonly FdT: Float64Array;
}
const mapCache = new WeakMap<Stage['systems'][number], SystemMap>();
function systemMap(sy: Stage['systems'][number]): SystemMap {
  let s = mapCache.get(sy);
  if (!s) {
    const nx = sy.nx1 + sy.nx2;
    const d = nx + sy.nin;
    const F = systemF(sy);
    const rowNz = rowNonzeros(F, nx, d);
    const denseRows: number[] = [];
    const sparseRows: number[] = [];
    rowNz.forEach((nz, r) => (nz.length > SPARSE_ROW ? denseRows : sparseRows).push(r));
    const nd = denseRows.length;
    const Fd = new Float64Array(nd * d);
    const FdT = new Float64Array(d * nd);
    denseRows.forEach((r, i) => {
      for (let b = 0; b < d; b++) {
        Fd[i * d + b] = F[r * d + b]!;
        FdT[b * nd + i] = F[r * d + b]!;
      }
    });
    s = { F, rowNz, dense: Int32Array.from(denseRows), sparse: Int32Array.from(sparseRows), Fd, FdT };
    mapCache.set(sy, s);
  }
  return s;
}

/** z-indices of (x, input), F = [A B] (nx × d) and P·F for a system. */
export function systemParts(sy: Stage['systems'][number], P1: Float64Array, P2: Float64Array) {
  const nx = sy.nx1 + sy.nx2;
  const d = nx + sy.nin;
  const idx = new Int32Array(d);
  for (let r = 0; r < nx; r++) idx[r] = sy.xOff + r;
  for (let r = 0; r < sy.nin; r++) idx[nx + r] = sy.inOff + r;
  const { F, rowNz, dense, Fd } = systemMap(sy);
  const nd = dense.length;
  // P·F block by block of P: the dense rows of F in the block as one product, the shift rows by
  // their nonzeros.
  const PF = new Float64Array(nx * d);
  const blocks: [number, number, Float64Array][] = [
    [0, sy.nx1, P1],
    [sy.nx1, nx, P2],
  ];
  for (const [lo, hi, P] of blocks) {
    const np = hi - lo;
    let i0 = 0;
    while (i0 < nd && dense[i0]! < lo) i0++;
    let i1 = i0;
    while (i1 < nd && dense[i1]! < hi) i1++;
    const nq = i1 - i0;
    if (nq > 0) {
      const Pd = new Float64Array(np * nq);
      for (let r = 0; r < np; r++) for (let t = 0; t < nq; t++) Pd[r * nq + t] = P[r * np + dense[i0 + t]! - lo]!;
      PF.set(mulSparseLeft(Pd, Fd.subarray(i0 * d, i1 * d), np, nq, d), lo * d);
    }
    for (let q = lo; q < hi; q++) {
      const nz = rowNz[q]!;
      if (nz.length > SPARSE_ROW) continue;
      for (let r = lo; r < hi; r++) {
        const p = P[(r - lo) * np + q - lo]!;
        if (p === 0) continue;
        for (let k = 0; k < nz.length; k++) PF[r * d + nz[k]!] += p * F[q * d + nz[k]!]!;
      }
    }
  }
  return { idx, F, PF, nx, d };
}

/** N += 2a GᵀΛG − c(GᵀΛE + EᵀΛG) + 2EᵀΛE (the E-terms only when wOff ≥ 0). */
function addQc(N: Float64Array, nz: number, G: { rows: number; cols: number; data: Float64Array }, lam: Float64Array, a: number, c: number, wOff: number): void {
  const m = G.rows;
  if (a !== 0)
    for (let k = 0; k < m; k++) {
      const f = 2 * a * lam[k]!;
      if (f === 0) continue;
      for (let i = 0; i < nz; i++) {
        const gi = G.data[k * nz + i]!;
        if (gi === 0) continue;
        const v = f * gi;
        for (let j = 0; j < nz; j++) N[i * nz + j] += v * G.data[k * nz + j]!;
      }
    }
  if (wOff < 0) return;
  for (let k = 0; k < m; k++) {
    const w = wOff + k;
    for (let i = 0; i < nz; i++) {
      const v = c * lam[k]! * G.data[k * nz + i]!;
      N[i * nz + w] -= v;
      N[w * nz + i] -= v;
    }
    N[w * nz + w] += 2 * lam[k]!;
  }
}

function emptyGrad(st: Stage): StageGrad {
  return {
    P: st.systems.map((s) => ({ P1: new Float64Array(s.nx1 * s.nx1), P2: new Float64Array(s.nx2 * s.nx2) })),
    lamInt: st.internal.map((q) => new Float64Array(q.G.rows)),
    lamOut: st.last ? null : new Float64Array(st.out.G.rows),
  };
}

/** Push Π = ∂g/∂N through N(Q_in, P, Λ); the P-part is deferred to the caller when `defer` is given. */
function adjointN(st: Stage, prm: StageParams, Pi: Float64Array, grad: StageGrad, defer?: StageProducts['deferAdjoint']): Float64Array {
  const nz = st.nz;
  const { c, rep } = st.qin;
  const gQ = new Float64Array(c * c);
  for (let p = 0; p < rep; p++)
    for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) gQ[i * c + j] += Pi[qinIndex(st.qin, p, i) * nz + qinIndex(st.qin, p, j)]!;
  st.systems.forEach((sy, j) => {
    const nx = sy.nx1 + sy.nx2;
    const d = nx + sy.nin;
    const at = (a: number): number => (a < nx ? sy.xOff + a : sy.inOff + a - nx);
    // Πs = Π[idx, idx]; ∂g/∂P = Πs[x,x] − F Πs Fᵀ (diagonal blocks)
    const Ps = new Float64Array(d * d);
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) Ps[a * d + b] = Pi[at(a) * nz + at(b)]!;
    if (defer) defer(j, Ps);
    else addPGradient(sy, Ps, adjointProduct(sy, Ps), grad.P[j]!);
  });
  const qcGrad = (G: { rows: number; data: Float64Array }, a: number, cc: number, wOff: number, out: Float64Array): void => {
    for (let k = 0; k < G.rows; k++) {
      let v = 0;
      if (a !== 0) {
        // (G Π Gᵀ)_kk
        let s = 0;
        for (let i = 0; i < nz; i++) {
          const gi = G.data[k * nz + i]!;
          if (gi === 0) continue;
          let t = 0;
          for (let j = 0; j < nz; j++) t += Pi[i * nz + j]! * G.data[k * nz + j]!;
          s += gi * t;
        }
        v += 2 * a * s;
      }
      if (wOff >= 0) {
        let s = 0;
        for (let i = 0; i < nz; i++) s += G.data[k * nz + i]! * Pi[i * nz + wOff + k]!;
        v += -2 * cc * s + 2 * Pi[(wOff + k) * nz + wOff + k]!;
      }
      out[k] += v;
    }
  };
  st.internal.forEach((qc, i) => qcGrad(qc.G, qc.a, qc.c, qc.wOff, grad.lamInt[i]!));
  if (!st.last && st.out.a !== 0) qcGrad(st.out.G, st.out.a, 0, -1, grad.lamOut!);
  return gQ;
}

/** Smoothed λ_max of a small symmetric matrix: value and eigen-weights. */
function smoothMax(H: Float64Array, m: number, mu: number): { g: number; vectors: Float64Array; weights: Float64Array } {
  const { values, vectors } = symEig(H, m);
  const top = values[m - 1]!;
  const weights = new Float64Array(m);
  let g = top;
  if (mu > 0) {
    let sum = 0;
    for (let i = 0; i < m; i++) sum += weights[i] = Math.exp((values[i]! - top) / mu);
    for (let i = 0; i < m; i++) weights[i]! /= sum;
    g = top + mu * Math.log(sum);
  } else weights[m - 1] = 1;
  return { g, vectors, weights };
}

export interface ForwardOptions {
  /** log-sum-exp smoothing of the last stage's λ_max. */
  readonly smooth?: number;
  /** Log-det barrier weight on N (and the outgoing Q*). */
  readonly barrier?: number;
  /**
   * Leave out log det N where N is the incoming weight alone (stages.ts nIsInputWeight): it then
   * repeats the previous stage's barrier on the same matrix (STATELESS_SCHEDULE, refine-chain.ts).
   */
  readonly skipImpliedBarrier?: boolean;
  readonly products?: StageProducts;
  /** Largest storage P relative to the incoming weight inside the domain (default STORAGE_RANGE). */
  readonly storageRange?: number;
}

/**
 * One stage forward. `Qin` is the incoming c × c weight. Returns null outside the domain
 * (N not positive definite, or a storage P beyond its range).
 * `products`: the Roesser products computed outside (a backend, all systems at once) and the
 * deferred P-adjoints; without it they are computed here in f64.
 * `barrier` > 0 adds −barrier·(log det N + log det Q*) (its gradient flows through `back`): the
 * optimiser's interior path. The optimum of the eliminated problem can sit where some N_k is
 * singular, and without the barrier the iteration stalls against that boundary. The Kronecker
 * path (dense after flatten) has N = Q_in ⊗ I, already kept inside by the previous stage's Q*.
 */
export function stageForward(st: Stage, Qin: Float64Array, prm: StageParams, opts: ForwardOptions = {}): ForwardResult | null {
  const mu = opts.smooth ?? 0;
  if (isKronDense(st)) return kronForward(st, Qin, prm, mu);
  if (!storageInRange(st, Qin, prm, opts.storageRange ?? STORAGE_RANGE)) return null;
  return genericForward(st, Qin, prm, mu, opts.barrier ?? 0, opts.skipImpliedBarrier === true && nIsInputWeight(st), opts.products);
}

/**
 * Storage matrices P more than STORAGE_RANGE times the incoming weight are outside the domain.
 * For some realisations (pure delays, e.g. docs/method.md §5.2) the eliminated objective keeps
 * decreasing as P → ∞; left alone, the optimiser walks off to P ~ 1e250 where N = P − AᵀPA is
 * rounding noise. The cap is relative to Q_in, so the domain only grows with ρ (bisection stays
 * monotone), and it costs nothing measurable: the certifier re-verifies whatever comes out. The
 * certifier itself takes any P (the interior-point method's optimum can lie beyond the cap).
 */
const STORAGE_RANGE = 1e6;

function storageInRange(st: Stage, Qin: Float64Array, prm: StageParams, range: number): boolean {
  const c = st.qin.c;
  let q = 0;
  for (let i = 0; i < c; i++) q = Math.max(q, Math.abs(Qin[i * c + i]!));
  let p = 0;
  st.systems.forEach((sy, j) => {
    const { P1, P2 } = prm.P[j]!;
    for (let i = 0; i < sy.nx1; i++) p = Math.max(p, Math.abs(P1[i * sy.nx1 + i]!));
    for (let i = 0; i < sy.nx2; i++) p = Math.max(p, Math.abs(P2[i * sy.nx2 + i]!));
  });
  return p <= range * q;
}

function logDetFromCholesky(L: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += 2 * Math.log(L[i * n + i]!);
  return s;
}

function genericForward(st: Stage, Qin: Float64Array, prm: StageParams, mu: number, barrier: number, noNBarrier: boolean, products?: StageProducts): ForwardResult | null {
  const nz = st.nz;
  const G = st.out.G;
  const m = G.rows;
  const L = buildN(st, Qin, prm, products?.dissipation);
  // The optimiser's factorisations use the blocked kernel; the certifier keeps choleskyInPlace.
  if (!partialCholesky(L, nz, nz)) return null;
  const nBarrier = noNBarrier ? 0 : barrier;
  let barrierValue = nBarrier > 0 ? -nBarrier * logDetFromCholesky(L, nz) : 0;
  /** Π += −barrier·N⁻¹ (the barrier's ∂/∂N). */
  const addBarrier = (Pi: Float64Array): void => {
    if (!(nBarrier > 0)) return;
    const Ni = inverseFromCholesky(L, nz);
    for (let i = 0; i < nz * nz; i++) Pi[i] -= nBarrier * Ni[i]!;
  };
  if (st.last) {
    const Z = new Float64Array(nz * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < nz; j++) Z[j * m + i] = G.data[i * nz + j]!;
    forwardSubstMany(L, nz, Z, m);
    const H = gramT(Z, nz, m);
    // A nearly singular N (extreme scales of the start search) can overflow G N⁻¹ Gᵀ: outside.
    if (!H.every(Number.isFinite)) return null;
    const { g, vectors, weights } = smoothMax(H, m, mu);
    return {
      g,
      barrierValue,
      back: () => {
        // ∂g/∂N = −Σ_e w_e z_e z_eᵀ, z_e = L⁻ᵀ(L⁻¹Gᵀ)v_e over the eigenvectors v_e of H that
        // carry weight: as one product, Π −= T Tᵀ with T = L⁻ᵀ Z V (columns √w_e v_e).
        const used: number[] = [];
        for (let e = 0; e < m; e++) if (weights[e]! >= 1e-12) used.push(e);
        const ne = used.length;
        const Vt = new Float64Array(m * ne);
        used.forEach((e, c) => {
          const r = Math.sqrt(weights[e]!);
          for (let a = 0; a < m; a++) Vt[a * ne + c] = r * vectors[e * m + a]!;
        });
        const T = mulSparseLeft(Z, Vt, nz, m, ne);
        backSubstMany(L, nz, T, ne);
        const Pi = symmetricProductT(T, T, nz, ne);
        for (let i = 0; i < nz * nz; i++) Pi[i] = -Pi[i]!;
        addBarrier(Pi);
        const grad = emptyGrad(st);
        return { gQin: adjointN(st, prm, Pi, grad, products?.deferAdjoint), grad };
      },
    };
  }
  const lam = prm.lamOut!;
  const cc = st.out.c;
  // B = GᵀΛ (nz × m); Y = N⁻¹B; Q* = 2Λ − c² BᵀY
  const B = new Float64Array(nz * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < nz; j++) B[j * m + i] = G.data[i * nz + j]! * lam[i]!;
  const Y = Float64Array.from(B);
  forwardSubstMany(L, nz, Y, m);
  const Zh = Float64Array.from(Y); // L⁻¹B, for a symmetric product
  backSubstMany(L, nz, Y, m);
  const Q = gramT(Zh, nz, m);
  if (!Q.every(Number.isFinite)) return null;
  for (let i = 0; i < m * m; i++) Q[i] *= -cc * cc;
  for (let i = 0; i < m; i++) Q[i * m + i] += 2 * lam[i]!;
  let QinvB: Float64Array | null = null;
  if (barrier > 0) {
    const LQ = Float64Array.from(Q);
    if (!partialCholesky(LQ, m, m)) return null;
    barrierValue -= barrier * logDetFromCholesky(LQ, m);
    QinvB = inverseFromCholesky(LQ, m);
  }
  return {
    Qstar: Q,
    barrierValue,
    back: (gbar) => {
      const Gb = Float64Array.from(gbar!);
      if (QinvB) for (let i = 0; i < m * m; i++) Gb[i] -= barrier * QinvB[i]!;
      const grad = emptyGrad(st);
      // YḠ (nz × m)
      const YG = mulSparseLeft(Y, Gb, nz, m, m);
      const gl = grad.lamOut!;
      for (let i = 0; i < m; i++) {
        let s = 0;
        for (let j = 0; j < nz; j++) s += G.data[i * nz + j]! * YG[j * m + i]!;
        gl[i] += 2 * Gb[i * m + i]! - 2 * cc * cc * s;
      }
      // Π = c²·Y Ḡ Yᵀ (symmetric: Ḡ is).
      const Pi = symmetricProductT(YG, Y, nz, m);
      const c2 = cc * cc;
      for (let i = 0; i < nz * nz; i++) Pi[i] *= c2;
      addBarrier(Pi);
      return { gQin: adjointN(st, prm, Pi, grad, products?.deferAdjoint), grad };
    },
  };
}

/** ZᵀZ for Z (n × m) row-major, symmetrised. */
function gramT(Z: Float64Array, n: number, m: number): Float64Array {
  // As row dot products of Zᵀ (the SIMD row kernels' shape), exactly symmetric.
  const T = new Float64Array(m * n);
  for (let j = 0; j < n; j++) for (let a = 0; a < m; a++) T[a * n + j] = Z[j * m + a]!;
  return symmetricProductT(T, T, m, n);
}

function kronForward(st: Stage, Qin: Float64Array, prm: StageParams, mu: number): ForwardResult | null {
  const { c, rep } = st.qin;
  const W = st.out.G;
  const m = W.rows;
  const nz = st.nz;
  const L = Float64Array.from(Qin);
  if (!partialCholesky(L, c, c)) return null;
  // X_p = L⁻¹ W_pᵀ (c × m) for every pixel p, H = Σ_p X_pᵀX_p = Σ_p W_p Q⁻¹ W_pᵀ.
  const X: Float64Array[] = [];
  const H = new Float64Array(m * m);
  for (let p = 0; p < rep; p++) {
    const Xp = new Float64Array(c * m);
    for (let i = 0; i < m; i++) for (let ch = 0; ch < c; ch++) Xp[ch * m + i] = W.data[i * nz + ch * rep + p]!;
    forwardSubstMany(L, c, Xp, m);
    X.push(Xp);
    const Hp = gramT(Xp, c, m);
    for (let i = 0; i < m * m; i++) H[i] += Hp[i]!;
  }
  /** gQ = Σ_p V_p S V_pᵀ with V_p = Q⁻¹W_pᵀ = L⁻ᵀX_p, for a symmetric S (m × m). */
  const sandwich = (S: Float64Array): Float64Array => {
    const gQ = new Float64Array(c * c);
    for (let p = 0; p < rep; p++) {
      const V = Float64Array.from(X[p]!);
      backSubstMany(L, c, V, m);
      const VS = new Float64Array(c * m);
      for (let i = 0; i < c; i++)
        for (let r = 0; r < m; r++) {
          const v = V[i * m + r]!;
          if (v === 0) continue;
          for (let s = 0; s < m; s++) VS[i * m + s] += v * S[r * m + s]!;
        }
      for (let i = 0; i < c; i++)
        for (let j = 0; j < c; j++) {
          let s = 0;
          for (let r = 0; r < m; r++) s += VS[i * m + r]! * V[j * m + r]!;
          gQ[i * c + j] += s;
        }
    }
    return gQ;
  };
  if (!H.every(Number.isFinite)) return null;
  if (st.last) {
    const { g, vectors, weights } = smoothMax(H, m, mu);
    return {
      g,
      barrierValue: 0,
      back: () => {
        // ∂g/∂H = Σ w_e v_e v_eᵀ; ∂g/∂Q = −Σ_p V_p (∂g/∂H) V_pᵀ
        const S = new Float64Array(m * m);
        for (let e = 0; e < m; e++) {
          const we = weights[e]!;
          if (we < 1e-12) continue;
          for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) S[a * m + b] -= we * vectors[e * m + a]! * vectors[e * m + b]!;
        }
        return { gQin: sandwich(S), grad: emptyGrad(st) };
      },
    };
  }
  const lam = prm.lamOut!;
  const cc = st.out.c;
  const Q = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) Q[i * m + j] = -cc * cc * lam[i]! * H[i * m + j]! * lam[j]!;
  for (let i = 0; i < m; i++) Q[i * m + i] += 2 * lam[i]!;
  return {
    Qstar: Q,
    barrierValue: 0,
    back: (gbar) => {
      const Gb = gbar!;
      const grad = emptyGrad(st);
      const gl = grad.lamOut!;
      // ∂/∂λ_i: 2Ḡ_ii − 2c² (HΛḠ)_ii
      for (let i = 0; i < m; i++) {
        let s = 0;
        for (let r = 0; r < m; r++) s += H[i * m + r]! * lam[r]! * Gb[r * m + i]!;
        gl[i] += 2 * Gb[i * m + i]! - 2 * cc * cc * s;
      }
      // ∂g/∂Q_in = c² Σ_p V_p (ΛḠΛ) V_pᵀ
      const S = new Float64Array(m * m);
      for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) S[a * m + b] = cc * cc * lam[a]! * Gb[a * m + b]! * lam[b]!;
      return { gQin: sandwich(S), grad };
    },
  };
}
