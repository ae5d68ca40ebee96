/**
 * The solver worker: runs estimateLipschitz off the main thread so the page stays responsive
 * (the CPU backend and the f64 refinement/certificate are long synchronous computations).
 *
 * Protocol (protocol.ts): 'probe' → whether this worker sees a WebGPU adapter; 'run' → progress
 * events, then 'done' with the report or 'error' with the LipdpError code and one-line message;
 * 'cancel' → aborts the run's AbortController. The library checks the signal between phases and
 * iterations, but it can only see the cancel message when it yields to the event loop (the WebGPU
 * read-backs do; the CPU solver does not), so the page also terminates a worker that does not
 * answer a cancel promptly (worker-client.ts).
 */
import { estimateLipschitz } from '../../src/estimate.js';
import { registerShaderSources } from '../../src/backend/webgpu/shaders.js';
import { SHADER_SOURCES } from './shaders.js';
import type { FromWorker, GpuProbe, RunRequest, ToWorker } from './protocol.js';

/** The part of DedicatedWorkerGlobalScope used here (the project's lib is DOM, not WebWorker). */
interface WorkerScope {
  postMessage(message: FromWorker): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<ToWorker>) => void): void;
}
const scope = self as unknown as WorkerScope;

registerShaderSources(SHADER_SOURCES);

let current: { readonly id: number; readonly controller: AbortController } | undefined;

scope.addEventListener('message', (e) => {
  const msg = e.data;
  switch (msg.type) {
    case 'probe':
      void probeGpu().then((gpu) => scope.postMessage({ type: 'probe', gpu }));
      break;
    case 'run':
      void run(msg);
      break;
    case 'cancel':
      if (current?.id === msg.id) current.controller.abort();
      break;
  }
});

async function probeGpu(): Promise<GpuProbe> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { available: false, reason: 'this browser exposes no navigator.gpu in workers (WebGPU disabled or unsupported)' };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { available: false, reason: 'navigator.gpu.requestAdapter() returned no adapter (GPU blocklisted or unavailable)' };
    const info = adapter.info;
    return {
      available: true,
      ...(info?.vendor ? { vendor: info.vendor } : {}),
      ...(info?.architecture ? { architecture: info.architecture } : {}),
      ...(info?.description ? { description: info.description } : {}),
    };
  } catch (err) {
    return { available: false, reason: `requestAdapter failed: ${firstLine(err)}` };
  }
}

async function run(req: RunRequest): Promise<void> {
  const controller = new AbortController();
  current = { id: req.id, controller };
  try {
    const report = await estimateLipschitz(req.model, {
      backend: req.backend,
      source: req.source,
      externalFiles: req.externalFiles,
      signal: controller.signal,
      onProgress: (event) => scope.postMessage({ type: 'progress', id: req.id, event }),
    });
    scope.postMessage({ type: 'done', id: req.id, report });
  } catch (err) {
    const code = typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'INTERNAL';
    scope.postMessage({ type: 'error', id: req.id, code, message: firstLine(err) });
  } finally {
    if (current?.id === req.id) current = undefined;
  }
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] || 'unknown error';
}
