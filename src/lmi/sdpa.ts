/**
 * Export of the Lipschitz SDPs of a fully connected chain in SDPA sparse format, so that an
 * off-the-shelf interior-point solver (DSDP, CSDP) can serve as an independent oracle for the
 * optimum that lipdp's own solver should reach (docs/method.md §2, §3.1).
 *
 * SDPA convention (what both solvers read): minimise cᵀx subject to Σ_i x_i F_i − F_0 ⪰ 0, with
 * all F block diagonal; a negative block size means a diagonal (LP) block. We build the LMIs in the
 * natural form M(x) = M_0 + Σ x_i M_i ⪰ 0, so F_i = M_i and F_0 = −M_0.
 *
 * In memory all indices are 0-based (variables, blocks, rows, columns); `toSdpaText` converts to
 * SDPA's 1-based numbering, in which x_{i+1} of the file is `x[i]` here.
 */
import type { FcChain, Matrix, SlopeBounds } from '../model/ir.js';
import { spectralNormEstimate } from '../linalg/dense.js';

/** What one SDP variable means. `layer` k is 1-based as in docs/method.md §3 (λ_k, Q_k after layer k). */
export type SdpaVar =
  | { readonly kind: 'rho' }
  | { readonly kind: 'lambda'; readonly layer: number; readonly index: number }
  /** Entry (i, j), i ≤ j, of the symmetric Q_k; it stands for both (i, j) and (j, i). */
  | { readonly kind: 'Q'; readonly layer: number; readonly i: number; readonly j: number }
  /** Stage SDPs (src/lmi/stage/sdpa.ts): entry (i, j), i ≤ j, of P1 or P2 of Roesser system `system` of stage `layer`. */
  | { readonly kind: 'P'; readonly layer: number; readonly system: number; readonly part: 'P1' | 'P2'; readonly i: number; readonly j: number }
  /** Stage SDPs: multiplier of channel `index` of inner activation `qc` of stage `layer`. */
  | { readonly kind: 'lambdaInt'; readonly layer: number; readonly qc: number; readonly index: number };

/** One upper-triangular (i ≤ j) entry of a symmetric block, 0-based. Diagonal blocks use i = j. */
export interface SdpaEntry {
  readonly block: number;
  readonly i: number;
  readonly j: number;
  readonly value: number;
}

export type SdpFormulation = 'layered' | 'lipsdp-neuron' | 'stages';

/**
 * An SDP in SDPA form plus what is needed to map a solution back to the given chain.
 *
 * Scaling (only when built with `normalise: true`, otherwise all scales are 1): the matrices in F
 * use W_k / s_k with s_k = `layerScales[k−1]` (a power-iteration estimate of ‖W_k‖₂; any positive
 * s_k is exact, the estimate only improves conditioning). The LMIs are homogeneous (docs/method.md §3.4),
 * so a solution x of this problem maps to a solution of the unscaled problem by
 * x_orig[i] = xScale[i] · x[i], where ρ scales by Π_{k=1..ℓ} s_k² (= `rhoScale`) and λ_k, Q_k by
 * Π_{j=k+1..ℓ} s_j². In particular the chain's bound is ρ_orig = rhoScale · x[rhoIndex] and
 * L = sqrt(ρ_orig).
 */
export interface SdpaProblem {
  readonly formulation: SdpFormulation;
  /** Objective vector, length m = number of variables. */
  readonly c: Float64Array;
  /** SDPA block structure: n > 0 dense symmetric n×n, n < 0 diagonal of size |n|. */
  readonly blockSizes: readonly number[];
  /** F[0] is the constant matrix F_0, F[i + 1] the coefficient matrix of x[i]. Upper triangles only. */
  readonly F: readonly (readonly SdpaEntry[])[];
  /** Meaning of x[i], length m. */
  readonly vars: readonly SdpaVar[];
  readonly rhoIndex: number;
  /** Scale s_k divided out of W_k, k = 1..ℓ (index k−1). */
  readonly layerScales: Float64Array;
  /** ρ of the given chain = rhoScale · ρ of this problem. */
  readonly rhoScale: number;
  /** Unscaled variable i = xScale[i] · x[i]. */
  readonly xScale: Float64Array;
}

