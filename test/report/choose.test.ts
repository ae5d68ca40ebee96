/**
 * One meaning of `status` on every network kind (src/report/choose.ts): 'certified' only for the
 * optimiser's multipliers, 'fallback' for a start point or the naive product (the certificate
 * source says which), 'failed' when nothing verified — the rule itself, and the same situation
 * driven through the dense, the unrolled and Roesser conv, and the 1-D pipelines.
 */
import { describe, expect, it } from 'vitest';
import { chooseBound } from '../../src/report/choose.js';
import { estimateLipschitz } from '../../src/estimate.js';

const ex = (p: string) => new URL(`../../examples/${p}`, import.meta.url).pathname;

describe('chooseBound', () => {
  it('takes the smallest certified candidate; ties go to the optimiser, then the closed form', () => {
    const iv = [1, 2] as const;
    expect(chooseBound([{ source: 'optimised', L: 2, rhoInterval: iv }, { source: 'closed-form', L: 3, rhoInterval: iv }, { source: 'naive', L: 5, rhoInterval: null }])).toMatchObject({ status: 'certified', source: 'optimised', upperBound: 2 });
    expect(chooseBound([{ source: 'optimised', L: 4, rhoInterval: iv }, { source: 'closed-form', L: 3, rhoInterval: iv }])).toMatchObject({ status: 'fallback', source: 'closed-form', upperBound: 3 });
    expect(chooseBound([{ source: 'optimised', L: 6, rhoInterval: iv }, { source: 'naive', L: 5, rhoInterval: null }])).toMatchObject({ status: 'fallback', source: 'naive', upperBound: 5, rhoInterval: null });
    expect(chooseBound([{ source: 'naive', L: 3, rhoInterval: null }, { source: 'closed-form', L: 3, rhoInterval: iv }, { source: 'optimised', L: 3, rhoInterval: iv }])).toMatchObject({ status: 'certified', source: 'optimised' });
    expect(chooseBound([{ source: 'naive', L: 3, rhoInterval: null }, { source: 'closed-form', L: 3, rhoInterval: iv }])).toMatchObject({ status: 'fallback', source: 'closed-form' });
    expect(chooseBound([null, undefined, { source: 'naive', L: Infinity, rhoInterval: null }, { source: 'optimised', L: NaN, rhoInterval: iv }])).toEqual({ upperBound: null, status: 'failed', source: null, rhoInterval: null });
  });
});

describe('the same status for the same situation on every network kind', () => {
  const nets = [
    ['dense', ex('mlp_tiny.onnx'), {}],
    ['conv, unrolled', ex('cnn_tiny.onnx'), { formulation: 'unrolled' }],
    ['conv, Roesser', ex('cnn_tiny.onnx'), { formulation: 'roesser' }],
    ['1-D conv', ex('oned/cnn1d.onnx'), {}],
  ] as const;
  for (const [name, path, extra] of nets) {
    it(`${name}: optimised multipliers → 'certified' (source solver); no optimiser iteration → 'fallback' from the start point or the naive product`, async () => {
      const opt = await estimateLipschitz(path, { ...extra, maxIter: 300, refineMaxIter: 30, lowerBoundIterations: 5 });
      expect(opt.status).toBe('certified');
      expect(opt.certificate.source).toBe('solver');
      const none = await estimateLipschitz(path, { ...extra, maxIter: 0, refineMaxIter: 0, lowerBoundIterations: 5 });
      expect(none.status).toBe('fallback');
      expect(['closed-form', 'naive']).toContain(none.certificate.source);
      if (none.status !== 'failed' && opt.status !== 'failed') {
        // The fallback is still a bound: never below the lower bound, never below the optimised one by more than rounding.
        expect(none.upperBound).toBeGreaterThanOrEqual(none.lowerBound);
        expect(none.upperBound).toBeGreaterThanOrEqual(opt.upperBound * (1 - 1e-9));
      }
    });
  }
});
