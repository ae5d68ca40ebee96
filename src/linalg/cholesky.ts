/**
 * Dense Cholesky factorisation and triangular solves in Float64 (row-major, lower factor).
 * Used by the certifier (a failed factorisation means "not positive definite") and by the
 * optimisers' recursion.
 */
import { symmetricProductRows } from './dense.js';
import { HEAP0, workspace, type RowKernels } from './simd/kernels.js';

/**
 * In-place Cholesky A = L Lᵀ of the n×n row-major matrix `a` (lower triangle read, L written to
 * the lower triangle; the strict upper triangle is zeroed). Returns false — leaving `a` partly
 * overwritten — as soon as a pivot is not strictly positive (or not finite).
 */
export function choleskyInPlace(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let s = a[rj + j];
    for (let k = 0; k < j; k++) s -= a[rj + k] * a[rj + k];
    if (!(s > 0) || !Number.isFinite(s)) return false;
    const ljj = Math.sqrt(s);
    a[rj + j] = ljj;
    const inv = 1 / ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let t = a[ri + j];
      for (let k = 0; k < j; k++) t -= a[ri + k] * a[rj + k];
      a[ri + j] = t * inv;
    }
    for (let k = j + 1; k < n; k++) a[rj + k] = 0;
  }
  return true;
}

/** Solves L y = b in place (L lower triangular n×n row-major). */
export function forwardSubst(l: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[ri + k] * b[k];
    b[i] = s / l[ri + i];
  }
}

/** Solves Lᵀ x = y in place. */
export function backSubst(l: Float64Array, n: number, b: Float64Array): void {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * b[k];
    b[i] = s / l[i * n + i];
  }
}

/** Solves (L Lᵀ) x = b in place, given the Cholesky factor. */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array): void {
  forwardSubst(l, n, b);
  backSubst(l, n, b);
}

/**
 * Solves L X = B in place for a row-major n×m right-hand side B (forward substitution on all
 * columns at once, row by row so the inner loop is contiguous; four earlier rows per pass, which
 * loads six numbers for four multiply-adds where one row at a time loads three for one).
 */
export function forwardSubstMany(l: Float64Array, n: number, b: Float64Array, m: number): void {
  const ws = workspace((n * n * m) / 2);
  if (!ws.heap) return forwardRows(ws.rows, l, 0, b, 0, n, m, false);
  const h = ws.heap(HEAP0 + n * n + n * m);
  h.set(l, HEAP0);
  h.set(b, HEAP0 + n * n);
  forwardRows(ws.rows, h, HEAP0, h, HEAP0 + n * n, n, m, false);
  b.set(h.subarray(HEAP0 + n * n, HEAP0 + n * n + n * m));
}

/**
 * forwardSubstMany on L at l[lo …] and B at b[bo …] (one array in the SIMD heap, or the
 * caller's); with `lowerRhs` B is lower triangular (the identity, for the inverse), so row k of
 * the solution is zero beyond column k and the passes stop there.
 */
function forwardRows(rows: RowKernels, l: Float64Array, lo: number, b: Float64Array, bo: number, n: number, m: number, lowerRhs: boolean): void {
  for (let i = 0; i < n; i++) {
    const ri = lo + i * n;
    const bi = bo + i * m;
    let k = 0;
    for (; k + 3 < i; k += 4) {
      const w0 = l[ri + k]!;
      const w1 = l[ri + k + 1]!;
      const w2 = l[ri + k + 2]!;
      const w3 = l[ri + k + 3]!;
      if (w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0) continue;
      const bk = bo + k * m;
      rows.sub4(b, bi, b, bk, bk + m, bk + 2 * m, bk + 3 * m, w0, w1, w2, w3, lowerRhs ? Math.min(m, k + 4) : m);
    }
    for (; k < i; k++) {
      const lik = l[ri + k]!;
      if (lik !== 0) rows.sub1(b, bi, b, bo + k * m, lik, lowerRhs ? Math.min(m, k + 1) : m);
    }
    const inv = 1 / l[ri + i]!;
    const len = lowerRhs ? Math.min(m, i + 1) : m;
    for (let j = 0; j < len; j++) b[bi + j] *= inv;
  }
}

