/**
 * The layered SDP in the form the solver sees (docs/method.md §3.1):
 *
 *   minimise ρ  over x = (ρ, λ_1..λ_{ℓ−1}, Q_1..Q_{ℓ−1})
 *   s.t.  M_k(x) = [[Q_{k−1} + 2αβ WᵀΛW, −(α+β)WᵀΛ], [−(α+β)ΛW, 2Λ − Q_k]] ⪰ 0   (k < ℓ, Q_0 = ρI)
 *         M_ℓ(x) = Q_{ℓ−1} − W_ℓᵀW_ℓ ⪰ 0,   λ ≥ 0.
 *
 * Conic form: s = A x + b ∈ K, K = Π PSD(blocks) × R₊^{#λ}. The variable vector x stores ρ, then
 * every λ_k, then every Q_k as a FULL symmetric n×n matrix (the Frobenius inner product on full
 * storage is the right one, and full storage is what the block kernels read). The slack vector s
 * stores each block as a full n×n matrix, then the λ copies of the nonnegative cone.
 *
 * Blocks are plain data (one kind per layer type); each backend implements the products for each
 * kind (like one bound rule per graph op). The reference products are in fc-ops.ts.
 */
import type { Matrix } from '../model/ir.js';

/** Where a symmetric matrix variable Q_k lives in x. */
export interface QVar {
  readonly size: number;
  readonly offset: number;
}

/** Non-last fully connected layer block, size n + m for W ∈ R^{m×n}. */
export interface FcBlock {
  readonly kind: 'fc';
  readonly W: Matrix;
  readonly alpha: number;
  readonly beta: number;
  /** Index into `qVars` of the incoming Q, or -1 when the incoming weight is ρI. */
  readonly qIn: number;
  /** Index into `qVars` of the outgoing Q (size m). */
  readonly qOut: number;
  /** Offset of λ (length m) in x. */
  readonly lambdaOffset: number;
  /** Offset of this block's full (n+m)² storage in s. */
  readonly sOffset: number;
  readonly size: number;
}

/** Last (linear output) layer block Q_in − WᵀW ⪰ 0, size n. */
export interface FcLastBlock {
  readonly kind: 'fcLast';
  readonly W: Matrix;
  readonly qIn: number;
  readonly sOffset: number;
  readonly size: number;
}

export type LmiBlock = FcBlock | FcLastBlock;

export interface LayeredSdp {
  readonly blocks: readonly LmiBlock[];
  readonly qVars: readonly QVar[];
  /** x[0] = ρ. */
  readonly rhoIndex: 0;
  /** λ's are stored contiguously in x from offset 1, layer by layer. */
  readonly lambdaLength: number;
  readonly xLength: number;
  /** Offset in s of the nonnegative-cone copy of λ (length lambdaLength). */
  readonly nonnegOffset: number;
  readonly sLength: number;
}

/** Helper to lay out the variables and blocks for a list of layer specs. */
export function layoutFcChain(
  layers: readonly { W: Matrix; alpha?: number; beta?: number }[],
): LayeredSdp {
  const L = layers.length;
  if (L === 0) throw new Error('layoutFcChain: empty chain');
  let lambdaLength = 0;
  for (let k = 0; k < L - 1; k++) lambdaLength += layers[k].W.rows;
  let xOff = 1 + lambdaLength;
  const qVars: QVar[] = [];
  for (let k = 0; k < L - 1; k++) {
    const m = layers[k].W.rows;
    qVars.push({ size: m, offset: xOff });
    xOff += m * m;
  }
  const blocks: LmiBlock[] = [];
  let sOff = 0;
  let lamOff = 1;
  for (let k = 0; k < L; k++) {
    const { W } = layers[k];
    if (k > 0 && layers[k - 1].W.rows !== W.cols)
      throw new Error(`layoutFcChain: layer ${k} expects ${W.cols} inputs but layer ${k - 1} has ${layers[k - 1].W.rows} outputs`);
    if (k < L - 1) {
      const size = W.cols + W.rows;
      const alpha = layers[k].alpha;
      const beta = layers[k].beta;
      if (alpha === undefined || beta === undefined) throw new Error(`layoutFcChain: layer ${k} needs slope bounds`);
      blocks.push({ kind: 'fc', W, alpha, beta, qIn: k - 1, qOut: k, lambdaOffset: lamOff, sOffset: sOff, size });
      lamOff += W.rows;
      sOff += size * size;
    } else {
      const size = W.cols;
      blocks.push({ kind: 'fcLast', W, qIn: k - 1, sOffset: sOff, size });
      sOff += size * size;
    }
  }
  return {
    blocks,
    qVars,
    rhoIndex: 0,
    lambdaLength,
    xLength: xOff,
    nonnegOffset: sOff,
    sLength: sOff + lambdaLength,
  };
}
