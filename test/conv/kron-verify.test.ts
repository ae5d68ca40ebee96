/**
 * The rigorous check of the dense-after-flatten stage through its Q ⊗ I structure
 * (chain-certify.ts verifyKronDense, an m×m test) agrees with the direct rigorous test of the
 * whole (c·hw + m)-square LMI: both accept the certifier's feasible points, both reject points
 * pushed past feasibility, and the last-stage form is checked the same way.
 */
import { describe, expect, it } from 'vitest';
import { planStages } from '../../src/lmi/stage/structure.js';
import { isKronDense } from '../../src/lmi/stage/stages.js';
import { runRecursion } from '../../src/lmi/stage/recursion.js';
import { assembleStageLmi, certifyStages, verifyKronDense } from '../../src/certify/chain-certify.js';
import { verifyPositiveDefinite } from '../../src/certify/psd-check.js';
import { scaleParams, startParams } from '../../src/solver/refine-chain.js';
import { freshSeed } from '../helpers/random.js';
import { Rng, conv, dense, flatten, network, relu } from './helpers.js';

function direct(st: Parameters<typeof verifyKronDense>[0], Qin: Float64Array, prm: Parameters<typeof verifyKronDense>[2], Qout: Float64Array | null): boolean {
  const { M, absM, size, ops } = assembleStageLmi(st, Qin, prm, Qout);
  return verifyPositiveDefinite(M, size, absM, ops).ok;
}

describe('Kronecker-structured verification of the dense stage after a flatten', () => {
  it('agrees with the full rigorous test: accepts feasible points, rejects infeasible ones (hidden and last dense stages)', async () => {
    const seed = freshSeed();
    const r = new Rng(seed);
    const net = network([2, 7, 7], [conv(r, 2, 3, 3, 1, 1), relu(), flatten([3, 7, 7]), dense(r, 147, 6), relu(), dense(r, 6, 4)], 4);
    const plan = planStages(net);
    const k = plan.stages.findIndex(isKronDense);
    expect(k, 'a Kronecker dense stage').toBeGreaterThan(0);
    const start = (await startParams(plan.stages))!;
    const g = runRecursion(plan.stages, start, { rho: 1 })!.g;
    const params = scaleParams(start, g);
    const cert = await certifyStages(plan, params, { rhoGuess: g });
    expect(cert.status, `seed ${seed}`).toBe('certified');
    // At a comfortably feasible ρ both tests accept every Kronecker stage.
    const rho = cert.rho * 1.5;
    const qs = runRecursion(plan.stages, params, { rho, margin: 1e-10 })!.qs;
    plan.stages.forEach((st, i) => {
      if (!isKronDense(st)) return;
      const Qin = qs[i - 1]!;
      const Qout = st.last ? null : qs[i]!;
      expect(direct(st, Qin, params[i]!, Qout), `seed ${seed} stage ${i} direct`).toBe(true);
      expect(verifyKronDense(st, Qin, params[i]!, Qout), `seed ${seed} stage ${i} kron`).toBe(true);
      // Shrink the incoming weight until the direct test fails: the structured one must fail too.
      let f = 1;
      while (f > 1e-6 && direct(st, Qin.map((v) => v * f), params[i]!, Qout)) f *= 0.7;
      expect(direct(st, Qin.map((v) => v * f), params[i]!, Qout), `seed ${seed} stage ${i}`).toBe(false);
      expect(verifyKronDense(st, Qin.map((v) => v * f), params[i]!, Qout), `seed ${seed} stage ${i} kron at infeasible`).toBe(false);
    });
  });
});
