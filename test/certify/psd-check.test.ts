/**
 * The rigorous PD test (src/certify/psd-check.ts): sound on indefinite and singular matrices, and
 * the exact power-of-two equilibration proves badly scaled PD matrices the plain test cannot.
 */
import { describe, expect, it } from 'vitest';
import { verifyPositiveDefinite } from '../../src/certify/psd-check.js';
import { freshSeed, gaussian, mulberry32 } from '../helpers/random.js';

/** D·(B Bᵀ + s·I)·D with D = diag(10^e_i), e_i spread over `decades`. */
function scaledSpd(n: number, seed: number, decades: number, shiftI: number): Float64Array {
  const g = gaussian(mulberry32(seed));
  const B = Float64Array.from({ length: n * n }, () => g());
  const d = Float64Array.from({ length: n }, (_, i) => 10 ** ((decades * i) / (n - 1) - decades / 2));
  const M = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = i === j ? shiftI : 0;
      for (let k = 0; k < n; k++) s += B[i * n + k]! * B[j * n + k]!;
      M[i * n + j] = d[i]! * s * d[j]!;
    }
  return M;
}

describe('rigorous PD test', () => {
  it('proves a PD matrix with diagonal entries 10^24 apart (plain test alone cannot)', () => {
    const seed = freshSeed();
    const n = 30;
    const M = scaledSpd(n, seed, 24, 1);
    expect(verifyPositiveDefinite(M, n).ok, `seed ${seed}`).toBe(true);
  });

  it('never accepts an indefinite or singular matrix, however it is scaled', () => {
    const seed = freshSeed();
    const n = 30;
    for (const decades of [0, 12, 24]) {
      // B Bᵀ with B of rank n − 1 is singular; minus a little is indefinite.
      const g = gaussian(mulberry32(seed + decades));
      const B = Float64Array.from({ length: n * (n - 1) }, () => g());
      const d = Float64Array.from({ length: n }, (_, i) => 10 ** ((decades * i) / (n - 1) - decades / 2));
      for (const eps of [0, -1e-8]) {
        const M = new Float64Array(n * n);
        for (let i = 0; i < n; i++)
          for (let j = 0; j < n; j++) {
            let s = i === j ? eps : 0;
            for (let k = 0; k < n - 1; k++) s += B[i * (n - 1) + k]! * B[j * (n - 1) + k]!;
            M[i * n + j] = d[i]! * s * d[j]!;
          }
        expect(verifyPositiveDefinite(M, n).ok, `seed ${seed}, decades ${decades}, eps ${eps}`).toBe(false);
      }
    }
  });
});
