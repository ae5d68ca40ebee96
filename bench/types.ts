/**
 * Data types shared by the benchmark harness: what one child process reports (RunResult), the
 * machine it ran on, and the per-network rows the renderers work from. Kept free of imports from
 * src/ so that the renderers and their tests never load the solver code.
 */

/** Method ids as given on the command line. naive/closed-form/lower are read off lipdp's report. */
export type MethodId = 'lipdp' | 'dsdp' | 'csdp' | 'naive' | 'closed-form' | 'lower';
export const ALL_METHODS: readonly MethodId[] = ['lipdp', 'dsdp', 'csdp', 'naive', 'closed-form', 'lower'];

/** paper: the inner chains of the GLipSDP networks the authors' Scalability table bounds (paper-chains.ts). */
export type SuiteId = 'fixtures' | 'mnist' | 'cifar10' | 'glipsdp' | 'paper';
export type BackendId = 'cpu' | 'webgpu';
/** roesser: lipdp's Roesser stage SDP for any network, fully connected chains included (export-sdpa --formulation roesser). */
export type Formulation = 'lipsdp-neuron' | 'layered' | 'roesser';

/**
 * One child-process job. `lipdp` jobs run estimateLipschitz on one backend; `sdp` jobs export one
 * SDP formulation and hand it to DSDP or CSDP.
 */
export type JobSpec =
  /**
   * formulation 'unrolled': convolutional networks as dense Toeplitz chains (LipSDP-Neuron); skipped for others.
   * 'roesser': `--formulation roesser` for every network, fully connected ones included.
   * 'fc': the default path of a fully connected chain (skipped for others, whose default is roesser).
   */
  | {
      readonly kind: 'lipdp';
      readonly backend: BackendId;
      readonly formulation?: 'unrolled' | 'roesser' | 'fc';
      /** Time for the empirical lower bound (library lowerBoundTimeMs); the library default when absent. */
      readonly lowerBoundTimeMs?: number;
    }
  | { readonly kind: 'sdp'; readonly solver: 'dsdp' | 'csdp'; readonly formulation: Formulation };

/**
 * ok:          finished with a bound (certified or not: see `certStatus`).
 * unsupported: lipdp (or the SDP export) does not handle this network yet.
 * skipped:     not attempted (e.g. the SDP is too large for an interior-point solver); see `message`.
 * timeout:     killed at --timeout.
 * failed:      crashed, ran out of memory, or the solver gave no usable answer; see `message`.
 */
export type RunStatus = 'ok' | 'unsupported' | 'skipped' | 'timeout' | 'failed';

export interface PhaseTimes {
  /** Milliseconds. Missing phases are absent, not 0. */
  readonly import?: number;
  readonly build?: number;
  readonly solve?: number;
  readonly certify?: number;
  /** Naive and lower bounds (lipdp only). */
  readonly bounds?: number;
}

export interface RunResult {
  readonly network: string;
  /** Method label, e.g. "lipdp-cpu", "dsdp-neuron", "csdp-layered". */
  readonly method: string;
  readonly job: JobSpec;
  readonly status: RunStatus;
  readonly message?: string;
  /** Upper bound on L: certified for lipdp, the solver's optimum (not re-verified) for DSDP/CSDP. */
  readonly bound?: number | null;
  /** lipdp: certified | fallback | failed; DSDP/CSDP: optimal | inaccurate | … */
  readonly certStatus?: string;
  /** lipdp's solver.status: 'time_limit' when the run's time limit ended the optimiser early. */
  readonly solverStatus?: string;
  readonly lowerBound?: number;
  readonly naiveBound?: number;
  readonly closedFormBound?: number | null;
  readonly times: PhaseTimes;
  /** When the run ended (ISO time). */
  readonly endedAt?: string;
  /** Wall time of the whole child process, spawn to exit (ms). */
  readonly wallMs: number;
  /** Interior-point iterations (peers); lipdp's optimiser iterations are `refineIterations`. */
  readonly iterations?: number;
  readonly refineIterations?: number;
  /** Largest resident set of the child (and, sampled, of the solver it started), bytes. */
  readonly maxRssBytes?: number;
  /** Solver buffers (device buffers on WebGPU), from lipdp's report. */
  readonly bufferBytes?: number;
  /** Host ↔ device traffic of a device backend, from lipdp's report (`solver.deviceTraffic`). */
  readonly deviceTraffic?: {
    readonly submissions: number;
    readonly readbacks: number;
    readonly bytesUploaded: number;
    readonly bytesDownloaded: number;
    readonly readbackWaitMs: number;
  };
  readonly adapter?: string;
  /**
   * The SDP a run solved: lipdp's fc, roesser or unrolled; for DSDP/CSDP on a convolutional network,
   * roesser (the layered stage SDP) or unrolled (LipSDP-Neuron of the dense Toeplitz chain).
   */
  readonly formulation?: string;
  /** SDP size: variables m and block sizes, for DSDP/CSDP runs and the too-large rule. */
  readonly sdpVars?: number;
  readonly sdpBlocks?: readonly number[];
  readonly notices?: readonly string[];
}

export interface MachineInfo {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryBytes: number;
  readonly node: string;
  readonly os: string;
  readonly hostname?: string;
  /** What the harness found about a GPU adapter, if it looked. */
  readonly gpu?: string;
}

/** What is known about a network before any method runs. */
export interface NetworkInfo {
  readonly name: string;
  readonly suite: SuiteId;
  readonly path: string;
  /** GLipSDP families: depth (layers L or conv layers C) and width (W or channels CH). */
  readonly family?: 'mlp' | 'cnn';
  readonly depth?: number;
  readonly width?: number;
}

export interface BenchRun {
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly machine: MachineInfo;
  readonly options: Record<string, unknown>;
  readonly networks: readonly NetworkInfo[];
  readonly results: readonly RunResult[];
}
