/**
 * Backend selection: 'cpu', 'webgpu', or 'auto' (WebGPU when an adapter appears, else the CPU
 * with a one-line notice). The WebGPU module is imported lazily so CPU-only use never loads Dawn.
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
    return await WebGpuBackend.create();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (choice === 'webgpu') throw new LipdpError('NO_DEVICE', `WebGPU backend unavailable: ${msg}`);
    notice(`WebGPU unavailable (${msg}); using the CPU backend`);
    return new CpuBackend();
  }
}
