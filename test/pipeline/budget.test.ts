/**
 * The run budget (src/solver/budget.ts): no wall clock inside the algorithms (the same bound on
 * an idle and a loaded machine), a user time limit that ends the solve with a certified bound and
 * says so, and a timer-fired abort that ends a solve promptly with the signal's reason.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { estimateLipschitz } from '../../src/estimate.js';
import { solveNetwork } from '../../src/pipeline/solve.js';
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

  // An abort is seen at the next pause of whatever runs: the optimisers' iterations, and inside
  // the stepped synchronous work (util/steps.ts) between the layers and stages of every
  // recursion, certificate verification, unrolling, naive bound and lower-bound search. Fired at
  // the first progress event of each phase, on every pipeline.
  const MNIST = new URL('../fixtures/mnist_relu_3_50.onnx', import.meta.url).pathname;
  const CNN1D = new URL('../../examples/oned/cnn1d.onnx', import.meta.url).pathname;
  const cases = [
    ['conv, unrolled (the default for cnn_tiny)', EXAMPLE_CNN, {}, ['bounds', 'build', 'refine', 'certify']],
    ['conv, Roesser stage optimiser', EXAMPLE_CNN, { formulation: 'roesser' }, ['build', 'refine', 'certify']],
    ['dense chain', MNIST, {}, ['bounds', 'build', 'refine', 'certify']],
    ['1-D conv', CNN1D, {}, ['build', 'refine', 'certify']],
  ] as const;
  for (const [name, path, extra, phases] of cases) {
    for (const phase of phases) {
      // Wall-clock latency on a shared CI box: a retry absorbs a descheduled moment; a phase that
      // blocks for seconds fails every try.
      it(`${name}: an abort fired when '${phase}' starts ends the run within 500 ms with signal.reason`, { retry: 2 }, async () => {
        const controller = new AbortController();
        const reason = new Error('user pressed stop');
        let firedAt = 0;
        let abortedAt = 0;
        const run = estimateLipschitz(path, {
          ...extra,
          // Few iterations, so that the certify phase comes soon; the abort ends the run anyway.
          refineMaxIter: 40,
          signal: controller.signal,
          onProgress: (e) => {
            if (e.phase === phase && firedAt === 0) {
              firedAt = performance.now();
              setTimeout(() => {
                abortedAt = performance.now();
                controller.abort(reason);
              }, 0);
            }
          },
        });
        const outcome = await run.then(
          () => 'finished' as const,
          (e: unknown) => e,
        );
        expect(firedAt).toBeGreaterThan(0);
        // A phase that ends the run without one pause (a short certification) finishes before the
        // timer can fire: the result is then legitimately complete. Otherwise: signal.reason.
        if (outcome === 'finished') expect(abortedAt).toBe(0);
        else expect(outcome).toBe(reason);
        expect(performance.now() - firedAt).toBeLessThan(500);
      });
    }
  }
});
