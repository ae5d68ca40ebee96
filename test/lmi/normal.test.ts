import { describe, expect, it } from 'vitest';
import { layoutFcChain } from '../../src/lmi/problem.js';
import { applyA, applyAT } from '../../src/lmi/fc-ops.js';
import { buildNormalSolver } from '../../src/lmi/normal.js';
import { freshSeed, gaussian, mulberry32 } from '../helpers/random.js';
import { randomLayers } from '../helpers/chains.js';

function randomX(p: ReturnType<typeof layoutFcChain>, seed: number): Float64Array {
  const g = gaussian(mulberry32(seed));
  const x = new Float64Array(p.xLength).map(() => g());
  for (const q of p.qVars)
    for (let i = 0; i < q.size; i++)
      for (let j = 0; j < i; j++) x[q.offset + j * q.size + i] = x[q.offset + i * q.size + j];
  return x;
}

const cases: [string, number[], { alpha: number; beta: number }][] = [
  ['relu 5-4-3-2', [5, 4, 3, 2], { alpha: 0, beta: 1 }],
  ['leaky 6-7-5-3', [6, 7, 5, 3], { alpha: 0.1, beta: 1 }],
  ['leaky wide input 20-4-4', [20, 4, 4], { alpha: 0.2, beta: 0.9 }],
  ['single layer 4-3', [4, 3], { alpha: 0, beta: 1 }],
];

describe('layered SDP operators', () => {
  for (const [name, widths, slope] of cases) {
    it(`${name}: ⟨Ax, s⟩ = ⟨x, Aᵀs⟩ and the normal solve inverts AᵀA`, () => {
      const seed = freshSeed();
      const p = layoutFcChain(randomLayers(widths, seed, slope));
      const x = randomX(p, seed + 1);
      const g = gaussian(mulberry32(seed + 2));
      // symmetric random s
      const s = new Float64Array(p.sLength).map(() => g());
      for (const b of p.blocks)
        for (let i = 0; i < b.size; i++)
          for (let j = 0; j < i; j++) s[b.sOffset + j * b.size + i] = s[b.sOffset + i * b.size + j];
      const ax = new Float64Array(p.sLength);
      applyA(p, x, ax);
      const ats = new Float64Array(p.xLength);
      applyAT(p, s, ats);
      let l = 0, r = 0;
      for (let i = 0; i < p.sLength; i++) l += ax[i] * s[i];
      for (let i = 0; i < p.xLength; i++) r += x[i] * ats[i];
      expect(Math.abs(l - r), `seed ${seed}`).toBeLessThan(1e-9 * (Math.abs(l) + 1));

      const atax = new Float64Array(p.xLength);
      applyAT(p, ax, atax);
      const solver = buildNormalSolver(p);
      const back = new Float64Array(p.xLength);
      solver.solve(atax, back);
      for (let i = 0; i < p.xLength; i++) expect(Math.abs(back[i] - x[i]), `seed ${seed} index ${i}`).toBeLessThan(1e-8);
    });
  }
});
