/**
 * The report lipdp returns (library) and prints (CLI, --json). Its JSON form is a published
 * contract (docs/report.md, docs/report.schema.json): add fields freely, but renaming, removing or
 * changing the meaning of one needs a new REPORT_SCHEMA_VERSION.
 */
import type { AdapterInfo, DeviceTraffic } from '../backend/backend.js';

export type BackendChoice = 'cpu' | 'webgpu' | 'auto';

/**
 * What the reported upper bound rests on (docs/report.md, "Statuses"):
 * certified: the optimised multipliers passed the f64 certificate and gave the reported bound.
 * fallback:  the optimised multipliers gave nothing better that could be verified; the bound is
 *            a verified fallback — the closed-form multipliers or the naive product of layer
 *            norms; `certificate.source` says which.
 * failed:    nothing could be verified; `upperBound` is null.
 */
export type CertificationStatus = 'certified' | 'fallback' | 'failed';

/** Version of the report's shape (docs/report.schema.json); raised on any incompatible change. */
export const REPORT_SCHEMA_VERSION = 1;

export interface Timings {
  /** Milliseconds per phase. */
  readonly import: number;
  readonly build: number;
  readonly solve: number;
  readonly certify: number;
  readonly bounds: number;
  readonly total: number;
}

/**
 * How the solve ended. Every network kind now reports one of two values:
 * f64-optimiser: the multiplier optimiser stopped on its own tests or iteration limit; its
 *                iterations are in `refineIterations`.
 * time_limit:    the caller's time limit ended it (the bound is still certified).
 * The other values are the stop reasons of the dense ADMM phase, which earlier versions ran on
 * fully connected chains; they stay in the type for reports those versions wrote.
 */
export type SolverStatus = 'converged' | 'max_iter' | 'time_limit' | 'stopped' | 'aborted' | 'f64-optimiser';

export interface SolverStats {
  /** ADMM iterations: always 0 (no network kind has an ADMM phase any more; kept for the schema). */
  readonly iterations: number;
  /**
   * Final relative ADMM residuals: NaN in the object (null in JSON, which is what JSON.stringify
   * writes for NaN), as there is no ADMM phase (kept for the schema).
   */
  readonly primalResidual: number;
  readonly dualResidual: number;
  readonly status: SolverStatus;
  /** Iterations of the f64 multiplier optimiser (Newton steps or L-BFGS iterations). */
  readonly refineIterations: number;
  /** Sizes of the LMI blocks the solver worked on. */
  readonly lmiSizes: readonly number[];
  /**
   * Per LMI block (stage): its own certified gain — the stage alone with a linear output from an
   * identity input weight (a dense stage: its certified spectral norm). These are the factors of the
   * naive bound; Infinity (null in JSON) where a stage could not be certified alone. Absent when the
   * naive bound was not computed that way.
   */
  readonly stageGains?: readonly number[];
  /** Bytes of solver buffers (device buffers on WebGPU; 0 when none were allocated). */
  readonly bufferBytes: number;
  /** Host ↔ device traffic over the run, on a device backend (absent on the CPU). */
  readonly deviceTraffic?: DeviceTraffic;
}

/** Where the reported bound came from: 'none' exactly when the status is 'failed'. */
export type CertificateSource = 'solver' | 'closed-form' | 'naive' | 'none';

export interface CertificateInfo<S extends CertificateSource = CertificateSource> {
  /** The certificate is always computed in Float64 on the CPU. */
  readonly precision: 'f64';
  /** Which multipliers the reported bound came from. */
  readonly source: S;
  /** Bisection interval on ρ = L² (of the reported bound's multipliers): lo failed the check, hi is verified. */
  readonly rhoInterval: readonly [number, number] | null;
  /** Bound from the closed-form (scalar-multiplier) feasible point, certified; null if not computed or not verified. */
  readonly closedFormBound: number | null;
}

export interface NetworkSummary {
  readonly source: string;
  readonly inputSize: number;
  readonly outputSize: number;
  /** One line per analysed layer, e.g. "dense 784→50, relu [0,1]". */
  readonly layers: readonly string[];
}

/** The fields every report has, whatever its status. */
export interface ReportCommon {
  /** REPORT_SCHEMA_VERSION of the lipdp that wrote it. */
  readonly schemaVersion: number;
  /** The `version` of lipdp's package.json ('unknown' where it cannot be read, e.g. a browser bundle). */
  readonly lipdpVersion: string;
  /** The model as given: its path, or a description ('bytes (<source>)', 'network object (<source>)'). */
  readonly model: string;
  /**
   * Empirical lower bound (largest difference quotient / Jacobian norm found by a search). Not
   * certified: the true constant lies in [lowerBound, upperBound].
   */
  readonly lowerBound: number;
  /**
   * Certified naive bound: product of layer spectral norms and slope maxima. Infinity in the
   * object (null in JSON) when it was not computed.
   */
  readonly naiveBound: number;
  readonly backend: 'cpu' | 'webgpu';
  /** Arithmetic of the solver iterations. */
  readonly solverPrecision: 'f64' | 'f32';
  readonly adapter?: AdapterInfo;
  readonly timings: Timings;
  readonly solver: SolverStats;
  readonly network: NetworkSummary;
  /**
   * Which SDP was solved: 'fc' (layered LipSDP of a dense chain), 'roesser' or 'unrolled' (2-D conv
   * nets), 'oned' (1-D conv / state-space layers; bound for sequences of any length).
   */
  readonly formulation: 'fc' | 'roesser' | 'unrolled' | 'oned';
  /** Notices for the user (e.g. "WebGPU unavailable, fell back to CPU"). */
  readonly notices: readonly string[];
}

