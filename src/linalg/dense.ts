/**
 * Small dense helpers on row-major Float64 matrices. Kept deliberately plain: the heavy lifting
 * (eigendecomposition, Cholesky) lives in eig.ts and cholesky.ts.
 */
import type { Matrix } from '../model/ir.js';
import { runStepsSync, type Steps } from '../util/steps.js';

export function matrix(rows: number, cols: number, data?: Float64Array): Matrix {
  const d = data ?? new Float64Array(rows * cols);
  if (d.length !== rows * cols) throw new Error(`matrix: ${rows}x${cols} needs ${rows * cols} entries, got ${d.length}`);
  return { rows, cols, data: d };
}

export function identity(n: number): Matrix {
  const m = matrix(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
  return m;
}

/** C = A B. */
export function matmul(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) throw new Error(`matmul: ${a.rows}x${a.cols} times ${b.rows}x${b.cols}`);
  const c = matrix(a.rows, b.cols);
  const n = b.cols;
  const m = a.cols;
  // Plain locals: V8 does not hoist the .data loads out of the inner loop (3× slower).
  const A = a.data;
  const B = b.data;
  const C = c.data;
  for (let i = 0; i < a.rows; i++) {
    const ci = i * n;
    for (let k = 0; k < m; k++) {
      const aik = A[i * m + k]!;
      if (aik === 0) continue;
      const bk = k * n;
      for (let j = 0; j < n; j++) C[ci + j] += aik * B[bk + j]!;
    }
  }
  return c;
}

/**
 * A·B for row-major A (r × k) and B (k × c) as flat arrays, skipping zero entries of A (the
 * realisation matrices are sparse). Four entries of A's row per pass over C's row
 * (C_i += a₀B₀ + a₁B₁ + a₂B₂ + a₃B₃, groups of four in increasing k; a group is skipped when
 * all four are zero, and a group with one nonzero is one row): six loads per four multiply-adds
 * instead of three per one, which is what bounds these loops in V8 (2.3× on the 128 × 160
 * Roesser map of a 32-channel conv, scratch measurement on the project machine).
 */
export function mulSparseLeft(A: Float64Array, B: Float64Array, r: number, k: number, c: number): Float64Array {
  const C = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    const ci = i * c;
    const ai = i * k;
    let t = 0;
    for (; t + 3 < k; t += 4) {
      const a0 = A[ai + t]!;
      const a1 = A[ai + t + 1]!;
      const a2 = A[ai + t + 2]!;
      const a3 = A[ai + t + 3]!;
      const nonzero = (a0 !== 0 ? 1 : 0) + (a1 !== 0 ? 1 : 0) + (a2 !== 0 ? 1 : 0) + (a3 !== 0 ? 1 : 0);
      if (nonzero === 0) continue;
      if (nonzero === 1) {
        // A lone entry (scattered sparsity, e.g. Newton's ΔS): one row, not four.
        const u = a0 !== 0 ? 0 : a1 !== 0 ? 1 : a2 !== 0 ? 2 : 3;
        const a = A[ai + t + u]!;
        const bt = (t + u) * c;
        for (let j = 0; j < c; j++) C[ci + j] += a * B[bt + j]!;
        continue;
      }
      const b0 = t * c;
      const b1 = b0 + c;
      const b2 = b1 + c;
      const b3 = b2 + c;
      for (let j = 0; j < c; j++) C[ci + j] += a0 * B[b0 + j]! + a1 * B[b1 + j]! + a2 * B[b2 + j]! + a3 * B[b3 + j]!;
    }
    for (; t < k; t++) {
      const a = A[ai + t]!;
      if (a === 0) continue;
      const bt = t * c;
      for (let j = 0; j < c; j++) C[ci + j] += a * B[bt + j]!;
    }
  }
  return C;
}

/**
 * The micro-kernel of mulSquare and linalg/cholesky.ts partialCholesky: s[2r + c] = Σ_{k<len}
 * X[x + r·n + k]·Y[y + c·n + k] for r < 4, c < 2, k increasing — eight sums kept in registers for
 * six loads per k.
 */
