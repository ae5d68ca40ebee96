/**
 * Messages between the page (main.ts) and the solver worker (worker.ts). Everything here is
 * structured-cloneable: the report and progress events are plain data.
 */
import type { LipschitzReport, ProgressEvent } from '../../src/report/types.js';

export type DemoBackend = 'webgpu' | 'cpu';
export type DemoFormulation = 'auto' | 'roesser' | 'unrolled';

/** Solver settings the page exposes (passed to estimateLipschitz). */
export interface RunSettings {
  /** Time limit of the whole solve, ms (the library's `timeLimitMs`). */
  readonly timeLimitMs: number;
  readonly formulation: DemoFormulation;
  /** Cap of the empirical lower-bound search, ms (the library's default, passed so the page knows it). */
  readonly lowerBoundTimeMs: number;
}

export interface RunRequest {
  readonly type: 'run';
  readonly id: number;
  readonly backend: DemoBackend;
  readonly settings: RunSettings;
  /** Name shown in messages (the file name). */
  readonly source: string;
  readonly model: Uint8Array;
  /** External-data files (`<model>.onnx.data`) by file name. */
  readonly externalFiles: Record<string, Uint8Array>;
}

/** Import only (no solve): validates a dropped file and describes its layers. */
export interface InspectRequest {
  readonly type: 'inspect';
  readonly id: number;
  readonly source: string;
  readonly model: Uint8Array;
  readonly externalFiles: Record<string, Uint8Array>;
}

export type ToWorker = RunRequest | InspectRequest | { readonly type: 'cancel'; readonly id: number } | { readonly type: 'probe' };

export interface GpuProbe {
  readonly available: boolean;
  /** Why WebGPU is unavailable (one line), when it is. */
  readonly reason?: string;
  readonly vendor?: string;
  readonly architecture?: string;
  readonly description?: string;
  readonly device?: string;
  /** GPUAdapter(Info).isFallbackAdapter, when the browser reports it. */
  readonly isFallbackAdapter?: boolean;
}

/** One layer of an imported network, as the layer table shows it. */
export interface LayerRow {
  /** Nesting depth (layers inside a residual block are 1). */
  readonly depth: number;
  readonly kind: string;
  /** e.g. "dense 784→50", "conv 1→4 k3x3 s1". */
  readonly detail: string;
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  readonly params: number;
}

export interface NetworkInfo {
  readonly source: string;
  readonly inputShape: readonly number[];
  readonly outputSize: number;
  readonly layers: readonly LayerRow[];
  /** A dense chain (the 'fc' formulation, whatever formulation the page asks for) or a structured net. */
  readonly denseChain: boolean;
  readonly signal: boolean;
}

export type FromWorker =
  | { readonly type: 'probe'; readonly gpu: GpuProbe }
  | { readonly type: 'progress'; readonly id: number; readonly event: ProgressEvent }
  | { readonly type: 'done'; readonly id: number; readonly report: LipschitzReport }
  | { readonly type: 'inspected'; readonly id: number; readonly info: NetworkInfo }
  | { readonly type: 'error'; readonly id: number; readonly code: string; readonly message: string };
