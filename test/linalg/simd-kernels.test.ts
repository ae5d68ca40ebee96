/**
 * The WebAssembly SIMD row kernels (src/linalg/simd) against the JavaScript ones, through every
 * dense routine that uses them, on fresh random inputs: the subtracting kernels bit for bit, the
 * dot-product kernel to rounding. And the committed module bytes are those of kernels.wat.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { backSubstMany, forwardSubstMany, inverseFromCholesky, partialCholesky } from '../../src/linalg/cholesky.js';
import { mulSparseLeft, mulSquare, productT, symmetricProductT } from '../../src/linalg/dense.js';
import { setSimd, simdActive } from '../../src/linalg/simd/kernels.js';
import { freshSeed, mulberry32 } from '../helpers/random.js';
// @ts-expect-error: a plain ES module script without types
import { compileKernels } from '../../scripts/build-wasm.mjs';

/** f with the JavaScript kernels and with the SIMD kernels. */
function both<T>(f: () => T): { js: T; simd: T } {
  const was = setSimd(false);
  let js: T;
  try {
    js = f();
  } finally {
    setSimd(was);
  }
  setSimd(true);
  try {
    return { js, simd: f() };
  } finally {
    setSimd(was);
  }
}

/** |x − y| ≤ 1e-13·scale entrywise, scale the largest |x|. */
function expectClose(a: Float64Array, b: Float64Array, msg: string): void {
  expect(a.length, msg).toBe(b.length);
  const scale = a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!), `${msg} at ${i}`).toBeLessThanOrEqual(1e-13 * scale);
}

function randomSpd(n: number, rnd: () => number): Float64Array {
  const b = new Float64Array(n * n).map(() => rnd() - 0.5);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += b[i * n + k]! * b[j * n + k]!;
      a[i * n + j] = a[j * n + i] = s + (i === j ? 0.1 * n : 0);
    }
  return a;
}

describe('WebAssembly SIMD row kernels', () => {
  it('are in use under Node (WebAssembly SIMD is part of Node ≥ 16.4)', () => {
    expect(simdActive()).toBe(true);
  });

  it('kernels-bytes.ts is kernels.wat compiled (node scripts/build-wasm.mjs)', async () => {
    const committed = readFileSync(new URL('../../src/linalg/simd/kernels-bytes.ts', import.meta.url), 'utf8');
    expect(committed).toBe(await compileKernels());
  });

  // Sizes around the work threshold and with odd lengths (the kernels' scalar tails).
  it.each([[37, 37], [64, 50], [101, 101], [160, 124]])('partialCholesky, n = %i, leading %i: SIMD as the JavaScript kernels to rounding', (n, p) => {
    const seed = freshSeed();
    const a = randomSpd(n, mulberry32(seed));
    const r = both(() => {
      const x = Float64Array.from(a);
      return { ok: partialCholesky(x, n, p), x };
    });
    expect(r.js.ok && r.simd.ok, `seed ${seed}`).toBe(true);
    expectClose(r.simd.x, r.js.x, `seed ${seed}`);
  });

  it.each([[33, 17], [80, 41], [120, 120]])('triangular solves, n = %i, m = %i: bit for bit; the inverse to rounding', (n, m) => {
    const seed = freshSeed();
    const rnd = mulberry32(seed);
    const l = randomSpd(n, rnd);
    expect(partialCholesky(l, n, n)).toBe(true);
    // Exact zeros in L's rows, so that the solves' zero-group skips run.
    for (let i = 8; i < n; i += 5) for (let k = 0; k < Math.min(i, 4); k++) l[i * n + k] = 0;
    const B = new Float64Array(n * m).map(() => rnd() - 0.5);
    const fwd = both(() => {
      const x = Float64Array.from(B);
      forwardSubstMany(l, n, x, m);
      return x;
    });
    expect(Array.from(fwd.simd), `seed ${seed}`).toEqual(Array.from(fwd.js));
    const back = both(() => {
      const x = Float64Array.from(B);
      backSubstMany(l, n, x, m);
      return x;
    });
    expect(Array.from(back.simd), `seed ${seed}`).toEqual(Array.from(back.js));
    const inv = both(() => inverseFromCholesky(l, n));
    expectClose(inv.simd, inv.js, `seed ${seed}`);
  });

  it.each([[40, 33, 51], [63, 64, 65]])('products, %i × %i × %i: mulSparseLeft bit for bit, productT / symmetricProductT / mulSquare to rounding', (r, k, c) => {
    const seed = freshSeed();
    const rnd = mulberry32(seed);
    const A = new Float64Array(r * k).map(() => (rnd() < 0.4 ? 0 : rnd() - 0.5));
    for (let t = 0; t < k; t += 9) A[t] = A[t + 1] = A[t + 2] = 0; // groups with one nonzero
    const B = new Float64Array(k * c).map(() => rnd() - 0.5);
    const sparse = both(() => mulSparseLeft(A, B, r, k, c));
    expect(Array.from(sparse.simd), `seed ${seed}`).toEqual(Array.from(sparse.js));
    const Y = new Float64Array(c * k).map(() => rnd() - 0.5);
    const pt = both(() => productT(A, Y, r, c, k));
    expectClose(pt.simd, pt.js, `seed ${seed}`);
    const sym = both(() => symmetricProductT(A, A, r, k));
    expectClose(sym.simd, sym.js, `seed ${seed}`);
    for (let i = 0; i < r; i++) for (let j = 0; j < i; j++) expect(sym.simd[i * r + j]).toBe(sym.simd[j * r + i]);
    const sq = new Float64Array(k * k).map(() => rnd() - 0.5);
    const ms = both(() => mulSquare(sq, sq, k));
    expectClose(ms.simd, ms.js, `seed ${seed}`);
  });
});
