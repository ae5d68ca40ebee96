/**
 * The GPU test policy, in one place: a WebGPU adapter (real, or Mesa lavapipe) is expected.
 * - none and process.env.CI set  → throw: the test file FAILS (CI must never silently skip GPU tests);
 * - none outside CI              → the caller skips, after a loud console.warn.
 * Usage (top-level await):  const ctx = await gpuContextOrSkip();  describe.skipIf(!ctx)(...)
 */
import { acquireGpu } from '../../src/backend/webgpu/device.js';
import { GpuContext } from '../../src/backend/webgpu/context.js';

let probe: Promise<GpuContext | undefined> | undefined;

export function gpuContextOrSkip(): Promise<GpuContext | undefined> {
  probe ??= (async () => {
    try {
      return new GpuContext(await acquireGpu());
    } catch (e) {
      const msg = (e as Error).message;
      if (process.env.CI) throw new Error(`GPU tests require a WebGPU adapter in CI (install Mesa lavapipe: .ci/install-system.sh): ${msg}`);
      console.warn(`\n!!!!!!!! WEBGPU TESTS SKIPPED: ${msg}\n!!!!!!!! (they would FAIL with CI set; install Mesa lavapipe with .ci/install-system.sh)\n`);
      return undefined;
    }
  })();
  return probe;
}

/** Fills a GPU buffer range with NaN so that elements a kernel fails to write are caught. */
export function poison(ctx: GpuContext, buf: GPUBuffer, elements: number, offset = 0): void {
  ctx.write(buf, offset * 4, new Float32Array(elements).fill(Number.NaN));
}

/** Max |a−b| / max(1, max|b|), and NaN-aware: any NaN in a gives Infinity. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let e = 0;
  if (a.length !== b.length) return Infinity;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!Number.isFinite(a[i]) || Number.isNaN(d)) return Infinity;
    e = Math.max(e, d);
  }
  return e / scale;
}

/** Reads `n` f32 elements of a buffer back to the host. */
export async function readF32(ctx: GpuContext, buf: GPUBuffer, n: number, offset = 0): Promise<Float32Array> {
  const st = ctx.device.createBuffer({ size: Math.max(16, Math.ceil((n * 4) / 16) * 16), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = ctx.device.createCommandEncoder();
  if (n > 0) enc.copyBufferToBuffer(buf, offset * 4, st, 0, n * 4);
  ctx.device.queue.submit([enc.finish()]);
  await st.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(st.getMappedRange().slice(0, n * 4));
  st.unmap();
  st.destroy();
  return out;
}

/** Fails on validation errors the device reported while `fn` ran (they are otherwise only logged). */
export async function noGpuErrors<T>(ctx: GpuContext, fn: () => Promise<T>): Promise<T> {
  ctx.device.pushErrorScope('validation');
  ctx.device.pushErrorScope('out-of-memory');
  const r = await fn();
  const oom = await ctx.device.popErrorScope();
  const val = await ctx.device.popErrorScope();
  if (val) throw new Error(`WebGPU validation error: ${val.message}`);
  if (oom) throw new Error(`WebGPU out-of-memory: ${oom.message}`);
  return r;
}
