/**
 * Messages between the page (main.ts) and the solver worker (worker.ts). Everything here is
 * structured-cloneable: the report and progress events are plain data.
 */
import type { LipschitzReport, ProgressEvent } from '../../src/report/types.js';

export type DemoBackend = 'webgpu' | 'cpu';

export interface RunRequest {
  readonly type: 'run';
  readonly id: number;
  readonly backend: DemoBackend;
  /** Name shown in messages (the file name). */
  readonly source: string;
  readonly model: Uint8Array;
  /** External-data files (`<model>.onnx.data`) by file name. */
  readonly externalFiles: Record<string, Uint8Array>;
}

export type ToWorker = RunRequest | { readonly type: 'cancel'; readonly id: number } | { readonly type: 'probe' };

export interface GpuProbe {
  readonly available: boolean;
  /** Why WebGPU is unavailable (one line), when it is. */
  readonly reason?: string;
  readonly vendor?: string;
  readonly architecture?: string;
  readonly description?: string;
}

export type FromWorker =
  | { readonly type: 'probe'; readonly gpu: GpuProbe }
  | { readonly type: 'progress'; readonly id: number; readonly event: ProgressEvent }
  | { readonly type: 'done'; readonly id: number; readonly report: LipschitzReport }
  | { readonly type: 'error'; readonly id: number; readonly code: string; readonly message: string };
