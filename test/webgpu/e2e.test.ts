/**
 * End to end on WebGPU (Mesa lavapipe when no GPU is present), through estimateLipschitz:
 *  - a convolutional chain optimised by L-BFGS gives the device work (the Roesser products of its
 *    coarse levels, f32): its certified bound matches the CPU backend's within 0.5 %, the report
 *    names the adapter and counts the host ↔ device traffic;
 *  - dense chains run wholly on the CPU whatever the backend: the same bound as with 'cpu', bit
 *    for bit, no device work, and a notice that says the backend was not used.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { estimateLipschitz } from '../../src/estimate.js';
import { gpuContextOrSkip } from './gpu-available.js';

const FIX = fileURLToPath(new URL('../fixtures', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../examples', import.meta.url));
const SHARED = fileURLToPath(new URL('../../../shared/models/glipsdp', import.meta.url));
const dense = [`${FIX}/lipsdp_mnist_784_50_10_nobias.onnx`, `${FIX}/mnist_relu_3_50.onnx`];
if (existsSync(SHARED)) dense.push(`${SHARED}/mlp_L3_W32.onnx`);
else if (process.env.CI) throw new Error(`../shared/models/glipsdp is missing in CI (${SHARED})`);

const gpu = await gpuContextOrSkip();

describe.skipIf(!gpu)('webgpu backend end to end', () => {
  it('conv chain, L-BFGS: the device computes the Roesser products; bound within 0.5 % of the CPU backend', { timeout: 300_000 }, async () => {
    const opts = { formulation: 'roesser', stageSolver: 'lbfgs', refineMaxIter: 300, lowerBoundIterations: 2 } as const;
    const cpu = await estimateLipschitz(`${EXAMPLES}/cnn_tiny.onnx`, { ...opts, backend: 'cpu' });
    const web = await estimateLipschitz(`${EXAMPLES}/cnn_tiny.onnx`, { ...opts, backend: 'webgpu' });
    console.log(`[webgpu e2e] cnn_tiny: cpu L=${cpu.upperBound} (${cpu.timings.total.toFixed(0)} ms), webgpu L=${web.upperBound} (${web.timings.total.toFixed(0)} ms), traffic ${JSON.stringify(web.solver.deviceTraffic)}, adapter ${JSON.stringify(web.adapter)}`);
    expect(web.backend).toBe('webgpu');
    expect(web.solverPrecision).toBe('f32');
    expect(web.adapter && (web.adapter.vendor || web.adapter.description || web.adapter.architecture)).toBeTruthy();
    expect(cpu.status).toBe('certified');
    expect(web.status).toBe('certified');
    expect(Math.abs(web.upperBound! / cpu.upperBound! - 1)).toBeLessThan(5e-3);
    expect(web.upperBound!).toBeGreaterThanOrEqual(web.lowerBound);
    expect(cpu.solver.deviceTraffic).toBeUndefined();
    const t = web.solver.deviceTraffic!;
    expect(t.submissions).toBeGreaterThan(0);
    expect(t.readbacks).toBeGreaterThan(0);
    expect(t.bytesUploaded).toBeGreaterThan(0);
    expect(t.bytesDownloaded).toBeGreaterThanOrEqual(4 * t.readbacks);
  });

  for (const path of dense) {
    const name = path.split('/').pop();
    it(`${name}: a dense chain gives the device no work and the CPU's bound`, { timeout: 300_000 }, async () => {
      const opts = { refineMaxIter: 200, lowerBoundIterations: 2 } as const;
      const cpu = await estimateLipschitz(path, { ...opts, backend: 'cpu' });
      const web = await estimateLipschitz(path, { ...opts, backend: 'webgpu' });
      expect(web.backend).toBe('webgpu');
      expect(web.formulation).toBe('fc');
      expect(cpu.status).toBe('certified');
      expect(web.upperBound).toBe(cpu.upperBound);
      expect(web.notices.some((n) => /dense chain is optimised in f64 on the CPU; the backend was not used/.test(n))).toBe(true);
      expect(web.solver.deviceTraffic?.submissions ?? 0).toBe(0);
    });
  }
});