export interface BuildOptions {
  /** Divide each W_k by (an estimate of) its spectral norm before export; see SdpaProblem. */
  readonly normalise?: boolean;
}

/**
 * Layered SDP (docs/method.md §3.1 with scalar slopes [α, β] per activation layer): variables ρ,
 * λ_k ∈ R^{n_k}, Q_k ∈ S^{n_k} for k = 1..ℓ−1. Blocks, in order: M_1 … M_{ℓ−1}
 * (size n_{k−1} + n_k), the last-layer block Q_{ℓ−1} − W_ℓᵀW_ℓ (size n_{ℓ−1}), then λ ≥ 0 as one
 * diagonal block (absent for ℓ = 1). Minimise ρ. Variable order: ρ, then per layer λ_k, Q_k.
 */
export function buildLayeredSdp(chain: FcChain, opts: BuildOptions = {}): SdpaProblem {
  const ws = scaledWeights(chain, opts.normalise ?? false);
  const ell = chain.layers.length;
  const b = new SdpBuilder();
  const rho = b.addVar({ kind: 'rho' }, 1);
  // qVar[k][i][j] (i ≤ j) = variable index of Q_k(i, j); qVar[0] unused since Q_0 = ρI.
  const qVar: number[][][] = [[]];
  const lamVar: number[][] = [[]];
  for (let k = 1; k < ell; k++) {
    const n = ws.W[k - 1]!.rows;
    const lam: number[] = [];
    for (let p = 0; p < n; p++) lam.push(b.addVar({ kind: 'lambda', layer: k, index: p }, 0));
    lamVar.push(lam);
    const q: number[][] = [];
    for (let i = 0; i < n; i++) {
      const row: number[] = [];
      for (let j = 0; j < n; j++) row.push(j >= i ? b.addVar({ kind: 'Q', layer: k, i, j }, 0) : -1);
      q.push(row);
    }
    qVar.push(q);
  }

  // Incoming cost-to-go Q_{k−1} placed on the diagonal block starting at `off`.
  const addIncomingQ = (blk: number, k: number, off: number, n: number): void => {
    if (k === 1) {
      for (let i = 0; i < n; i++) b.add(rho, blk, off + i, off + i, 1);
      return;
    }
    const q = qVar[k - 1]!;
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) b.add(q[i]![j]!, blk, off + i, off + j, 1);
  };

  for (let k = 1; k < ell; k++) {
    const W = ws.W[k - 1]!;
    const nIn = W.cols;
    const nOut = W.rows;
    const blk = b.addBlock(nIn + nOut);
    const { alpha, beta } = ws.slopes[k - 1]!;
    addIncomingQ(blk, k, 0, nIn);
    for (let p = 0; p < nOut; p++) addNeuronQc(b, lamVar[k]![p]!, blk, 0, nIn + p, W, p, alpha, beta);
    // −Q_k in the output block: the cost-to-go handed to layer k+1.
    const q = qVar[k]!;
    for (let i = 0; i < nOut; i++) for (let j = i; j < nOut; j++) b.add(q[i]![j]!, blk, nIn + i, nIn + j, -1);
  }

  const Wl = ws.W[ell - 1]!;
  const last = b.addBlock(Wl.cols);
  addIncomingQ(last, ell, 0, Wl.cols);
  addGram(b, last, 0, Wl, -1);

  addLambdaBlock(b, lamVar.flat());
  return b.finish('layered', rho, ws.scales, varScales(b.vars, ws.scales));
}

