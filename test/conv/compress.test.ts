/**
 * First-layer compression as a stage rule (src/lmi/stage/compress.ts): a wide dense first layer is
 * replaced, for the optimisers and the certifier's recursion, by the m × m square root of its row
 * Gram matrix; the certificate verifies the original LMIs. Checked: the compressed map has the
 * same row Gram matrix, the rule applies only where it is exact, and the certified bound of a
 * 60- and a flattened 2×6×6-input net matches CSDP's optimum of the uncompressed stage SDP.
 */
import { describe, expect, it } from 'vitest';
import { planStages } from '../../src/lmi/stage/structure.js';
import { compressFirstStage } from '../../src/lmi/stage/compress.js';
import { solveNetwork } from '../../src/pipeline/solve.js';
import { stageSdpOracle } from '../../src/oracle/index.js';
import { stageLevels } from '../../src/solver/refine-chain.js';
import { freshSeed } from '../helpers/random.js';
import { oracleTestsEnabled } from '../helpers/oracle-policy.js';
import { Rng, conv, dense, flatten, lowerBound, network, relu } from './helpers.js';

function rowGram(G: { rows: number; cols: number; data: Float64Array }): Float64Array {
  const m = G.rows;
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) for (let k = 0; k < G.cols; k++) out[i * m + j] += G.data[i * G.cols + k]! * G.data[j * G.cols + k]!;
  return out;
}

describe('first-layer compression', () => {
  it('keeps the row Gram matrix and the multipliers; applies only to a dense first stage wider than its output', () => {
    const seed = freshSeed();
    const r = new Rng(seed);
    const plan = planStages(network([60], [dense(r, 60, 7), relu(), dense(r, 7, 3)], 3));
    const c = compressFirstStage(plan);
    const [a, b] = [plan.stages[0]!, c.stages[0]!];
    expect(b.nz).toBe(7);
    expect(b.qin).toEqual({ c: 7, rep: 1, order: 'pixel-major' });
    const ga = rowGram(a.out.G);
    const gb = rowGram(b.out.G);
    let scale = 0;
    for (const v of ga) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < ga.length; i++) expect(Math.abs(ga[i]! - gb[i]!), `seed ${seed}`).toBeLessThan(1e-12 * scale);
    expect(c.stages.slice(1)).toEqual(plan.stages.slice(1));
    // Not for a narrow dense first layer, nor for a conv.
    const narrow = planStages(network([5], [dense(r, 5, 7), relu(), dense(r, 7, 3)], 3));
    expect(compressFirstStage(narrow)).toBe(narrow);
    const convFirst = planStages(network([2, 5, 5], [conv(r, 2, 2, 3), relu(), flatten([2, 3, 3]), dense(r, 18, 2)], 2));
    expect(compressFirstStage(convFirst)).toBe(convFirst);
  });

  for (const [name, build] of [
    ['60 inputs → 7 → 3', (r: Rng) => network([60], [dense(r, 60, 7), relu(), dense(r, 7, 5), relu(), dense(r, 5, 3)], 3)],
    ['flattened 2×6×6 → 6 → 2', (r: Rng) => network([2, 6, 6], [flatten([2, 6, 6]), dense(r, 72, 6), relu(), dense(r, 6, 2)], 2)],
  ] as const) {
    it(`${name}: certified, ≥ the lower bound, at CSDP's optimum of the uncompressed SDP`, async () => {
      const seed = freshSeed();
      const net = build(new Rng(seed));
      const res = await solveNetwork(net, { formulation: 'roesser', noNaive: true });
      expect(res.status, `seed ${seed}`).toBe('certified');
      const L = res.upperBound!;
      expect(L, `seed ${seed}`).toBeGreaterThanOrEqual(lowerBound(net, seed));
      if (oracleTestsEnabled('csdp')) {
        const plan = planStages(net);
        expect(compressFirstStage(plan)).not.toBe(plan);
        const ipm = await stageSdpOracle(plan, 'csdp', { levels: (await stageLevels(plan.stages))!, timeoutMs: 60_000 });
        console.log(`[compress] ${name} seed ${seed}: lipdp ${L} csdp ${ipm.L} (${ipm.status})`);
        expect(L, `seed ${seed}`).toBeGreaterThanOrEqual(ipm.L * (1 - 1e-6));
        expect(L / ipm.L, `seed ${seed}`).toBeLessThan(1 + 1e-4);
      }
    }, 60_000);
  }
});
