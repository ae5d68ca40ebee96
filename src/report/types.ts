/**
 * The report lipdp returns (library) and prints (CLI, --json). Scripts depend on the top-level
 * fields `upperBound`, `status`, `lowerBound`, `naiveBound`, `backend`, `timings`, `solver`:
 * keep them stable.
 */
import type { AdapterInfo } from '../backend/backend.js';

export type BackendChoice = 'cpu' | 'webgpu' | 'auto';

/**
 * certified: the bound comes from the optimised multipliers and passed the f64 certificate.
 * fallback:  optimisation did not produce a verifiable certificate; the bound is the best
 *            certified fallback (closed-form multipliers or the naive product bound).
 * failed:    nothing could be certified; upperBound is null.
 */
export type CertificationStatus = 'certified' | 'fallback' | 'failed';

export interface Timings {
  /** Milliseconds per phase. */
  readonly import: number;
  readonly build: number;
  readonly solve: number;
  readonly certify: number;
  readonly bounds: number;
  readonly total: number;
}

export interface SolverStats {
  readonly iterations: number;
  readonly primalResidual: number;
  readonly dualResidual: number;
  /** converged | max_iter | time_limit | stopped (certified bound stalled) | aborted */
  readonly status: string;
  /** Iterations of the f64 multiplier refinement after ADMM (0 if skipped). */
  readonly refineIterations: number;
  /** Sizes of the LMI blocks the solver worked on. */
  readonly lmiSizes: readonly number[];
  /** Bytes of solver buffers (device buffers on WebGPU). */
  readonly bufferBytes: number;
}

export interface CertificateInfo {
  /** The certificate is always computed in Float64 on the CPU. */
  readonly precision: 'f64';
  /** Which multipliers the reported bound came from. */
  readonly source: 'solver' | 'closed-form' | 'naive' | 'none';
  /** Bisection interval on ρ = L²: lo is infeasible for the multipliers, hi is verified. */
  readonly rhoInterval: readonly [number, number] | null;
  /** Bound from the closed-form (scalar-multiplier) feasible point, certified. */
  readonly closedFormBound: number | null;
}

export interface NetworkSummary {
  readonly source: string;
  readonly inputSize: number;
  readonly outputSize: number;
  /** One line per analysed layer, e.g. "dense 784→50, relu [0,1]". */
  readonly layers: readonly string[];
}

export interface LipschitzReport {
  /** Certified upper bound on the ℓ2 Lipschitz constant, or null if nothing could be certified. */
  readonly upperBound: number | null;
  readonly status: CertificationStatus;
  /** Empirical lower bound (max difference quotient found). */
  readonly lowerBound: number;
  /** Certified naive bound: product of layer spectral norms and slope maxima. */
  readonly naiveBound: number;
  readonly backend: 'cpu' | 'webgpu';
  /** Arithmetic of the solver iterations. */
  readonly solverPrecision: 'f64' | 'f32';
  readonly adapter?: AdapterInfo;
  readonly timings: Timings;
  readonly solver: SolverStats;
  readonly certificate: CertificateInfo;
  readonly network: NetworkSummary;
  /**
   * Which SDP was solved: 'fc' (layered LipSDP of a dense chain), 'roesser' or 'unrolled' (2-D conv
   * nets), 'oned' (1-D conv / state-space layers; bound for sequences of any length).
   */
  readonly formulation: 'fc' | 'roesser' | 'unrolled' | 'oned';
  /** Notices for the user (e.g. "WebGPU unavailable, fell back to CPU"). */
  readonly notices: readonly string[];
}

export interface ProgressEvent {
  readonly phase: 'import' | 'bounds' | 'build' | 'solve' | 'refine' | 'certify' | 'done';
  readonly iteration?: number;
  readonly maxIterations?: number;
  readonly primalResidual?: number;
  readonly dualResidual?: number;
  /** Best certified bound so far. */
  readonly bestBound?: number | null;
}

export interface EstimateOptions {
  readonly backend?: BackendChoice;
  /** ADMM relative residual tolerance. */
  readonly tol?: number;
  readonly maxIter?: number;
  /** ADMM wall-clock budget in ms; the f64 refinement afterwards does the fine work. */
  readonly admmTimeBudgetMs?: number;
  /** Relative improvement of the certified bound below which the solve stops. */
  readonly certTol?: number;
  /** Skip the f64 multiplier refinement after ADMM. */
  readonly noRefine?: boolean;
  /**
   * Wall-clock budget in ms of the f64 multiplier optimiser (after ADMM for dense chains; the whole
   * optimisation for conv / pooling / residual and 1-D networks). Default 60 000; it usually stops
   * earlier, when it converges.
   */
  readonly refineTimeMs?: number;
  /**
   * Conv networks: 'roesser' (2-D Roesser realisations, LMI size independent of the image),
   * 'unrolled' (conv as its dense Toeplitz operator, LipSDP-Neuron; tighter, much larger), or
   * 'auto' (by size). 'fc' / undefined: dense chains use the FC pipeline.
   */
  readonly formulation?: 'auto' | 'fc' | 'roesser' | 'unrolled';
  /** @deprecated No longer read: the lower-bound search's effort is `lowerBoundIterations`. */
  readonly lowerBoundSamples?: number;
  /** Optional wall-clock cap in ms on the lower-bound search (default none: with a cap the result depends on machine load). */
  readonly lowerBoundTimeMs?: number;
  /**
   * Iteration budget of the lower-bound search (src/bounds/search.ts); the default, 40–300, shrinks
   * with the network's forward cost so the phase stays near half a minute on the largest CIFAR-10 nets.
   */
  readonly lowerBoundIterations?: number;
  /** Seed of the lower-bound search (default 1); the same seed, samples and budget give the same lower bound. */
  readonly lowerBoundSeed?: number;
  /**
   * Starting points for the lower-bound search: inputs in the model's input layout, or (Node) a JSON
   * file path — an array of inputs, `{ "inputs": [...] }` or `{ "images": [{ "x": ... }] }`; nested arrays are flattened.
   */
  readonly samples?: string | readonly ArrayLike<number>[];
  readonly onProgress?: (e: ProgressEvent) => void;
  readonly signal?: AbortSignal;
  /** External-data files by name (browser use; in Node they are read next to the model). */
  readonly externalFiles?: Map<string, Uint8Array> | Record<string, Uint8Array>;
  /** Name for messages when the model is given as bytes. */
  readonly source?: string;
}
