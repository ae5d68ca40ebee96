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
import { importOnnx } from '../../src/model/import.js';
import { planStages } from '../../src/lmi/stage/structure.js';
import { certifyStages } from '../../src/certify/chain-certify.js';
import { segment, startFromParts } from '../../src/solver/parts-start.js';
import { scaleParams, startParams } from '../../src/solver/refine-chain.js';
import { solveNetwork } from '../../src/pipeline/solve.js';

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

/**
 * The whole is never looser than its parts (issue 16, deliverable 4) on a real deep CNN: the
 * certified bound of glipsdp cnn_C9_CH8 (9 convs, pooling, dense: 10 stages) is at most the
 * product of the certified bounds of the parts its chain start was built from.
 */
describe.runIf(have)('real deep CNN: certified ≤ product of its parts', () => {
  it('glipsdp/cnn_C9_CH8', { timeout: 900_000 }, async () => {
    const net = await importOnnx(`${SHARED}/glipsdp/cnn_C9_CH8.onnx`);
    const plan = planStages(net);
    const ITER = 60;
    const singles = new Map();
    await startParams(plan.stages, 300, singles);
    const parts = await startFromParts(plan.stages, { singles, partIter: ITER });
    expect(parts).not.toBeNull();
    let product = plan.outerGain;
    for (const p of parts!.top) {
      const seg = segment(plan.stages, p.from, p.to);
      const c = await certifyStages({ stages: seg, outerGain: 1 }, scaleParams(p.params, p.g), { rhoGuess: p.g });
      expect(c.status).toBe('certified');
      product *= c.L;
    }
    const whole = await solveNetwork(net, { formulation: 'roesser', maxIter: ITER, noNaive: true });
    expect(whole.status).toBe('certified');
    console.log(`[real-conv] cnn_C9_CH8: whole ${whole.upperBound} ≤ parts ${product} (${parts!.top.map((p) => `[${p.from},${p.to})`).join(' ')})`);
    expect(whole.upperBound!).toBeLessThanOrEqual(product * (1 + 1e-6));
  });
});
