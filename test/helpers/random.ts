/** Seeded random numbers for tests (the library's generator): each test draws a fresh seed and prints it on failure. */
export { gaussian, mulberry32 } from '../../src/util/random.js';
import { gaussian, mulberry32 } from '../../src/util/random.js';

export function freshSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

export function randomSymmetric(n: number, rand: () => number): Float64Array {
  const g = gaussian(rand);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      const v = g();
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  return a;
}
