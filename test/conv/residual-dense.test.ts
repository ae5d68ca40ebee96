/**
 * Dense residual networks (FC-ResNets, the paper's FC-R18: blocks y = ReLU(x + W2·ReLU(W1·x)) on a
 * vector): each block is one residual stage without Roesser systems (docs/method.md §5.1). Models
 * are ONNX (Gemm / Relu / Add), imported as user models are.
 *  - 2 blocks of width 16: lipdp's certified bound within 0.1 % of CSDP's and DSDP's optimum of
 *    the exported SDP (src/lmi/conv/sdpa.ts), and never below it.
 *  - 8 blocks of width 64: certifies under a time budget (the generic stage optimiser needs tens of
 *    minutes to converge on it on a loaded 2-core machine, see the README's limitations), ≥ the
 *    empirical lower bound, ≤ the naive products (stage gains; plain layer norms).
 */
import { describe, expect, it } from 'vitest';
import type { Layer, Network } from '../../src/model/ir.js';
import { planStages } from '../../src/lmi/conv/structure.js';
import { solveNetwork } from '../../src/pipeline/conv-net.js';
import { stageSdpOracle } from '../../src/oracle/index.js';
import { stageLevels } from '../../src/solver/refine-conv.js';
import { RunBudget } from '../../src/solver/budget.js';
import { certifiedSpectralNorm } from '../../src/bounds/naive.js';
import { freshSeed } from '../helpers/random.js';
import { oracleTestsEnabled } from '../helpers/oracle-policy.js';
import { lowerBound } from './helpers.js';
import { fcResNet } from './residual-models.js';

/** ‖W_in‖ · Π (‖skip‖ + ‖W2‖‖W1‖) · ‖W_out‖ over the IR layers (ReLU: gain 1). */
function normProduct(net: Network): number {
  const gain = (layers: readonly Layer[]): number => {
    let g = 1;
    for (const l of layers) {
      if (l.kind === 'dense') g *= certifiedSpectralNorm(l.W);
      else if (l.kind === 'residual') g *= gain(l.shortcut) + gain(l.branch);
      else if (l.kind !== 'activation') throw new Error(`unexpected ${l.kind}`);
    }
    return g;
  };
  return gain(net.layers);
}

describe('dense residual network (FC-ResNet)', () => {
  it('plans one stage per block, no Roesser systems, one inner QC', () => {
    const plan = planStages(fcResNet(1, 8, 16, 3, 3));
    expect(plan.stages.map((s) => s.kind)).toEqual(['dense', 'residual', 'residual', 'residual', 'dense']);
    for (const st of plan.stages.slice(1, 4)) {
      expect(st.systems.length).toBe(0);
      expect(st.internal.length).toBe(1);
      expect(st.nz).toBe(32);
    }
  });

  it.runIf(oracleTestsEnabled('csdp') && oracleTestsEnabled('dsdp'))('2 blocks of width 16: within 0.1 % of CSDP and DSDP on the same SDP', async () => {
    const seed = freshSeed();
    const net = fcResNet(seed, 8, 16, 2, 3);
    const plan = planStages(net);
    const t = performance.now();
    const res = await solveNetwork(net, { formulation: 'roesser' });
    const secs = (performance.now() - t) / 1000;
    expect(res.status, `seed ${seed}`).toBe('certified');
    const L = res.upperBound!;
    const lower = lowerBound(net, seed);
    expect(L, `seed ${seed}`).toBeGreaterThanOrEqual(lower);
    const levels = (await stageLevels(plan.stages))!;
    for (const solver of ['csdp', 'dsdp'] as const) {
      const ipm = await stageSdpOracle(plan, solver, { levels, timeoutMs: 60_000 });
      console.log(`[residual-dense] 2×16 seed ${seed}: lipdp ${L} (${secs.toFixed(1)} s) ${solver} ${ipm.L} (${ipm.status}) ratio ${(L / ipm.L).toFixed(7)} lower ${lower}`);
      expect(L, `seed ${seed}`).toBeGreaterThanOrEqual(ipm.L * (1 - 1e-5));
      expect(L / ipm.L, `seed ${seed}`).toBeLessThan(1.001);
    }
  }, 90_000);

  it('8 blocks of width 64 (FC-R18 shape): certified, ≥ lower bound, ≤ naive products', async () => {
    const seed = freshSeed();
    const net = fcResNet(seed, 16, 64, 8, 10);
    const t = performance.now();
    const res = await solveNetwork(net, { formulation: 'roesser', startIter: 0, maxIter: 60, budget: new RunBudget(25_000) });
    const secs = (performance.now() - t) / 1000;
    expect(res.status, `seed ${seed}`).toBe('certified');
    const L = res.upperBound!;
    const lower = lowerBound(net, seed, 3);
    const norms = normProduct(net);
    console.log(`[residual-dense] 8×64 seed ${seed}: L ${L} naive(stages) ${res.naiveBound} naive(norms) ${norms} lower ${lower} (${secs.toFixed(1)} s)`);
    expect(L, `seed ${seed}`).toBeGreaterThanOrEqual(lower);
    expect(L, `seed ${seed}`).toBeLessThanOrEqual(res.naiveBound!);
    expect(L, `seed ${seed}`).toBeLessThanOrEqual(norms);
  }, 120_000);
});
