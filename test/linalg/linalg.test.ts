import { describe, expect, it } from 'vitest';
import { symEig, symEigenvalues, projectPsdInPlace } from '../../src/linalg/eig.js';
import { backSubstMany, choleskyInPlace, choleskySolve, forwardSubstMany, inverseFromCholesky, partialCholesky } from '../../src/linalg/cholesky.js';
import { freshSeed, mulberry32, randomSymmetric } from '../helpers/random.js';
import { mulSparseLeft, mulSquare, symmetricProductT } from '../../src/linalg/dense.js';
import { setSimd } from '../../src/linalg/simd/kernels.js';

function reconstruct(values: Float64Array, vectors: Float64Array, n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let k = 0; k < n; k++)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) a[i * n + j] += values[k] * vectors[k * n + i] * vectors[k * n + j];
  return a;
}

describe('symEig (Householder + implicit QR)', () => {
  for (const n of [1, 2, 3, 7, 33, 64, 101]) {
    it(`reconstructs a random symmetric ${n}x${n} matrix with orthonormal vectors`, () => {
      const seed = freshSeed();
      const a = randomSymmetric(n, mulberry32(seed));
      const { values, vectors } = symEig(a, n);
      const r = reconstruct(values, vectors, n);
      let err = 0;
      let scale = 0;
      for (let i = 0; i < n * n; i++) {
        err = Math.max(err, Math.abs(r[i] - a[i]));
        scale = Math.max(scale, Math.abs(a[i]));
      }
      expect(err / scale, `seed ${seed}`).toBeLessThan(1e-12 * n);
      for (let p = 0; p < n; p++)
        for (let q = 0; q < n; q++) {
          let s = 0;
          for (let i = 0; i < n; i++) s += vectors[p * n + i] * vectors[q * n + i];
          expect(Math.abs(s - (p === q ? 1 : 0)), `seed ${seed}`).toBeLessThan(1e-12 * n);
        }
      for (let i = 1; i < n; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
    });
  }

  it('handles repeated eigenvalues and diagonal input', () => {
    const n = 5;
    const a = new Float64Array(n * n);
    [3, 1, 3, 1, 3].forEach((v, i) => (a[i * n + i] = v));
    const { values } = symEig(a, n);
    expect(Array.from(values)).toEqual([1, 1, 3, 3, 3]);
  });
  it('is scale-invariant from 1e-200 to 1e200 (the Wilkinson shift squares entries)', () => {
    // The 2×2 that made the QR iteration overflow to NaN inside the conv optimiser.
    const H = Float64Array.from([1.50678271961633677e193, -3.49490894846795931e192, -3.49490894846795931e192, 2.87484149614769949e192]);
    const e = symEig(H, 2);
    const tr = H[0]! + H[3]!;
    const det = H[0]! / 1e192 * (H[3]! / 1e192) - (H[1]! / 1e192) ** 2;
    const disc = Math.sqrt((tr / 1e192) ** 2 / 4 - det);
    expect(e.values[0]! / 1e192).toBeCloseTo(tr / 2e192 - disc, 10);
    expect(e.values[1]! / 1e192).toBeCloseTo(tr / 2e192 + disc, 10);
    const seed = freshSeed();
    const A = randomSymmetric(7, mulberry32(seed));
    const ref = symEig(A, 7).values;
    for (const f of [1e-200, 1e200]) {
      const v = symEig(A.map((x) => x * f), 7).values;
      for (let i = 0; i < 7; i++) expect(v[i]! / f, `seed ${seed} scale ${f}`).toBeCloseTo(ref[i]!, 10);
    }
  });
});

describe('projectPsdInPlace', () => {
  it('gives the nearest PSD matrix: eigenvalues clipped, residual is NSD and orthogonal', () => {
    const seed = freshSeed();
    const n = 40;
    const a = randomSymmetric(n, mulberry32(seed));
    const p = Float64Array.from(a);
    projectPsdInPlace(p, n);
    const { values: pv } = symEig(p, n);
    expect(pv[0], `seed ${seed}`).toBeGreaterThan(-1e-10);
    const r = a.map((v, i) => v - p[i]); // A − Π(A) = −Π(−A) is NSD and ⟂ Π(A)
    const { values: rv } = symEig(r, n);
    expect(rv[n - 1]).toBeLessThan(1e-10);
    let ip = 0;
    for (let i = 0; i < n * n; i++) ip += r[i] * p[i];
    expect(Math.abs(ip)).toBeLessThan(1e-9);
  });
});

describe('cholesky', () => {
  it('factors an SPD matrix and solves with it; rejects an indefinite one', () => {
    const seed = freshSeed();
    const rand = mulberry32(seed);
    const n = 30;
    const b = randomSymmetric(n, rand);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += b[i * n + k] * b[j * n + k];
    for (let i = 0; i < n; i++) a[i * n + i] += 1;
    const l = Float64Array.from(a);
    expect(choleskyInPlace(l, n)).toBe(true);
    const x = new Float64Array(n).map(() => rand() - 0.5);
    const rhs = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) rhs[i] += a[i * n + j] * x[j];
    choleskySolve(l, n, rhs);
    for (let i = 0; i < n; i++) expect(Math.abs(rhs[i] - x[i]), `seed ${seed}`).toBeLessThan(1e-8);
    const ind = Float64Array.from(a);
    ind[0] = -1;
    expect(choleskyInPlace(ind, n)).toBe(false);
  });
});

