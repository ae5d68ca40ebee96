/**
 * The paper suite's grid and the authors' reference numbers (Pauli, Gramlich, Allgöwer,
 * arXiv 2405.01125, Scalability experiment; MOSEK values and solver times as quoted in issue 16).
 * Pure data and name helpers: no imports from src/, so networks.ts, the renderers and their tests
 * can use it without loading the library.
 */

/** CNN families cnn_C{C}_CH{c}: the chain is the C − 1 inner c→c kernels. */
export const PAPER_CNN_DEPTHS = [3, 5, 9, 17] as const;
export const PAPER_CNN_CHANNELS = [8, 16, 32] as const;
/** MLP families mlp_L{H}_W{w}: the chain is the H − 1 inner w×w weights. */
export const PAPER_MLP_DEPTHS = [3, 17, 33] as const;
export const PAPER_MLP_WIDTHS = [16, 32, 64] as const;

/** Prefix that keeps a chain's name apart from the full GLipSDP network it is cut from. */
export const PAPER_PREFIX = 'inner_';

export interface PaperRef {
  /** MOSEK's optimum of the layered SDP, as the authors report it. */
  readonly L: number;
  /** MOSEK solver time in seconds on the authors' laptop, where the issue quotes one. */
  readonly seconds?: number;
}

/**
 * Keyed by the source network's name. The CNN rows carry MOSEK's time; of the MLP rows only
 * L17_W64, L33_W16 and L33_W64 do (the issue quotes no others). At depth 32 MOSEK stops at a
 * numerical floor, so lipdp may legitimately go below these values there.
 */
export const MOSEK_REFERENCE: Readonly<Record<string, PaperRef>> = {
  cnn_C3_CH8: { L: 7.64876, seconds: 0.13 },
  cnn_C5_CH8: { L: 28.4899, seconds: 0.3 },
  cnn_C9_CH8: { L: 274.005, seconds: 0.31 },
  cnn_C17_CH8: { L: 11323.6, seconds: 0.89 },
  cnn_C3_CH16: { L: 8.02681, seconds: 1.58 },
  cnn_C5_CH16: { L: 36.0997, seconds: 4.26 },
  cnn_C9_CH16: { L: 177.64, seconds: 4.67 },
  cnn_C17_CH16: { L: 8080.77, seconds: 16.3 },
  cnn_C3_CH32: { L: 7.85208, seconds: 24.4 },
  cnn_C5_CH32: { L: 38.2056, seconds: 124 },
  cnn_C9_CH32: { L: 261.268, seconds: 269 },
  cnn_C17_CH32: { L: 10573.7, seconds: 548 },
  mlp_L3_W16: { L: 0.882718 },
  mlp_L3_W32: { L: 0.904927 },
  mlp_L3_W64: { L: 0.877468 },
  mlp_L17_W16: { L: 0.0331906 },
  mlp_L17_W32: { L: 0.017221 },
  mlp_L17_W64: { L: 0.0146309, seconds: 14.1 },
  mlp_L33_W16: { L: 0.000423459, seconds: 0.2 },
  mlp_L33_W32: { L: 0.000284756 },
  mlp_L33_W64: { L: 0.000387037, seconds: 29.4 },
};

export interface PaperChainInfo {
  /** Chain name used by the harness (file name without .onnx): inner_cnn_C3_CH8. */
  readonly name: string;
  /** The GLipSDP network it is cut from: cnn_C3_CH8. */
  readonly source: string;
  readonly family: 'cnn' | 'mlp';
  /** Number of layers in the chain: d = C − 1 (CNN) or H − 1 (MLP). */
  readonly depth: number;
  /** Channels c (CNN) or width w (MLP). */
  readonly width: number;
}

/** The suite's chains in table order: CNNs by channels then depth, then MLPs by depth then width. */
export function paperChains(): PaperChainInfo[] {
  const out: PaperChainInfo[] = [];
  for (const c of PAPER_CNN_CHANNELS)
    for (const C of PAPER_CNN_DEPTHS) out.push(chainInfo(`cnn_C${C}_CH${c}`)!);
  for (const H of PAPER_MLP_DEPTHS)
    for (const w of PAPER_MLP_WIDTHS) out.push(chainInfo(`mlp_L${H}_W${w}`)!);
  return out;
}

/** Chain info from either the source name (cnn_C3_CH8) or the chain name (inner_cnn_C3_CH8). */
export function chainInfo(name: string): PaperChainInfo | undefined {
  const source = name.startsWith(PAPER_PREFIX) ? name.slice(PAPER_PREFIX.length) : name;
  const cnn = /^cnn_C(\d+)_CH(\d+)$/.exec(source);
  if (cnn) return { name: PAPER_PREFIX + source, source, family: 'cnn', depth: Number(cnn[1]) - 1, width: Number(cnn[2]) };
  const mlp = /^mlp_L(\d+)_W(\d+)$/.exec(source);
  if (mlp) return { name: PAPER_PREFIX + source, source, family: 'mlp', depth: Number(mlp[1]) - 1, width: Number(mlp[2]) };
  return undefined;
}

export function mosekReference(chainName: string): PaperRef | undefined {
  const info = chainInfo(chainName);
  return info ? MOSEK_REFERENCE[info.source] : undefined;
}
