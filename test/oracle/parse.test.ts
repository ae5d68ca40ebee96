/** Parsers and process handling of the oracle, on captured solver output (no solver needed). */
import { describe, expect, it } from 'vitest';
import { buildLipSdpNeuron } from '../../src/lmi/sdpa.js';
import {
  csdpParams,
  missingSolverMessage,
  parseCsdpOutput,
  parseDsdpOutput,
  parseSolutionVector,
  requireSolverBinary,
  solveSdpa,
} from '../../src/oracle/index.js';
import { makeRng, randomChain } from './helpers.js';

// Tails of real runs (CSDP 6.2.0, DSDP 5.8) on: min x s.t. x·I − [[2,1],[1,2]] ⪰ 0, x ≥ 0 (optimum 3).
const CSDP_OK = `Iter: 12 Ap: 1.00e+00 Pobj:  3.0000000e+00 Ad: 1.00e+00 Dobj:  3.0000000e+00
Success: SDP solved
Primal objective value: 3.0000000e+00
Dual objective value: 3.0000000e+00
Relative primal infeasibility: 0.00e+00
`;
const DSDP_OK = `11   -3.00000000e+00   -3.00000000e+00   1.4e-23   0.0e+00   5.0e-11  1.00  0.18   5.40
DSDP Converged.

P Objective  :  -2.99999990e+00
DSDP Solution:  -3.00000000e+00
`;

describe('oracle parsers', () => {
  it('reads CSDP objectives and maps its exit codes', () => {
    expect(parseCsdpOutput(CSDP_OK, 0)).toEqual({ status: 'optimal', printedObjective: 3, dualObjective: 3 });
    expect(parseCsdpOutput('', 1).status).toBe('unbounded');
    expect(parseCsdpOutput('', 2).status).toBe('infeasible');
    expect(parseCsdpOutput(CSDP_OK, 3).status).toBe('inaccurate');
    expect(parseCsdpOutput('', 4).status).toBe('max_iterations');
    expect(parseCsdpOutput('', 7).status).toBe('failed');
    expect(parseCsdpOutput('', null).status).toBe('failed');
  });

  it('reads DSDP status lines and flips its signs', () => {
    expect(parseDsdpOutput(DSDP_OK)).toEqual({ status: 'optimal', printedObjective: 3, dualObjective: 2.9999999 });
    expect(parseDsdpOutput('DSDP Primal Unbounded, Dual Infeasible\n').status).toBe('infeasible');
    expect(parseDsdpOutput('DSDP Dual Unbounded, Primal Infeasible\n').status).toBe('unbounded');
    expect(parseDsdpOutput('DSDP Terminated Due Maximum Number of Iterations\n').status).toBe('max_iterations');
    // Stops without "Converged" count only when the printed duality gap is small.
    const smallGap = 'DSDP Terminated Due to Small Steps\nP Objective  :  -1.49999999e+00\nDSDP Solution: -1.5e+00\n';
    expect(parseDsdpOutput(smallGap)).toEqual({ status: 'inaccurate', printedObjective: 1.5, dualObjective: 1.49999999 });
    const stalled = 'DSDP Finished\n\nP Objective  :  -4.29808587e-01\nDSDP Solution:  -5.20905298e-01\n';
    expect(parseDsdpOutput(stalled).status).toBe('failed');
    expect(parseDsdpOutput('DSDP Terminated Due to Small Steps\nDSDP Solution: -1.5e+00\n').status).toBe('failed');
    expect(parseDsdpOutput('Cannot open file x !Problem reading SDPA file').status).toBe('failed');
  });

  it('reads the solution vector only when it has the right length and finite entries', () => {
    expect(Array.from(parseSolutionVector('\n 1.5e+00 -2 3 \n1 1 1 1 0.5\n', 3)!)).toEqual([1.5, -2, 3]);
    expect(parseSolutionVector('1 2\n', 3)).toBeUndefined();
    expect(parseSolutionVector('1 nan 2\n', 3)).toBeUndefined();
    expect(parseSolutionVector('', 1)).toBeUndefined();
  });

  it('writes every CSDP parameter with the requested tolerance', () => {
    const text = csdpParams(1e-9);
    for (const k of ['axtol=1e-9', 'atytol=1e-9', 'objtol=1e-9', 'perturbobj=0', 'maxiter=']) expect(text).toContain(k);
  });
});

describe('missing solver binaries', () => {
  it('fail with a one-line message naming the binary and the Debian package', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent-lipdp-dir';
    try {
      expect(() => requireSolverBinary('csdp')).toThrow(/'csdp'.*coinor-csdp/);
      expect(() => requireSolverBinary('dsdp')).toThrow(/'dsdp5'.*package 'dsdp'/);
      const p = buildLipSdpNeuron(randomChain(makeRng(1), [2, 2, 1], ['relu']));
      await expect(solveSdpa(p, { solver: 'csdp', timeoutMs: 1000 })).rejects.toThrow(missingSolverMessage('csdp'));
      expect(missingSolverMessage('dsdp')).not.toContain('\n');
    } finally {
      process.env.PATH = saved;
    }
  });
});