/** Solves Lᵀ X = B in place for a row-major n×m right-hand side B (four later rows per pass). */
export function backSubstMany(l: Float64Array, n: number, b: Float64Array, m: number): void {
  const ws = workspace((n * n * m) / 2);
  if (!ws.heap) return backRows(ws.rows, l, 0, b, 0, n, m);
  const h = ws.heap(HEAP0 + n * n + n * m);
  h.set(l, HEAP0);
  h.set(b, HEAP0 + n * n);
  backRows(ws.rows, h, HEAP0, h, HEAP0 + n * n, n, m);
  b.set(h.subarray(HEAP0 + n * n, HEAP0 + n * n + n * m));
}

function backRows(rows: RowKernels, l: Float64Array, lo: number, b: Float64Array, bo: number, n: number, m: number): void {
  for (let i = n - 1; i >= 0; i--) {
    const bi = bo + i * m;
    let k = i + 1;
    for (; k + 3 < n; k += 4) {
      const w0 = l[lo + k * n + i]!;
      const w1 = l[lo + (k + 1) * n + i]!;
      const w2 = l[lo + (k + 2) * n + i]!;
      const w3 = l[lo + (k + 3) * n + i]!;
      if (w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0) continue;
      const bk = bo + k * m;
      rows.sub4(b, bi, b, bk, bk + m, bk + 2 * m, bk + 3 * m, w0, w1, w2, w3, m);
    }
    for (; k < n; k++) {
      const lki = l[lo + k * n + i]!;
      if (lki !== 0) rows.sub1(b, bi, b, bo + k * m, lki, m);
    }
    const inv = 1 / l[lo + i * n + i]!;
    for (let j = 0; j < m; j++) b[bi + j] *= inv;
  }
}

/**
 * A⁻¹ (n×n, exactly symmetric) from the lower Cholesky factor l of A: M = L⁻¹ (forward
 * substitution on the identity, n³/6), then A⁻¹ = MᵀM = TTᵀ (n³/6) with T = Mᵀ upper
 * triangular, entry (i, j ≤ i) = Σ_{k ≥ i} T_ik·T_jk by dense.ts symmetricProductRows (sums
 * started at the diagonal) — a third of the work of two full triangular solves, in the faster
 * kernel.
 */
export function inverseFromCholesky(l: Float64Array, n: number): Float64Array {
  const nn = n * n;
  const ws = workspace((n * nn) / 3);
  // Layout: L, M = L⁻¹, T = Mᵀ, the result; in the caller's arrays or one after the other in the heap.
  const h = ws.heap?.(HEAP0 + 4 * nn) ?? null;
  const [L, lo] = h ? [h, HEAP0] : [l, 0];
  const [M, mo] = h ? [h, HEAP0 + nn] : [new Float64Array(nn), 0];
  const [T, to] = h ? [h, HEAP0 + 2 * nn] : [new Float64Array(nn), 0];
  const [S, so] = h ? [h, HEAP0 + 3 * nn] : [new Float64Array(nn), 0];
  if (h) {
    h.set(l, lo);
    h.fill(0, mo, so + nn);
  }
  for (let i = 0; i < n; i++) M[mo + i * n + i] = 1;
  forwardRows(ws.rows, L, lo, M, mo, n, n, true);
  for (let i = 0; i < n; i++) for (let k = 0; k <= i; k++) T[to + k * n + i] = M[mo + i * n + k]!;
  symmetricProductRows(ws.rows, T, to, T, to, S, so, n, n, true);
  return h ? h.slice(so, so + nn) : S;
}

/**
 * Partial Cholesky of the symmetric n×n row-major `a` (lower triangle read): factors the leading
 * p×p block A₁₁ = L₁₁L₁₁ᵀ, writes L₂₁ = A₂₁L₁₁⁻ᵀ below it, and overwrites the lower triangle of
 * the trailing block with the Schur complement A₂₂ − L₂₁L₂₁ᵀ (p = n: a full Cholesky). The
 * strict upper triangle is zeroed. Returns false on a pivot ≤ 0 (or not finite) in the leading
 * block; the Schur complement is not tested.
 *
 * Row-oriented (dot products over contiguous rows, like choleskyInPlace), four rows by two
 * columns at a time (the dots4x2 kernel): each pass over k loads six numbers for eight products
 * instead of two for one, and loads are what bound these loops in V8 (JavaScript kernels: about
 * 2 · 10⁹ multiply-adds per second on 350–1400-row blocks against 1.3 · 10⁹ for choleskyInPlace;
 * SIMD kernels 6–9 · 10⁹; scratch measurements on the project machine). Used by the Newton
 * solver (newton-chain.ts) for its stage Hessians and by the optimiser's stage maths.
 */