/** The optimised multipliers were verified: upperBound is their certified bound. */
export interface CertifiedReport extends ReportCommon {
  readonly status: 'certified';
  /** Certified upper bound on the ℓ2 Lipschitz constant. */
  readonly upperBound: number;
  readonly certificate: CertificateInfo<'solver'>;
}

/** Only a fallback was verified: the closed-form start or the naive product (see certificate.source). */
export interface FallbackReport extends ReportCommon {
  readonly status: 'fallback';
  /** Certified upper bound on the ℓ2 Lipschitz constant (from the fallback). */
  readonly upperBound: number;
  readonly certificate: CertificateInfo<'closed-form' | 'naive'>;
}

/** Nothing could be verified. */
export interface FailedReport extends ReportCommon {
  readonly status: 'failed';
  readonly upperBound: null;
  readonly certificate: CertificateInfo<'none'>;
}

/**
 * The report lipdp returns (library) and prints (CLI, --json), discriminated on `status`:
 * `if (r.status !== 'failed') r.upperBound.toFixed(4)` type-checks. The JSON form is described
 * by docs/report.schema.json and docs/report.md; scripts may rely on the fields documented there.
 */
export type LipschitzReport = CertifiedReport | FallbackReport | FailedReport;

/** The object `lipdp … --json` prints on stdout instead of a report when it fails. */
export interface ErrorReport {
  readonly error: {
    /** A LipdpErrorCode, 'USAGE' for bad command-line arguments, or 'INTERNAL' for a bug. */
    readonly code: string;
    /** One line, the same as the text form prints after `lipdp: error:`. */
    readonly message: string;
  };
}

export interface ProgressEvent {
  /** 'certify' is emitted where a pipeline reports its final verification as a phase of its own. */
  readonly phase: 'import' | 'bounds' | 'build' | 'solve' | 'refine' | 'certify' | 'done';
  readonly iteration?: number;
  readonly maxIterations?: number;
  readonly primalResidual?: number;
  readonly dualResidual?: number;
  /**
   * Best bound so far. It is a certified bound only when `bestBoundCertified` is true (the final
   * 'done' event); otherwise it is the optimiser's current
   * estimate √g, which has not passed the f64 check and can lie below the bound that will be
   * certified.
   */
  readonly bestBound?: number | null;
  /** Whether `bestBound` has passed the f64 certificate. */
  readonly bestBoundCertified?: boolean;
}

export interface EstimateOptions {
  readonly backend?: BackendChoice;
  /** @deprecated No longer read: there is no ADMM phase (one solver core for every network kind). */
  readonly tol?: number;
  /** @deprecated No longer read (it was ADMM's iteration limit); the optimiser's is `refineMaxIter`. */
  readonly maxIter?: number;
  /**
   * Time limit of the whole solve in ms (default: none). The optimisers stop on convergence tests
   * and iteration counts, so without a limit the bound does not depend on machine load; when the
   * limit ends a phase early the report's `solver.status` is 'time_limit' and the bound is still
   * certified (from the best multipliers reached).
   */
  readonly timeLimitMs?: number;
  /** @deprecated counts as `timeLimitMs` (the smallest given limit applies to the whole solve). */
  readonly admmTimeBudgetMs?: number;
  /** @deprecated No longer read: there is no ADMM phase. */
  readonly certTol?: number;
  /** @deprecated No longer read: the f64 optimiser is the only one. */
  readonly noRefine?: boolean;
  /**
   * Iteration limit of the f64 multiplier optimiser (which also caps each part of a long chain).
   * Default by formulation: dense chains 3000, unrolled 1000, Roesser and 1-D 6000. An iteration
   * count, not a time: the result does not depend on the machine.
   */
  readonly refineMaxIter?: number;
  /**
   * Multiplier solver of Roesser stage chains (docs/method.md §6.4): 'auto' (default) the
   * primal-dual Newton method where every stage fits its size rule, else L-BFGS; 'newton' Newton
   * first whatever the size; 'lbfgs' never Newton.
   */
  readonly stageSolver?: 'auto' | 'newton' | 'lbfgs';
  /**
   * @deprecated counts as `timeLimitMs`. Formerly: wall-clock budget in ms of the f64 multiplier optimiser (after ADMM for dense chains; the whole
   * optimisation for conv / pooling / residual and 1-D networks). Default 60 000; it usually stops
   * earlier, when it converges.
   */
  readonly refineTimeMs?: number;
  /**
   * How the network becomes a stage chain: 'fc' (a fully connected chain, one dense stage per
   * layer; anything else falls back to 'auto'), 'roesser' (2-D Roesser realisations, LMI size
   * independent of the image), 'unrolled' (conv as its dense Toeplitz operator, LipSDP-Neuron;
   * tighter, much larger), or 'auto' (default: 'fc' for dense chains, else by size).
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
  /**
   * Memory cap in bytes for the model import and the activations of the later phases; models
   * past it are refused up front as too large (default a quarter of the machine's memory, at most 1 GiB).
   */
  readonly maxMemoryBytes?: number;
}