/**
 * Monolithic LipSDP-Neuron (docs/method.md §2, ⪰ form, general [α, β] per hidden layer): variables ρ
 * and λ ∈ R^N (N = Σ n_k over hidden layers, in layer order). One dense block of size n_0 + N on
 * the stacked vector z = (x, w_1, …, w_{ℓ−1}):
 *   −[A;B]ᵀ [[−2αβΛ, (α+β)Λ], [(α+β)Λ, −2Λ]] [A;B] + blkdiag(ρI, 0, …, −W_ℓᵀW_ℓ) ⪰ 0,
 * then λ ≥ 0 as a diagonal block (absent for ℓ = 1). Minimise ρ. Variable order: ρ, λ.
 */
export function buildLipSdpNeuron(chain: FcChain, opts: BuildOptions = {}): SdpaProblem {
  const ws = scaledWeights(chain, opts.normalise ?? false);
  const ell = chain.layers.length;
  const b = new SdpBuilder();
  const rho = b.addVar({ kind: 'rho' }, 1);
  // Offsets of x, w_1, …, w_{ℓ−1} inside z.
  const off: number[] = [0];
  let size = chain.inputSize;
  for (let k = 1; k < ell; k++) {
    off.push(size);
    size += ws.W[k - 1]!.rows;
  }
  const blk = b.addBlock(size);
  for (let i = 0; i < chain.inputSize; i++) b.add(rho, blk, i, i, 1);
  const lamAll: number[] = [];
  for (let k = 1; k < ell; k++) {
    const W = ws.W[k - 1]!;
    const { alpha, beta } = ws.slopes[k - 1]!;
    for (let p = 0; p < W.rows; p++) {
      const v = b.addVar({ kind: 'lambda', layer: k, index: p }, 0);
      lamAll.push(v);
      // The QC of neuron p couples its input block (w_{k−1}, or x) and its own output entry.
      addNeuronQc(b, v, blk, off[k - 1]!, off[k]! + p, W, p, alpha, beta);
    }
  }
  addGram(b, blk, off[ell - 1]!, ws.W[ell - 1]!, -1);
  addLambdaBlock(b, lamAll);
  return b.finish('lipsdp-neuron', rho, ws.scales, varScales(b.vars, ws.scales));
}

/** SDPA sparse text (`.dat-s`), readable by CSDP and DSDP. Numbers are written round-trip exact. */
export function toSdpaText(problem: SdpaProblem): string {
  const out: string[] = [];
  out.push(`* lipdp ${problem.formulation} SDP, ${problem.c.length} variables`);
  out.push(`${problem.c.length} =mDIM`);
  out.push(`${problem.blockSizes.length} =nBLOCK`);
  out.push(`${problem.blockSizes.join(' ')} =bLOCKsTRUCT`);
  out.push(Array.from(problem.c, num).join(' '));
  problem.F.forEach((entries, mat) => {
    for (const e of entries) out.push(`${mat} ${e.block + 1} ${e.i + 1} ${e.j + 1} ${num(e.value)}`);
  });
  return out.join('\n') + '\n';
}

/**
 * Dense values of every block of M(x) = Σ x_i F_i − F_0 (row-major n×n; diagonal blocks as a
 * length-|n| vector). For checking a solver's x against the LMIs independently of the solver.
 */
export function assembleBlocks(problem: SdpaProblem, x: ArrayLike<number>): Float64Array[] {
  const mats = problem.blockSizes.map((s) => new Float64Array(s > 0 ? s * s : -s));
  problem.F.forEach((entries, mat) => {
    const coef = mat === 0 ? -1 : x[mat - 1]!;
    if (coef === 0) return;
    for (const e of entries) {
      const s = problem.blockSizes[e.block]!;
      const M = mats[e.block]!;
      if (s < 0) {
        M[e.i] = M[e.i]! + coef * e.value;
      } else {
        M[e.i * s + e.j] = M[e.i * s + e.j]! + coef * e.value;
        if (e.i !== e.j) M[e.j * s + e.i] = M[e.j * s + e.i]! + coef * e.value;
      }
    }
  });
  return mats;
}

