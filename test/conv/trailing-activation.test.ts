/**
 * A network whose outputs pass through an activation (ReLU or sigmoid on the logits, optionally
 * pooled): the stage chain ends at the last linear map and the plan's outerGain carries the
 * activation's max |slope| (src/lmi/stage/structure.ts). The bound is that of the chain without
 * the activation times the slope, and stays above an empirical lower bound of the whole net.
 */
import { describe, expect, it } from 'vitest';
import type { ActivationLayer } from '../../src/model/ir.js';
import { planStages } from '../../src/lmi/stage/structure.js';
import { solveNetwork } from '../../src/pipeline/solve.js';
import { freshSeed } from '../helpers/random.js';
import { Rng, conv, dense, flatten, lowerBound, network, relu } from './helpers.js';

const sigmoid = (): ActivationLayer => ({ ...relu(), fn: 'sigmoid', slope: { alpha: 0, beta: 0.25 } });

describe('trailing activation on the outputs', () => {
  for (const [name, act, factor] of [
    ['ReLU', relu, 1],
    ['sigmoid', sigmoid, 0.25],
  ] as const) {
    it(`${name}: certified at ${factor} × the bound of the net without it, ≥ the lower bound`, async () => {
      const seed = freshSeed();
      const layers = (r: Rng) => [conv(r, 2, 3, 3, 1, 1), relu(), flatten([3, 5, 5]), dense(r, 75, 4)];
      const bare = network([2, 5, 5], layers(new Rng(seed)), 4);
      const net = network([2, 5, 5], [...layers(new Rng(seed)), act()], 4);
      const plan = planStages(net);
      expect(plan.stages.length).toBe(2);
      expect(plan.stages[1]!.last).toBe(true);
      expect(plan.outerGain / factor).toBeGreaterThanOrEqual(1);
      expect(plan.outerGain / factor).toBeLessThan(1 + 1e-11);
      const [a, b] = [await solveNetwork(bare, { formulation: 'roesser' }), await solveNetwork(net, { formulation: 'roesser' })];
      expect(b.status, `seed ${seed}`).toBe('certified');
      expect(b.upperBound! / (factor * a.upperBound!), `seed ${seed}`).toBeGreaterThanOrEqual(1);
      expect(b.upperBound! / (factor * a.upperBound!), `seed ${seed}`).toBeLessThan(1 + 1e-9);
      expect(b.naiveBound! / (factor * a.naiveBound!), `seed ${seed}`).toBeLessThan(1 + 1e-9);
      expect(b.upperBound!, `seed ${seed}`).toBeGreaterThanOrEqual(lowerBound(net, seed));
    }, 60_000);
  }
});
