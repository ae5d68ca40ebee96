/**
 * Seeded random numbers: the lower-bound searches, generated example models and tests must be
 * reproducible for a seed. mulberry32 (a 32-bit counter through an xorshift-multiply mix) is small
 * and fast, and plenty for sampling start points and test weights (not for cryptography).
 */
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

/** Standard normal samples from uniform ones (Box–Muller, cosine branch). */
export function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-300))) * Math.cos(2 * Math.PI * rand());
}