/** Map a solution of a (possibly normalised) problem to the variables of the unscaled problem. */
export function unscaleSolution(problem: SdpaProblem, x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(problem.c.length);
  for (let i = 0; i < out.length; i++) out[i] = problem.xScale[i]! * x[i]!;
  return out;
}

// ------------------------------------------------------------------------------------------------

interface ScaledWeights {
  readonly W: Matrix[];
  readonly slopes: SlopeBounds[];
  readonly scales: Float64Array;
}

/** Validate the chain and return its weights, each divided by s_k when normalising. */
function scaledWeights(chain: FcChain, normalise: boolean): ScaledWeights {
  const ell = chain.layers.length;
  if (ell === 0) throw new Error('lipdp sdpa: the chain has no layers');
  const W: Matrix[] = [];
  const slopes: SlopeBounds[] = [];
  const scales = new Float64Array(ell);
  let n = chain.inputSize;
  chain.layers.forEach((layer, idx) => {
    const k = idx + 1;
    if (layer.W.cols !== n) {
      throw new Error(`lipdp sdpa: layer ${k} has ${layer.W.cols} inputs but receives ${n}`);
    }
    if (layer.W.data.length !== layer.W.rows * layer.W.cols) {
      throw new Error(`lipdp sdpa: layer ${k} weight data length does not match its shape`);
    }
    if (!layer.W.data.every(Number.isFinite)) {
      throw new Error(`lipdp sdpa: layer ${k} has a non-finite weight`);
    }
    if (k < ell) {
      if (!layer.activation) throw new Error(`lipdp sdpa: hidden layer ${k} has no activation`);
      const { alpha, beta } = layer.activation.slope;
      if (!(Number.isFinite(alpha) && Number.isFinite(beta) && alpha <= beta)) {
        throw new Error(`lipdp sdpa: layer ${k} has invalid slope bounds [${alpha}, ${beta}]`);
      }
      slopes.push({ alpha, beta });
    } else if (layer.activation) {
      throw new Error('lipdp sdpa: the last layer of an FcChain must not have an activation');
    }
    let s = 1;
    if (normalise) {
      const est = spectralNormEstimate(layer.W, 500);
      if (est > 0 && Number.isFinite(est)) s = est;
    }
    scales[idx] = s;
    W.push(s === 1 ? layer.W : scaleMatrix(layer.W, 1 / s));
    n = layer.W.rows;
  });
  return { W, slopes, scales };
}

function scaleMatrix(W: Matrix, f: number): Matrix {
  const data = new Float64Array(W.data.length);
  for (let i = 0; i < data.length; i++) data[i] = W.data[i]! * f;
  return { rows: W.rows, cols: W.cols, data };
}

/** xScale from the homogeneity argument: ρ ~ Π_{all} s², λ_k and Q_k ~ Π_{j>k} s_j². */
function varScales(vars: readonly SdpaVar[], scales: Float64Array): Float64Array {
  const ell = scales.length;
  // tail[k] = Π_{j=k+1..ℓ} s_j², k = 0..ℓ (1-based layers).
  const tail = new Float64Array(ell + 1);
  tail[ell] = 1;
  for (let k = ell - 1; k >= 0; k--) tail[k] = tail[k + 1]! * scales[k]! * scales[k]!;
  return Float64Array.from(vars, (v) => (v.kind === 'rho' ? tail[0]! : tail[v.layer]!));
}

/**
 * Add the S-procedure term of neuron p of a layer (pre-activation v_p = W[p,:]·u, output w_p):
 * λ_p (2αβ aaᵀ − (α+β)(a e_pᵀ + e_p aᵀ) + 2 e_p e_pᵀ), where a = W[p,:]ᵀ sits at `inOff` and
 * e_p at `outIdx`. This is the negated QC matrix of docs/method.md §1, so M ⪰ 0 implies the
 * dissipation inequality for every trajectory satisfying the slope bounds.
 */