describe('partialCholesky', () => {
  /** A random SPD n × n matrix BBᵀ + I. */
  const spd = (n: number, rand: () => number): Float64Array => {
    const b = randomSymmetric(n, rand);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += b[i * n + k] * b[j * n + k];
    for (let i = 0; i < n; i++) a[i * n + i] += 1;
    return a;
  };
  for (const [n, p] of [[1, 1], [2, 1], [7, 7], [8, 3], [9, 4], [10, 0], [33, 20], [34, 33], [40, 40]] as const) {
    it(`n = ${n}, leading ${p}: L₁₁, L₂₁ as the full Cholesky and the Schur complement of the rest`, () => {
      const seed = freshSeed();
      const a = spd(n, mulberry32(seed));
      const full = Float64Array.from(a);
      expect(choleskyInPlace(full, n)).toBe(true);
      const part = Float64Array.from(a);
      // a stale upper triangle must not matter
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) part[i * n + j] = NaN;
      expect(partialCholesky(part, n, p)).toBe(true);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          let want: number;
          if (j > i) want = 0;
          else if (j < p) want = full[i * n + j]!;
          else {
            // A₂₂ − L₂₁L₂₁ᵀ from the full factor: Σ_{p ≤ k ≤ j} L_ik L_jk
            want = 0;
            for (let k = p; k <= j; k++) want += full[i * n + k]! * full[j * n + k]!;
          }
          expect(Math.abs(part[i * n + j]! - want), `seed ${seed} (${i},${j})`).toBeLessThan(1e-9 * (1 + Math.abs(want)));
        }
    });
  }
  it('rejects a leading block that is not positive definite, not the trailing one', () => {
    const seed = freshSeed();
    const n = 12;
    const a = spd(n, mulberry32(seed));
    const bad = Float64Array.from(a);
    bad[3 * n + 3] = -1;
    expect(partialCholesky(Float64Array.from(bad), n, 6)).toBe(false);
    expect(partialCholesky(Float64Array.from(bad), n, 3)).toBe(true);
  });
});

describe('symEigenvalues', () => {
  it('gives symEig\'s values bit for bit', () => {
    const seed = freshSeed();
    for (const n of [1, 2, 5, 31, 64]) {
      const a = randomSymmetric(n, mulberry32(seed + n));
      expect(Array.from(symEigenvalues(a, n)), `seed ${seed}`).toEqual(Array.from(symEig(a, n).values));
    }
  });
});

describe('dense products', () => {
  /** Σ_k A[i][k]·B[k][j] summed in increasing k, the order both products promise. */
  function reference(A: Float64Array, B: Float64Array, r: number, k: number, c: number): Float64Array {
    const C = new Float64Array(r * c);
    for (let i = 0; i < r; i++)
      for (let j = 0; j < c; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += A[i * k + t]! * B[t * c + j]!;
        C[i * c + j] = s;
      }
    return C;
  }
  /** |x − y| ≤ 1e-14·Σ|terms| entrywise (mulSparseLeft sums in groups of four). */
  function expectClose(got: Float64Array, want: Float64Array, A: Float64Array, B: Float64Array, r: number, k: number, c: number, msg: string): void {
    const absA = A.map(Math.abs);
    const absB = B.map(Math.abs);
    const scale = reference(absA, absB, r, k, c);
    for (let i = 0; i < r * c; i++) expect(Math.abs(got[i]! - want[i]!), msg).toBeLessThanOrEqual(1e-14 * scale[i]!);
  }
  it.each([1, 2, 3, 5, 8, 13, 34])('mulSquare equals the k-ordered sums bit for bit (JavaScript kernels) and to rounding, mulSparseLeft (A with zero entries and zero groups) to rounding, n = %i', (n) => {
    const seed = freshSeed();
    const rnd = mulberry32(seed);
    const A = new Float64Array(n * n).map(() => (rnd() < 0.3 ? 0 : rnd() - 0.5));
    // A whole zero group of four in A's first row, when it has one.
    for (let t = 0; t < Math.min(4, n); t++) A[t] = 0;
    const B = new Float64Array(n * n).map(() => rnd() - 0.5);
    const want = reference(A, B, n, n, n);
    // The JavaScript kernels sum in increasing k; the SIMD kernels (used from ~20 000
    // multiply-adds on) keep even and odd k apart: equal to rounding.
    const was = setSimd(false);
    try {
      expect(Array.from(mulSquare(A, B, n)), `seed ${seed}`).toEqual(Array.from(want));
    } finally {
      setSimd(was);
    }
    expectClose(mulSquare(A, B, n), want, A, B, n, n, n, `seed ${seed}`);
    expectClose(mulSparseLeft(A, B, n, n, n), want, A, B, n, n, n, `seed ${seed}`);
    // A rectangular sparse-left product.
    const R = new Float64Array(3 * n).map(() => (rnd() < 0.5 ? 0 : rnd()));
    expectClose(mulSparseLeft(R, B, 3, n, n), reference(R, B, 3, n, n), R, B, 3, n, n, `seed ${seed}`);
  });
});