export function partialCholesky(a: Float64Array, n: number, p: number): boolean {
  const ws = workspace((p * p * p) / 3 + (n - p) * p * n);
  if (!ws.heap) return partialCholeskyRows(ws.rows, a, 0, n, p);
  const h = ws.heap(HEAP0 + n * n);
  h.set(a, HEAP0);
  const ok = partialCholeskyRows(ws.rows, h, HEAP0, n, p);
  a.set(h.subarray(HEAP0, HEAP0 + n * n));
  return ok;
}

/** partialCholesky of the matrix at a[o …]. */
function partialCholeskyRows(rows: RowKernels, a: Float64Array, o: number, n: number, p: number): boolean {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const r0 = o + i * n;
    const r1 = r0 + n;
    const r2 = r1 + n;
    const r3 = r2 + n;
    let j = 0;
    for (; j + 1 < i; j += 2) {
      const c0 = o + j * n;
      const c1 = c0 + n;
      const km = j < p ? j : p;
      const s = rows.dots4x2(a, r0, a, c0, n, km);
      let v0 = a[r0 + j]! - s[0]!;
      let v1 = a[r1 + j]! - s[2]!;
      let v2 = a[r2 + j]! - s[4]!;
      let v3 = a[r3 + j]! - s[6]!;
      let w0 = a[r0 + j + 1]! - s[1]!;
      let w1 = a[r1 + j + 1]! - s[3]!;
      let w2 = a[r2 + j + 1]! - s[5]!;
      let w3 = a[r3 + j + 1]! - s[7]!;
      if (j < p) {
        const d = a[c0 + j]!;
        v0 /= d;
        v1 /= d;
        v2 /= d;
        v3 /= d;
        // Column j + 1 has one more term (k = j) when column j belongs to the leading block.
        const l = a[c1 + j]!;
        w0 -= v0 * l;
        w1 -= v1 * l;
        w2 -= v2 * l;
        w3 -= v3 * l;
      }
      if (j + 1 < p) {
        const d = a[c1 + j + 1]!;
        w0 /= d;
        w1 /= d;
        w2 /= d;
        w3 /= d;
      }
      a[r0 + j] = v0;
      a[r1 + j] = v1;
      a[r2 + j] = v2;
      a[r3 + j] = v3;
      a[r0 + j + 1] = w0;
      a[r1 + j + 1] = w1;
      a[r2 + j + 1] = w2;
      a[r3 + j + 1] = w3;
    }
    // A column left over (j = i − 1), then the 4 × 4 diagonal block, entry by entry.
    for (; j < i + 4; j++) for (let r = Math.max(0, j - i); r < 4; r++) entry(a, o, n, p, i + r, j);
    for (let r = 0; r < 4; r++) a.fill(0, r0 + r * n + i + r + 1, r0 + (r + 1) * n);
    if (!pivotsOk(a, o, n, p, i, 4)) return false;
  }
  for (; i < n; i++) {
    for (let j = 0; j <= i; j++) entry(a, o, n, p, i, j);
    a.fill(0, o + i * n + i + 1, o + (i + 1) * n);
    if (!pivotsOk(a, o, n, p, i, 1)) return false;
  }
  return true;
}

/**
 * Entry (i, j ≤ i) of partialCholesky from row i's columns < j and row j's (both done): the
 * dot product runs over the leading block's columns only; leading columns divide by the pivot.
 * A leading-block pivot that is not positive is written as NaN (pivotsOk reports it).
 */
function entry(a: Float64Array, o: number, n: number, p: number, i: number, j: number): void {
  const ri = o + i * n;
  const rj = o + j * n;
  const km = j < p ? j : p;
  let s = 0;
  for (let k = 0; k < km; k++) s += a[ri + k]! * a[rj + k]!;
  let v = a[ri + j]! - s;
  if (j < p) v = i === j ? (v > 0 && Number.isFinite(v) ? Math.sqrt(v) : NaN) : v / a[rj + j]!;
  a[ri + j] = v;
}

/** The pivots of rows i … i + m − 1 that belong to the leading block are positive numbers. */
function pivotsOk(a: Float64Array, o: number, n: number, p: number, i: number, m: number): boolean {
  for (let r = i; r < i + m && r < p; r++) if (!(a[o + r * n + r]! > 0)) return false;
  return true;
}
