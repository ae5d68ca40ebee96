/**
 * Exactness against a real interior-point solver: on random fully connected networks (fresh seeds
 * each run, several depths, widths ≤ 60, ReLU / LeakyReLU / tanh / sigmoid) lipdp's CERTIFIED bound
 * is within 0.1% of the LipSDP-Neuron optimum computed by DSDP and CSDP from lipdp's SDPA export,
 * never below it by more than the solver tolerance, and above the empirical lower bound.
 */
import { describe, expect, it } from 'vitest';
import { estimateLipschitz } from '../../src/estimate.js';
import { lipSdpOracle } from '../../src/oracle/index.js';
import { ACTIVATIONS, randomFcNetwork } from '../helpers/chains.js';
import { freshSeed, mulberry32 } from '../helpers/random.js';
import { oracleTestsEnabled } from '../helpers/oracle-policy.js';

const cases: { act: keyof typeof ACTIVATIONS; depth: number; maxWidth: number; solver: 'dsdp' | 'csdp' }[] = [
  { act: 'relu', depth: 1, maxWidth: 30, solver: 'csdp' },
  { act: 'relu', depth: 2, maxWidth: 60, solver: 'dsdp' },
  { act: 'relu', depth: 4, maxWidth: 40, solver: 'csdp' },
  { act: 'leaky', depth: 2, maxWidth: 50, solver: 'csdp' },
  { act: 'leaky', depth: 3, maxWidth: 40, solver: 'dsdp' },
  { act: 'tanh', depth: 3, maxWidth: 40, solver: 'csdp' },
  { act: 'sigmoid', depth: 2, maxWidth: 60, solver: 'dsdp' },
  { act: 'sigmoid', depth: 4, maxWidth: 30, solver: 'csdp' },
];

// Relative accuracy of the interior-point optimum (both are run with tight tolerances).
const SOLVER_TOL = 1e-6;

describe.runIf(oracleTestsEnabled('dsdp') && oracleTestsEnabled('csdp'))('certified bound vs interior-point LipSDP optimum', () => {
  for (const c of cases) {
    it(`${c.act}, ${c.depth} hidden layer(s), widths ≤ ${c.maxWidth}, vs ${c.solver}`, async () => {
      const seed = freshSeed();
      const rand = mulberry32(seed);
      const widths = [4 + Math.floor(rand() * (c.maxWidth - 4))];
      for (let k = 0; k < c.depth; k++) widths.push(4 + Math.floor(rand() * (c.maxWidth - 4)));
      widths.push(1 + Math.floor(rand() * 10));
      const { net, chain } = randomFcNetwork(widths, seed, ACTIVATIONS[c.act]);
      const report = await estimateLipschitz(net, { lowerBoundSamples: 4 });
      const oracle = await lipSdpOracle(chain, c.solver, { timeoutMs: 120_000 });
      const msg = `seed ${seed}, widths ${widths.join('-')}: lipdp ${report.upperBound}, ${c.solver} ${oracle.L}`;
      expect(report.status, msg).toBe('certified');
      const L = report.upperBound!;
      // Never below the optimum: compare with the solver's DUAL objective when it reports one (a
      // lower bound on the optimum by weak duality), else its primal value less the tolerance.
      const dual = oracle.solve.dualObjective;
      const floorRho = dual !== undefined ? Math.min(dual, oracle.solve.objective) : oracle.solve.objective * (1 - SOLVER_TOL);
      const floorL = Math.sqrt(Math.max(floorRho, 0) * (oracle.rho / oracle.solve.objective));
      expect(L, `${msg}; dual floor ${floorL}`).toBeGreaterThanOrEqual(floorL * (1 - 1e-9));
      expect(L / oracle.L - 1, msg).toBeLessThan(1e-3);
      expect(L, msg).toBeGreaterThanOrEqual(report.lowerBound);
      expect(L, msg).toBeLessThanOrEqual(report.naiveBound);
    });
  }
});