describe('triangular solves with many right-hand sides, and the inverse', () => {
  /** A random SPD matrix with some exact zeros in its factor's rows (the solves skip zero groups). */
  function factor(n: number, rnd: () => number): { a: Float64Array; l: Float64Array } {
    const l0 = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) l0[i * n + j] = i === j ? 1 + rnd() : rnd() < 0.4 ? 0 : rnd() - 0.5;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += l0[i * n + k]! * l0[j * n + k]!;
    const l = Float64Array.from(a);
    expect(choleskyInPlace(l, n)).toBe(true);
    return { a, l };
  }
  it.each([
    [1, 1],
    [3, 2],
    [4, 5],
    [9, 3],
    [17, 32],
    [40, 7],
  ])('n = %i, m = %i: L X = B and Lᵀ X = B to rounding; A⁻¹ from the factor', (n, m) => {
    const seed = freshSeed();
    const rnd = mulberry32(seed);
    const { a, l } = factor(n, rnd);
    const B = new Float64Array(n * m).map(() => rnd() - 0.5);
    const X = Float64Array.from(B);
    forwardSubstMany(l, n, X, m);
    // L·X = B
    for (let i = 0; i < n; i++)
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let k = 0; k <= i; k++) s += l[i * n + k]! * X[k * m + j]!;
        expect(Math.abs(s - B[i * m + j]!), `seed ${seed}`).toBeLessThan(1e-11);
      }
    const Y = Float64Array.from(B);
    backSubstMany(l, n, Y, m);
    // Lᵀ·Y = B
    for (let i = 0; i < n; i++)
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let k = i; k < n; k++) s += l[k * n + i]! * Y[k * m + j]!;
        expect(Math.abs(s - B[i * m + j]!), `seed ${seed}`).toBeLessThan(1e-11);
      }
    const inv = inverseFromCholesky(l, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        expect(inv[i * n + j], `seed ${seed}`).toBe(inv[j * n + i]);
        let s = 0;
        for (let k = 0; k < n; k++) s += a[i * n + k]! * inv[k * n + j]!;
        expect(Math.abs(s - (i === j ? 1 : 0)), `seed ${seed}`).toBeLessThan(1e-9);
      }
  });
});

describe('symmetricProductT', () => {
  it.each([1, 2, 3, 4, 5, 7, 8, 13])('X·Yᵀ of a symmetric product, n = %i: both triangles, the lower one summed in k order', (n) => {
    const seed = freshSeed();
    const rnd = mulberry32(seed);
    const len = 1 + Math.floor(rnd() * 9);
    // X = Y·S with S symmetric makes X·Yᵀ = Y S Yᵀ symmetric.
    const Y = new Float64Array(n * len).map(() => rnd() - 0.5);
    const S = randomSymmetric(len, rnd);
    const X = new Float64Array(n * len);
    for (let i = 0; i < n; i++) for (let j = 0; j < len; j++) for (let k = 0; k < len; k++) X[i * len + j] += Y[i * len + k]! * S[k * len + j]!;
    const P = symmetricProductT(X, Y, n, len);
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let k = 0; k < len; k++) s += X[i * len + k]! * Y[j * len + k]!;
        expect(P[i * n + j], `seed ${seed}`).toBe(s);
        expect(P[j * n + i], `seed ${seed}`).toBe(s);
      }
  });

  it.each([1, 3, 4, 6, 9])('upper: T·Tᵀ of an upper-triangular T (n = %i), sums from the diagonal, bit for bit', (n) => {
    const seed = freshSeed();
    const rnd = mulberry32(seed);
    const T = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let k = i; k < n; k++) T[i * n + k] = rnd() - 0.5;
    const P = symmetricProductT(T, T, n, n, true);
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let k = i; k < n; k++) s += T[i * n + k]! * T[j * n + k]!;
        expect(P[i * n + j], `seed ${seed}`).toBe(s);
        expect(P[j * n + i], `seed ${seed}`).toBe(s);
      }
  });
});
