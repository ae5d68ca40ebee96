/** Seeded random numbers for tests: each test draws a fresh seed and prints it on failure. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function freshSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

/** Standard normal samples via Box–Muller. */
export function gaussian(rand: () => number): () => number {
  return () => {
    const u = Math.max(rand(), 1e-300);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
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