export function dots4x2(X: Float64Array, x: number, Y: Float64Array, y: number, n: number, len: number, s: Float64Array): void {
  const x1 = x + n;
  const x2 = x1 + n;
  const x3 = x2 + n;
  const y1 = y + n;
  let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0; // prettier-ignore
  for (let k = 0; k < len; k++) {
    const b0 = Y[y + k]!;
    const b1 = Y[y1 + k]!;
    const a0 = X[x + k]!;
    const a1 = X[x1 + k]!;
    const a2 = X[x2 + k]!;
    const a3 = X[x3 + k]!;
    s00 += a0 * b0;
    s01 += a0 * b1;
    s10 += a1 * b0;
    s11 += a1 * b1;
    s20 += a2 * b0;
    s21 += a2 * b1;
    s30 += a3 * b0;
    s31 += a3 * b1;
  }
  s[0] = s00;
  s[1] = s01;
  s[2] = s10;
  s[3] = s11;
  s[4] = s20;
  s[5] = s21;
  s[6] = s30;
  s[7] = s31;
}

/**
 * C = X·Yᵀ for row-major X (rx × len) and Y (ry × len): every entry a dot product of two
 * contiguous rows, four rows of X × two rows of Y per pass (dots4x2), k summed in increasing order.
 */
export function productT(X: Float64Array, Y: Float64Array, rx: number, ry: number, len: number): Float64Array {
  const C = new Float64Array(rx * ry);
  const s = new Float64Array(8);
  const dotInto = (i: number, j: number): void => {
    let v = 0;
    for (let k = 0; k < len; k++) v += X[i * len + k]! * Y[j * len + k]!;
    C[i * ry + j] = v;
  };
  let i = 0;
  for (; i + 3 < rx; i += 4) {
    let j = 0;
    for (; j + 1 < ry; j += 2) {
      dots4x2(X, i * len, Y, j * len, len, len, s);
      for (let r = 0; r < 4; r++) {
        C[(i + r) * ry + j] = s[2 * r]!;
        C[(i + r) * ry + j + 1] = s[2 * r + 1]!;
      }
    }
    for (; j < ry; j++) for (let r = 0; r < 4; r++) dotInto(i + r, j);
  }
  for (; i < rx; i++) for (let j = 0; j < ry; j++) dotInto(i, j);
  return C;
}

/**
 * S = X·Yᵀ for row-major X, Y (n × len each) when the product is known to be symmetric: only
 * the lower triangle is computed (four rows of X × two rows of Y per pass, dots4x2) and mirrored.
 * `upper`: row i of X is zero before column i (X upper triangular, n = len), so the sums for
 * rows x … x + 3 start at column x.
 */
export function symmetricProductT(X: Float64Array, Y: Float64Array, n: number, len: number, upper = false): Float64Array {
  const S = new Float64Array(n * n);
  const s = new Float64Array(8);
  let x = 0;
  for (; x + 3 < n; x += 4) {
    const k0 = upper ? x : 0;
    for (let y = 0; y < x + 4; y += 2) {
      dots4x2(X, x * len + k0, Y, y * len + k0, len, len - k0, s);
      for (let r = 0; r < 4; r++)
        for (let c = 0; c < 2; c++) {
          if (y + c > x + r) continue;
          const v = s[2 * r + c]!;
          S[(x + r) * n + y + c] = v;
          S[(y + c) * n + x + r] = v;
        }
    }
  }
  for (; x < n; x++)
    for (let y = 0; y <= x; y++) {
      let v = 0;
      for (let k = upper ? x : 0; k < len; k++) v += X[x * len + k]! * Y[y * len + k]!;
      S[x * n + y] = v;
      S[y * n + x] = v;
    }
  return S;
}

/**
 * A·B for dense n × n row-major matrices (k summed in increasing order, as matmul). Bᵀ is formed
 * once so that every entry is a dot product of two contiguous rows, taken four rows of A × two
 * rows of Bᵀ at a time (dots4x2).
 */
