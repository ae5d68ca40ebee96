/**
 * The solver worker: runs estimateLipschitz off the main thread so the page stays responsive
 * (the CPU backend and the f64 optimisers are long synchronous computations).
 *
 * Protocol (protocol.ts): 'probe' → whether this worker sees a WebGPU adapter and what kind;
 * 'inspect' → import only, the layer description or the import error; 'run' → progress events,
 * then 'done' with the report or 'error' with the LipdpError code and one-line message;
 * 'cancel' → aborts the run's AbortController. The library checks the signal between phases and
 * iterations, but it can only see the cancel message when it yields to the event loop (every
 * ~25 ms of work where it can, not inside one long indivisible step), so the page also
 * terminates a worker that does not answer a cancel promptly (worker-client.ts).
 */
import { estimateLipschitz } from '../../src/estimate.js';
import { registerShaderSources } from '../../src/backend/webgpu/shaders.js';
import { SHADER_SOURCES } from './shaders.js';
import { inspectModel } from './inspect.js';
import type { FromWorker, GpuProbe, InspectRequest, RunRequest, ToWorker } from './protocol.js';

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
    case 'inspect':
      inspect(msg);
      break;
    case 'run':
      void run(msg);
      break;
    case 'cancel':
      if (current?.id === msg.id) current.controller.abort();
      break;
  }
});

/** GPUAdapter as Chromium has shipped it: isFallbackAdapter moved from the adapter to its info. */
type AdapterLike = GPUAdapter & { readonly isFallbackAdapter?: boolean; readonly info?: GPUAdapterInfo & { readonly isFallbackAdapter?: boolean } };

async function probeGpu(): Promise<GpuProbe> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { available: false, reason: 'this browser exposes no navigator.gpu in workers (WebGPU disabled or unsupported)' };
  try {
    // The same request the library's WebGPU backend makes, so the probe describes the adapter a
    // WebGPU run would get.
    const adapter = (await gpu.requestAdapter({ powerPreference: 'high-performance' })) as AdapterLike | null;
    if (!adapter) return { available: false, reason: 'navigator.gpu.requestAdapter() returned no adapter (GPU blocklisted or unavailable)' };
    const info = adapter.info;
    const fallback = info?.isFallbackAdapter ?? adapter.isFallbackAdapter;
    return {
      available: true,
      ...(info?.vendor ? { vendor: info.vendor } : {}),
      ...(info?.architecture ? { architecture: info.architecture } : {}),
      ...(info?.description ? { description: info.description } : {}),
      ...(info?.device ? { device: info.device } : {}),
      ...(typeof fallback === 'boolean' ? { isFallbackAdapter: fallback } : {}),
    };
  } catch (err) {
    return { available: false, reason: `requestAdapter failed: ${firstLine(err)}` };
  }
}

function inspect(req: InspectRequest): void {
  try {
    scope.postMessage({ type: 'inspected', id: req.id, info: inspectModel(req.model, req.source, req.externalFiles) });
  } catch (err) {
    scope.postMessage({ type: 'error', id: req.id, code: codeOf(err), message: firstLine(err) });
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
      timeLimitMs: req.settings.timeLimitMs,
      lowerBoundTimeMs: req.settings.lowerBoundTimeMs,
      ...(req.settings.formulation !== 'auto' ? { formulation: req.settings.formulation } : {}),
      signal: controller.signal,
      onProgress: (event) => scope.postMessage({ type: 'progress', id: req.id, event }),
    });
    scope.postMessage({ type: 'done', id: req.id, report });
  } catch (err) {
    // The library rejects an aborted run with the signal's reason (an AbortError here).
    const code = controller.signal.aborted ? 'ABORTED' : codeOf(err);
    scope.postMessage({ type: 'error', id: req.id, code, message: firstLine(err) });
  } finally {
    if (current?.id === req.id) current = undefined;
  }
}

function codeOf(err: unknown): string {
  return typeof (err as { code?: unknown } | null)?.code === 'string' ? (err as { code: string }).code : 'INTERNAL';
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] || 'unknown error';
}
