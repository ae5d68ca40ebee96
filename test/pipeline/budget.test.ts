/**
 * The run budget (src/solver/budget.ts): no wall clock inside the algorithms (the same bound on
 * an idle and a loaded machine), a user time limit that ends the solve with a certified bound and
 * says so, and a timer-fired abort that ends a solve promptly with the signal's reason.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { estimateLipschitz } from '../../src/estimate.js';
import { solveNetwork } from '../../src/pipeline/conv-net.js';
import type { Layer } from '../../src/model/ir.js';
import { Rng, conv, dense, flatten, network, relu } from '../conv/helpers.js';

const EXAMPLE_CNN = new URL('../../examples/cnn_tiny.onnx', import.meta.url).pathname;

function smallCnn(seed: number) {
  const r = new Rng(seed);
  const layers: Layer[] = [conv(r, 1, 3, 3, 1, 1), relu(), conv(r, 3, 3, 3, 2, 1), relu(), conv(r, 3, 2, 3, 1, 1), relu(), flatten([2, 3, 3]), dense(r, 18, 4)];
  return network([1, 6, 6], layers, 4);
}

/** Keep one core busy for `ms` (a second process competing for the CPU). */
function burn(ms: number): Worker {
  return new Worker(`const end = Date.now() + ${ms}; let x = 0; while (Date.now() < end) x += Math.sqrt(x + 1);`, { eval: true });
}

describe('run budget', () => {
  it('gives the same bound on an idle and on a loaded machine', async () => {
    const net = smallCnn(11);
    const opts = { formulation: 'roesser', maxIter: 400, noNaive: true } as const;
    const idle = await solveNetwork(net, opts);
    const workers = [burn(60_000), burn(60_000)];
    let loaded;
    try {
      loaded = await solveNetwork(net, opts);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
    expect(idle.status).toBe('certified');
    expect(loaded.upperBound).toBe(idle.upperBound);
    expect(loaded.iterations).toBe(idle.iterations);
  });

  it('a time limit ends the solve, the bound is still certified and the report says so', async () => {
    const r = await estimateLipschitz(EXAMPLE_CNN, { formulation: 'roesser', timeLimitMs: 400, lowerBoundSamples: 1 });
    expect(r.solver.status).toBe('time_limit');
    expect(r.status).not.toBe('failed');
    if (r.status !== 'failed') expect(r.upperBound).toBeGreaterThanOrEqual(r.lowerBound);
  });

  // An abort fired while an optimiser runs (ADMM, the f64 refinements, the stage optimiser) is
  // seen within one yield of the loop. (The empirical lower bound and a single certification
  // are still synchronous: an abort during them waits for them to finish.)
  for (const [name, path, formulation] of [
    ['conv (Roesser stage optimiser)', EXAMPLE_CNN, 'roesser'],
    ['dense (ADMM + f64 refinement)', new URL('../fixtures/mnist_relu_3_50.onnx', import.meta.url).pathname, 'auto'],
  ] as const) {
    it(`an abort fired during the solve of a ${name} net ends it within 500 ms with signal.reason`, async () => {
      const controller = new AbortController();
      const reason = new Error('user pressed stop');
      let firedAt = 0;
      const run = estimateLipschitz(path, {
        formulation,
        signal: controller.signal,
        lowerBoundSamples: 1,
        onProgress: (e) => {
          if ((e.phase === 'solve' || e.phase === 'refine') && firedAt === 0) {
            firedAt = performance.now();
            setTimeout(() => controller.abort(reason), 0);
          }
        },
      });
      await expect(run).rejects.toBe(reason);
      expect(firedAt).toBeGreaterThan(0);
      expect(performance.now() - firedAt).toBeLessThan(500);
    });
  }
});
