/**
 * End to end on WebGPU (Mesa lavapipe when no GPU is present): the certified bound with
 * backend 'webgpu' (f32 ADMM on the GPU, then the same f64 refinement and certificate) matches
 * backend 'cpu' within 0.5% on real fully connected networks, the report names the adapter, and
 * the GPU ADMM's own multipliers (no refinement) certify a bound by themselves, and the report
 * counts the host ↔ device traffic.
 * On lavapipe an ADMM iteration is slow, so these runs use a short ADMM budget.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { estimateLipschitz } from '../../src/estimate.js';
import { gpuContextOrSkip } from './gpu-available.js';

const FIX = fileURLToPath(new URL('../fixtures', import.meta.url));
const SHARED = fileURLToPath(new URL('../../../shared/models/glipsdp', import.meta.url));
const models = [`${FIX}/lipsdp_mnist_784_50_10_nobias.onnx`, `${FIX}/mnist_relu_3_50.onnx`];
// Small-block networks: on lavapipe, blocks above ~63 use the slow global-memory Jacobi route.
if (existsSync(SHARED)) models.push(`${SHARED}/mlp_L3_W32.onnx`, `${SHARED}/mlp_L17_W16.onnx`);
else if (process.env.CI) throw new Error(`../shared/models/glipsdp is missing in CI (${SHARED})`);

const gpu = await gpuContextOrSkip();

describe.skipIf(!gpu)('webgpu backend end to end', () => {
  for (const path of models) {
    const name = path.split('/').pop();
    it(`${name}: webgpu certified bound matches cpu within 0.5%`, { timeout: 300_000 }, async () => {
      const opts = { maxIter: 30, admmTimeBudgetMs: 600_000, lowerBoundSamples: 2 } as const;
      const cpu = await estimateLipschitz(path, { ...opts, backend: 'cpu' });
      const web = await estimateLipschitz(path, { ...opts, backend: 'webgpu' });
      expect(web.backend).toBe('webgpu');
      expect(web.solverPrecision).toBe('f32');
      expect(web.adapter && (web.adapter.vendor || web.adapter.description || web.adapter.architecture)).toBeTruthy();
      console.log(`[webgpu e2e] ${name}: cpu L=${cpu.upperBound} (${cpu.timings.total.toFixed(0)} ms), webgpu L=${web.upperBound} (${web.timings.total.toFixed(0)} ms), rel.diff=${(web.upperBound! / cpu.upperBound! - 1).toExponential(2)}, adapter ${JSON.stringify(web.adapter)}`);
      expect(cpu.status).toBe('certified');
      expect(web.status).toBe('certified');
      expect(Math.abs(web.upperBound! / cpu.upperBound! - 1)).toBeLessThan(5e-3);
      expect(web.upperBound!).toBeGreaterThanOrEqual(web.lowerBound);
      // The report counts the host ↔ device traffic of a device backend, and only there.
      expect(cpu.solver.deviceTraffic).toBeUndefined();
      const t = web.solver.deviceTraffic!;
      expect(t.submissions).toBeGreaterThanOrEqual(web.solver.iterations);
      expect(t.readbacks).toBeGreaterThan(0);
      expect(t.bytesUploaded).toBeGreaterThan(0);
      expect(t.bytesDownloaded).toBeGreaterThanOrEqual(4 * t.readbacks);
      expect(t.readbackWaitMs).toBeGreaterThan(0);
    });
  }

  it('the GPU ADMM multipliers alone (no f64 refinement) give a certified bound', { timeout: 300_000 }, async () => {
    const r = await estimateLipschitz(`${FIX}/mnist_relu_3_50.onnx`, { backend: 'webgpu', maxIter: 40, admmTimeBudgetMs: 600_000, noRefine: true, lowerBoundSamples: 2 });
    expect(r.status).toBe('certified');
    expect(r.certificate.source).toBe('solver');
    expect(r.solver.refineIterations).toBe(0);
    expect(r.upperBound!).toBeLessThan(r.certificate.closedFormBound!);
  });
});
