/**
 * Backend selection: 'cpu', 'webgpu', or 'auto': WebGPU on a hardware adapter; the CPU backend
 * when there is no adapter or only a software renderer (lavapipe, SwiftShader: they run on the
 * same cores, and the benchmark measured the CPU backend faster on every network there), each with
 * a one-line notice saying why. The WebGPU module is imported lazily so CPU-only use never loads Dawn.
 */
import type { Backend } from './backend.js';
import { CpuBackend } from './cpu/cpu-backend.js';
import { LipdpError } from '../model/errors.js';
import type { BackendChoice } from '../report/types.js';

export async function createBackend(choice: BackendChoice, notice: (msg: string) => void = () => {}): Promise<Backend> {
  if (choice === 'cpu') return new CpuBackend();
  if (choice !== 'webgpu' && choice !== 'auto') throw new LipdpError('INVALID_ARGUMENT', `unknown backend '${String(choice)}' (use cpu, webgpu or auto)`);
  try {
    const { WebGpuBackend } = await import('./webgpu/webgpu-backend.js');
    const gpu = await WebGpuBackend.create();
    if (choice === 'auto' && gpu.adapter.software) {
      const name = [gpu.adapter.vendor, gpu.adapter.architecture].filter(Boolean).join(' ') || 'unknown';
      notice(`backend auto: the WebGPU adapter (${name}) is a software renderer; using the CPU backend, which is faster there (bench/README.md)`);
      gpu.dispose();
      return new CpuBackend();
    }
    return gpu;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (choice === 'webgpu') throw new LipdpError('NO_DEVICE', `WebGPU backend unavailable: ${msg}`);
    notice(`WebGPU unavailable (${msg}); using the CPU backend`);
    return new CpuBackend();
  }
}
