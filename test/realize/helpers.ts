/**
 * Test helpers for test/realize: a seeded PRNG (fresh seed every run, printed on failure so a
 * failing case can be replayed with LIPDP_SEED=<seed>), random tensors, and a tolerant compare.
 */
import { expect } from 'vitest';

export const SEED = process.env.LIPDP_SEED !== undefined ? Number(process.env.LIPDP_SEED) : (Date.now() ^ (Math.random() * 2 ** 31)) >>> 0;

/** Seeded test data (the library's mulberry32), so failures can be replayed. */
export { mulberry32 as makeRng } from '../../src/util/random.js';

export function randArray(rng: () => number, n: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = 2 * rng() - 1;
  return a;
}

export function randInt(rng: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

/** Max-abs comparison with a message that carries the seed and the case. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = 1e-12): void {
  expect(actual.length, `${what}: length (seed ${SEED})`).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let k = 0; k < actual.length; k++) {
    const d = Math.abs(actual[k]! - expected[k]!);
    if (Number.isNaN(d)) expect.fail(`${what}: NaN at ${k} (seed ${SEED})`);
    if (!(d <= worst)) {
      worst = d;
      at = k;
    }
  }
  if (!(worst <= tol)) {
    expect.fail(`${what}: max |diff| ${worst} at ${at} (got ${actual[at]}, want ${expected[at]}) (seed ${SEED})`);
  }
}
