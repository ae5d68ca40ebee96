/**
 * Real convolutional networks from ../shared/models — a strided MNIST CNN, a CIFAR-10 CNN and a
 * CIFAR-10 residual network: the certified bound (Roesser stage LMIs) is ≥ the empirical lower
 * bound and ≤ the certified naive bound (product of the stages' own certified gains). Short
 * optimiser iteration counts keep this a test; the full runs with the default budgets, and every other CNN,
 * are in the benchmark (bench/README.md). Runs whenever ../shared/models exists; in CI it must.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { estimateLipschitz } from '../../src/estimate.js';

const SHARED = fileURLToPath(new URL('../../../shared/models', import.meta.url));
const have = existsSync(SHARED);
if (!have && process.env.CI) throw new Error(`../shared/models is required in CI (looked in ${SHARED})`);

const MODELS = ['mnist/convSmallRELU__PGDK.onnx', 'cifar10/cifar_base_kw.onnx', 'cifar10/resnet_2b.onnx'];

describe.runIf(have)('real CNNs: lower ≤ certified ≤ naive (Roesser formulation)', () => {
  for (const rel of MODELS) {
    it(rel, { timeout: 600_000 }, async () => {
      const r = await estimateLipschitz(`${SHARED}/${rel}`, { formulation: 'roesser', refineMaxIter: 60, lowerBoundIterations: 40 });
      expect(r.formulation).toBe('roesser');
      expect(r.status).toBe('certified');
      const L = r.upperBound!;
      expect(r.lowerBound).toBeGreaterThan(0);
      expect(L).toBeGreaterThanOrEqual(r.lowerBound);
      expect(Number.isFinite(r.naiveBound)).toBe(true);
      expect(L).toBeLessThanOrEqual(r.naiveBound);
      console.log(`[real-conv] ${rel}: L=${L} lower=${r.lowerBound} naive=${r.naiveBound} ${r.timings.total.toFixed(0)} ms`);
    });
  }
});
