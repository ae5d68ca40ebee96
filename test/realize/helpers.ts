/**
 * Test helpers for test/realize: a seeded PRNG (fresh seed every run, printed on failure so a
 * failing case can be replayed with LIPDP_SEED=<seed>), random tensors, and a tolerant compare.
 */
import { expect } from 'vitest';

export const SEED = process.env.LIPDP_SEED !== undefined ? Number(process.env.LIPDP_SEED) : (Date.now() ^ (Math.random() * 2 ** 31)) >>> 0;

/** mulberry32: tiny, good enough for test data. */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
