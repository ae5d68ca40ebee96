/**
 * The "small enough for an interior-point solver" rule. DSDP and CSDP form and factor the dense
 * m×m Schur complement every iteration (m = number of SDP variables) and work with dense copies of
 * every block, so their time grows like m³ and m²·n² and their memory like m² + n². Measured on the
 * 2-core development machine (bench/README.md): LipSDP-Neuron of mnist_relu_3_50 (m = 111, block
 * 894) takes DSDP ~30 s, while the layered SDP of the same network (m = 2716, blocks ≤ 834) ran
 * CSDP for over 10 minutes without finishing, and DSDP on LipSDP-Neuron of mnist-net_256x2
 * (m = 513, block 1296) for over 5 minutes. Beyond the limits (args.ts: m ≤ 1000, largest block
 * ≤ 1100 by default) a run would only burn the timeout, so it is recorded as skipped: 'too large'.
 */
export interface SdpLimits {
  readonly maxVars: number;
  readonly maxBlock: number;
}

/** A reason string when the SDP is over the limits, else undefined. */
export function sdpTooLarge(vars: number, blockSizes: readonly number[], limits: SdpLimits): string | undefined {
  // Diagonal (LP) blocks have negative sizes in SDPA and cost next to nothing.
  const maxBlock = blockSizes.reduce((a, b) => Math.max(a, b), 0);
  if (vars > limits.maxVars) return `too large (m = ${vars} variables > ${limits.maxVars})`;
  if (maxBlock > limits.maxBlock) return `too large (block ${maxBlock} > ${limits.maxBlock})`;
  return undefined;
}

/**
 * Nonzero entries of the SDPA file above which the export itself is not attempted: the file is
 * written as one string (V8 caps strings at ~512 MB) and built in memory entry by entry. With
 * slopes α > 0 (LeakyReLU, ELU) every neuron's QC carries the dense rank-one term 2αβ·wwᵀ of its
 * weight row w, so a 784-input layer of 64 neurons is already ~20 million entries (the GLipSDP
 * mlp_L3_W64 export ran the process out of heap).
 */
export const MAX_SDPA_NONZEROS = 5_000_000;

/** Upper-triangle nonzeros of the FC exports: per hidden neuron its weight row, plus w·wᵀ when αβ ≠ 0. */
export function fcSdpNonzeros(widths: readonly number[], denseQc: readonly boolean[]): number {
  let nnz = widths[0]!;
  for (let k = 1; k < widths.length - 1; k++) {
    const nIn = widths[k - 1]!;
    // weight row, own diagonal, its λ ≥ 0 entry, and the dense αβ·wwᵀ term.
    nnz += widths[k]! * (nIn + 2 + (denseQc[k - 1] ? (nIn * (nIn + 1)) / 2 : 0));
  }
  const last = widths[widths.length - 2]!;
  return nnz + (last * (last + 1)) / 2;
}

export interface SdpSize {
  readonly vars: number;
  /** SDPA block sizes (negative: diagonal block), as the exporter lays them out. */
  readonly blocks: readonly number[];
}

/**
 * Size of lipdp's SDPA export (src/lmi/sdpa.ts) from the layer widths alone, so that the too-large
 * rule can be applied before building (the layered SDP of a wide network has hundreds of
 * thousands of variables). widths = [n_0, n_1, …, n_ℓ]; the last layer has no activation.
 */
export function sdpSizeOf(widths: readonly number[], formulation: 'lipsdp-neuron' | 'layered'): SdpSize {
  const hidden = widths.slice(1, -1);
  const N = hidden.reduce((a, b) => a + b, 0);
  const lambda = N > 0 ? [-N] : [];
  if (formulation === 'lipsdp-neuron') return { vars: 1 + N, blocks: [widths[0]! + N, ...lambda] };
  const blocks: number[] = [];
  for (let k = 1; k < widths.length - 1; k++) blocks.push(widths[k - 1]! + widths[k]!);
  blocks.push(widths[widths.length - 2]!);
  const vars = 1 + hidden.reduce((a, n) => a + n + (n * (n + 1)) / 2, 0);
  return { vars, blocks: [...blocks, ...lambda] };
}

/** The stage shapes stageSdpSize needs (a structural subset of src/lmi/stage/stages.ts' Stage). */
export interface StageShape {
  readonly nz: number;
  readonly last: boolean;
  readonly out: { readonly G: { readonly rows: number } };
  readonly pool: { readonly diag: boolean };
  readonly systems: readonly { readonly nx1: number; readonly nx2: number }[];
  readonly internal: readonly { readonly G: { readonly rows: number } }[];
}

/**
 * Size of the Roesser stage SDP (src/lmi/stage/sdpa.ts) without building it: ρ; per stage the
 * P1/P2 of every system, λ of every inner and the output activation, Q_out (diagonal after max
 * pooling); blocks: each stage LMI, every nonempty P, one diagonal block for all λ.
 */
export function stageSdpSize(stages: readonly StageShape[]): SdpSize {
  let vars = 1;
  let lambdas = 0;
  const blocks: number[] = [];
  const pBlocks: number[] = [];
  const tri = (n: number): number => (n * (n + 1)) / 2;
  for (const st of stages) {
    const m = st.out.G.rows;
    blocks.push(st.last ? st.nz : st.nz + m);
    for (const sy of st.systems) {
      vars += tri(sy.nx1) + tri(sy.nx2);
      for (const n of [sy.nx1, sy.nx2]) if (n > 0) pBlocks.push(n);
    }
    for (const q of st.internal) lambdas += q.G.rows;
    if (!st.last) {
      lambdas += m;
      vars += st.pool.diag ? m : tri(m);
    }
  }
  vars += lambdas;
  return { vars, blocks: [...blocks, ...pBlocks, ...(lambdas > 0 ? [-lambdas] : [])] };
}
