/**
 * The chain certificate by output scaling (src/certify/chain-certify.ts): for fixed multipliers
 * the recursion at ρ gives g, and the last block N − GᵀG/s² is proven for s² just above g, so
 * L² ≤ ρ·s². On fresh random conv / pooling / residual chains: the certified bound is ≥ the
 * empirical lower bound, it is tight for its multipliers (the rigorous check fails just below g),
 * and a poor starting ρ (far too small or too large) still certifies.
 */
import { describe, expect, it } from 'vitest';
import type { Layer } from '../../src/model/ir.js';
import { planStages } from '../../src/lmi/stage/structure.js';
import { runRecursion } from '../../src/lmi/stage/recursion.js';
import { certifyStages, verifyStages } from '../../src/certify/chain-certify.js';
import { runStepsSync } from '../../src/util/steps.js';
import { scaleParams, startParams } from '../../src/solver/refine-chain.js';
import { freshSeed } from '../helpers/random.js';
import { Rng, conv, dense, flatten, lowerBound, network, pool, relu, residual } from '../conv/helpers.js';

const cases: [string, (r: Rng) => Layer[], number[], number][] = [
  ['conv – ReLU – max pool – flatten – dense', (r) => [conv(r, 2, 3, 3, 1, 1), relu(), pool('maxpool', 2, 2), flatten([3, 3, 3]), dense(r, 27, 4)], [2, 6, 6], 4],
  ['residual block – ReLU – conv', (r) => [residual([conv(r, 2, 2, 3, 1, 1), relu(), conv(r, 2, 2, 3, 1, 1)]), relu(), conv(r, 2, 2, 3, 2, 1)], [2, 6, 6], 18],
];

describe('chain certificate by output scaling', () => {
  for (const [name, make, shape, out] of cases) {
    it(name, async () => {
      const seed = freshSeed();
      const r = new Rng(seed);
      const net = network(shape, make(r), out);
      const plan = planStages(net);
      const start = (await startParams(plan.stages))!;
      expect(start, `seed ${seed}`).not.toBeNull();
      const g = runRecursion(plan.stages, start, { rho: 1 })!.g;
      const cert = await certifyStages(plan, start, { rhoGuess: 1 });
      expect(cert.status, `seed ${seed}`).toBe('certified');
      const lower = lowerBound(net, seed);
      expect(cert.L, `seed ${seed}`).toBeGreaterThanOrEqual(lower);
      // At least as tight as the recursion's own value at ρ = 1 (the search in ρ may do better) ...
      expect(cert.rho / g - 1, `seed ${seed}`).toBeLessThan(1e-6);
      // ... and the rigorous test fails with the output scale 0.1 % below g.
      const qs = runRecursion(plan.stages, start, { rho: 1, margin: 1e-10 })!.qs;
      expect(runStepsSync(verifyStages(plan.stages, start, 1, qs, g * 1.001)), `seed ${seed}`).toBe(true);
      expect(runStepsSync(verifyStages(plan.stages, start, 1, qs, g * 0.999)), `seed ${seed}`).toBe(false);
      // The same multipliers scaled by g (the solver's convention) from a poor guess on either side.
      for (const guess of [g * 1e-4, g * 1e3]) {
        const c = await certifyStages(plan, scaleParams(start, g), { rhoGuess: guess });
        expect(c.status, `seed ${seed} guess ${guess}`).toBe('certified');
        expect(c.L, `seed ${seed} guess ${guess}`).toBeGreaterThanOrEqual(lower);
        expect(c.L / cert.L, `seed ${seed} guess ${guess}`).toBeLessThan(3);
      }
    });
  }
});