export function mulSquare(A: Float64Array, B: Float64Array, n: number): Float64Array {
  const C = new Float64Array(n * n);
  const T = new Float64Array(n * n);
  const s = new Float64Array(8);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) T[j * n + i] = B[i * n + j]!;
  const dotInto = (i: number, j: number): void => {
    let s = 0;
    const a = i * n;
    const t = j * n;
    for (let k = 0; k < n; k++) s += A[a + k]! * T[t + k]!;
    C[i * n + j] = s;
  };
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const a0 = i * n;
    const a1 = a0 + n;
    const a2 = a1 + n;
    const a3 = a2 + n;
    let j = 0;
    for (; j + 1 < n; j += 2) {
      const t0 = j * n;
      dots4x2(A, a0, T, t0, n, n, s);
      C[a0 + j] = s[0]!;
      C[a0 + j + 1] = s[1]!;
      C[a1 + j] = s[2]!;
      C[a1 + j + 1] = s[3]!;
      C[a2 + j] = s[4]!;
      C[a2 + j + 1] = s[5]!;
      C[a3 + j] = s[6]!;
      C[a3 + j + 1] = s[7]!;
    }
    for (; j < n; j++) for (let r = 0; r < 4; r++) dotInto(i + r, j);
  }
  for (; i < n; i++) for (let j = 0; j < n; j++) dotInto(i, j);
  return C;
}

export function transpose(a: Matrix): Matrix {
  const t = matrix(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) t.data[j * a.rows + i] = a.data[i * a.cols + j];
  return t;
}

/** G = Aᵀ A (cols × cols). */
export function gram(a: Matrix): Matrix {
  return matmul(transpose(a), a);
}

/** G = A Aᵀ (rows × rows). */
export function gramRows(a: Matrix): Matrix {
  return matmul(a, transpose(a));
}

export function scale(a: Matrix, s: number): Matrix {
  return matrix(a.rows, a.cols, a.data.map((v) => v * s));
}

/** y = A x */
export function matvec(a: Matrix, x: Float64Array, y = new Float64Array(a.rows)): Float64Array {
  for (let i = 0; i < a.rows; i++) {
    let s = 0;
    const r = i * a.cols;
    for (let j = 0; j < a.cols; j++) s += a.data[r + j] * x[j];
    y[i] = s;
  }
  return y;
}

/** y = Aᵀ x */
export function matTvec(a: Matrix, x: Float64Array, y = new Float64Array(a.cols)): Float64Array {
  y.fill(0);
  for (let i = 0; i < a.rows; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const r = i * a.cols;
    for (let j = 0; j < a.cols; j++) y[j] += a.data[r + j] * xi;
  }
  return y;
}

export function norm2(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

/** A ← (A + Aᵀ)/2 in place (n × n row-major): removes the rounding asymmetry of a product. */
export function symmetrise(A: Float64Array, n: number): void {
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (A[i * n + j]! + A[j * n + i]!);
      A[i * n + j] = v;
      A[j * n + i] = v;
    }
}

export function dot(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

export function frobenius(a: Matrix): number {
  return norm2(a.data);
}

/**
 * Spectral norm ‖A‖₂ estimated by power iteration on AᵀA (converges from below; callers that
 * need an upper bound must not use this — see bounds/naive.ts for the certified variant).
 */
export function spectralNormEstimate(a: Matrix, iters = 200, tol = 1e-12): number {
  return runStepsSync(spectralNormSteps(a, iters, tol));
}

/** The power iteration, pausing after every iteration (one pass over a large unrolled layer can take a while). */
export function* spectralNormSteps(a: Matrix, iters = 200, tol = 1e-12): Steps<number> {
  if (a.rows === 0 || a.cols === 0) return 0;
  let v: Float64Array = new Float64Array(a.cols);
  // Deterministic start that is not orthogonal to the top singular vector in practice.
  for (let j = 0; j < a.cols; j++) v[j] = 1 + 0.37 * Math.sin(j + 1);
  let nv = norm2(v);
  for (let j = 0; j < a.cols; j++) v[j] /= nv;
  let sigma = 0;
  const av = new Float64Array(a.rows);
  for (let it = 0; it < iters; it++) {
    yield;
    matvec(a, v, av);
    const w = matTvec(a, av);
    const nw = norm2(w);
    if (nw === 0) return 0;
    const next = Math.sqrt(nw);
    for (let j = 0; j < a.cols; j++) w[j] /= nw;
    v = w;
    if (Math.abs(next - sigma) <= tol * next) {
      sigma = next;
      break;
    }
    sigma = next;
  }
  nv = norm2(matvec(a, v));
  return Math.max(sigma, nv);
}