function addNeuronQc(
  b: SdpBuilder,
  v: number,
  blk: number,
  inOff: number,
  outIdx: number,
  W: Matrix,
  p: number,
  alpha: number,
  beta: number,
): void {
  const n = W.cols;
  const row = W.data.subarray(p * n, (p + 1) * n);
  const ab2 = 2 * alpha * beta;
  if (ab2 !== 0) {
    for (let a = 0; a < n; a++) {
      if (row[a] === 0) continue;
      for (let c = a; c < n; c++) b.add(v, blk, inOff + a, inOff + c, ab2 * row[a]! * row[c]!);
    }
  }
  const s = -(alpha + beta);
  if (s !== 0) for (let a = 0; a < n; a++) b.add(v, blk, inOff + a, outIdx, s * row[a]!);
  b.add(v, blk, outIdx, outIdx, 2);
}

/** Add sign · WᵀW to the constant part of the diagonal block starting at `off`. */
function addGram(b: SdpBuilder, blk: number, off: number, W: Matrix, sign: number): void {
  const { rows, cols, data } = W;
  for (let a = 0; a < cols; a++) {
    for (let c = a; c < cols; c++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += data[i * cols + a]! * data[i * cols + c]!;
      b.add(-1, blk, off + a, off + c, sign * s);
    }
  }
}

function addLambdaBlock(b: SdpBuilder, lam: readonly number[]): void {
  if (lam.length === 0) return;
  const blk = b.addBlock(-lam.length);
  lam.forEach((v, i) => b.add(v, blk, i, i, 1));
}

/**
 * Accumulates M(x) = M_0 + Σ x_i M_i by entries; repeated entries are summed, because SDPA
 * readers do not all accept duplicates.
 */
export class SdpBuilder {
  readonly vars: SdpaVar[] = [];
  private readonly cost: number[] = [];
  private readonly blocks: number[] = [];
  /** mats[0] = M_0 (constant), mats[i+1] = M_i; key = block, i, j. */
  private readonly mats: Map<string, SdpaEntry>[] = [new Map()];

  addVar(v: SdpaVar, cost: number): number {
    this.vars.push(v);
    this.cost.push(cost);
    this.mats.push(new Map());
    return this.vars.length - 1;
  }

  addBlock(size: number): number {
    this.blocks.push(size);
    return this.blocks.length - 1;
  }

  /** Add `value` to entry (i, j) of block `blk` of M_{v} (v = −1 for the constant M_0). */
  add(v: number, blk: number, i: number, j: number, value: number): void {
    if (value === 0) return;
    if (i > j) [i, j] = [j, i];
    const m = this.mats[v + 1]!;
    const key = `${blk},${i},${j}`;
    const old = m.get(key);
    m.set(key, { block: blk, i, j, value: (old?.value ?? 0) + value });
  }

  finish(formulation: SdpFormulation, rhoIndex: number, scales: Float64Array, xScale: Float64Array): SdpaProblem {
    const F = this.mats.map((m, idx) => {
      // F_0 = −M_0; entries that cancelled to zero are dropped.
      const sign = idx === 0 ? -1 : 1;
      const list: SdpaEntry[] = [];
      for (const e of m.values()) if (e.value !== 0) list.push({ ...e, value: sign * e.value });
      list.sort((p, q) => p.block - q.block || p.i - q.i || p.j - q.j);
      return list;
    });
    return {
      formulation,
      c: Float64Array.from(this.cost),
      blockSizes: [...this.blocks],
      F,
      vars: this.vars,
      rhoIndex,
      layerScales: scales,
      rhoScale: xScale[rhoIndex]!,
      xScale,
    };
  }
}

/** Shortest round-trip decimal; no NaN/Infinity can reach here because weights are validated. */
function num(x: number): string {
  return Number.isInteger(x) ? x.toFixed(0) : String(x);
}
