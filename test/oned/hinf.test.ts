import { describe, expect, it } from 'vitest';
import type { Network } from '../../src/model/ir.js';
import { solveNetwork } from '../../src/pipeline/solve.js';
import { lowerBoundOneD } from '../../src/bounds/lower-oned.js';
import { gaussian, hinfNorm, randMatrix, rng, stableA } from './helpers.js';

function linearSsmNet(seed: number, nx: number, cin: number, cout: number, r: number): Network {
  const g = gaussian(rng(seed));
  const A = stableA(g, nx, r);
  const B = randMatrix(g, nx, cin, 0.7);
  const C = randMatrix(g, cout, nx, 0.7);
  const D = randMatrix(g, cout, cin, 0.3);
  return {
    inputShape: [cin, 64],
    layers: [{ kind: 'ssm', A, B, C, D, bias: new Float64Array(cout), name: 'ssm' }],
    outputSize: cout * 64,
    source: `ssm-${seed}`,
    signal: true,
  };
}

describe('linear SSM: certified bound vs H∞ norm', () => {
  for (const [seed, nx, cin, cout, r] of [
    [1, 3, 1, 1, 0.9],
    [2, 4, 2, 3, 0.8],
    [3, 6, 3, 2, 0.95],
  ] as const) {
    it(`seed ${seed}: nx=${nx}, ${cin}→${cout}, ‖A‖=${r}`, async () => {
      const net = linearSsmNet(seed, nx, cin, cout, r);
      const layer = net.layers[0]!;
      if (layer.kind !== 'ssm') throw new Error('unreachable');
      const hinf = hinfNorm(layer.A, layer.B, layer.C, layer.D);
      const res = { ...(await solveNetwork(net, { noNaive: true })), lowerBound: await lowerBoundOneD(net, { length: 512 }) };
      expect(res.status).toBe('certified');
      const ub = res.upperBound!;
      // Sound: never below the H∞ norm (the exact ℓ2 gain over unbounded sequences).
      expect(ub).toBeGreaterThanOrEqual(hinf * (1 - 1e-9));
      // Tight: the bounded-real LMI is exact for a single linear layer.
      expect(ub / hinf).toBeLessThan(1.01);
      expect(res.lowerBound).toBeLessThanOrEqual(ub);
      console.log(`seed ${seed}: H∞ ${hinf.toFixed(6)}  certified ${ub.toFixed(6)}  (+${((ub / hinf - 1) * 100).toFixed(3)}%)  lower(T=512) ${res.lowerBound.toFixed(6)}`);
    }, 60000);
  }
});
