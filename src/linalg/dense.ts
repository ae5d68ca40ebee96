/**
 * Small dense helpers on row-major Float64 matrices. Kept deliberately plain: the heavy lifting
 * (eigendecomposition, Cholesky) lives in eig.ts and cholesky.ts.
 */
import type { Matrix } from '../model/ir.js';
import { runStepsSync, type Steps } from '../util/steps.js';
import { HEAP0, workspace, type RowKernels } from './simd/kernels.js';

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
 * Roesser map of a 32-channel conv, scratch measurement on the project machine). The kernels
 * subtract: adding a·B is subtracting (−a)·B, bit for bit.
 */
export function mulSparseLeft(A: Float64Array, B: Float64Array, r: number, k: number, c: number): Float64Array {
  const ws = workspace(r * k * c);
  const h = ws.heap?.(HEAP0 + A.length + B.length + r * c) ?? null;
  const { arr, off, out: C, oo: co } = placed(h, [A, B], r * c);
  const [Ah, Bh] = arr as [Float64Array, Float64Array];
  const [ao, bo] = off as [number, number];
  // The sums accumulate into C: the heap's output region holds an earlier routine's data.
  if (h) h.fill(0, co, co + r * c);
  const rows = ws.rows;
  for (let i = 0; i < r; i++) {
    const ci = co + i * c;
    const ai = ao + i * k;
    let t = 0;
    for (; t + 3 < k; t += 4) {
      const a0 = Ah[ai + t]!;
      const a1 = Ah[ai + t + 1]!;
      const a2 = Ah[ai + t + 2]!;
      const a3 = Ah[ai + t + 3]!;
      const nonzero = (a0 !== 0 ? 1 : 0) + (a1 !== 0 ? 1 : 0) + (a2 !== 0 ? 1 : 0) + (a3 !== 0 ? 1 : 0);
      if (nonzero === 0) continue;
      if (nonzero === 1) {
        // A lone entry (scattered sparsity, e.g. Newton's ΔS): one row, not four.
        const u = a0 !== 0 ? 0 : a1 !== 0 ? 1 : a2 !== 0 ? 2 : 3;
        rows.sub1(C, ci, Bh, bo + (t + u) * c, -Ah[ai + t + u]!, c);
        continue;
      }
      const b0 = bo + t * c;
      rows.sub4(C, ci, Bh, b0, b0 + c, b0 + 2 * c, b0 + 3 * c, -a0, -a1, -a2, -a3, c);
    }
    for (; t < k; t++) {
      const a = Ah[ai + t]!;
      if (a !== 0) rows.sub1(C, ci, Bh, bo + t * c, -a, c);
    }
  }
  return h ? h.slice(co, co + r * c) : C;
}

/** The routine's operands in the SIMD heap one after the other (copies), or the caller's arrays. */
function placed(h: Float64Array | null, arrays: readonly Float64Array[], outLen: number): { arr: Float64Array[]; off: number[]; out: Float64Array; oo: number } {
  if (!h) return { arr: [...arrays], off: arrays.map(() => 0), out: new Float64Array(outLen), oo: 0 };
  const off: number[] = [];
  let at = HEAP0;
  for (const a of arrays) {
    off.push(at);
    h.set(a, at);
    at += a.length;
  }
  return { arr: arrays.map(() => h), off, out: h, oo: at };
}

/**
 * C = X·Yᵀ for row-major X (rx × len) and Y (ry × len): every entry a dot product of two
 * contiguous rows, four rows of X × two rows of Y per pass (the dots4x2 kernel).
 */
export function productT(X: Float64Array, Y: Float64Array, rx: number, ry: number, len: number): Float64Array {
  const ws = workspace(rx * ry * len);
  const h = ws.heap?.(HEAP0 + X.length + Y.length + rx * ry) ?? null;
  const { arr, off, out: C, oo } = placed(h, [X, Y], rx * ry);
  const [Xh, Yh] = arr as [Float64Array, Float64Array];
  const [xo, yo] = off as [number, number];
  const dotInto = (i: number, j: number): void => {
    let v = 0;
    for (let k = 0; k < len; k++) v += Xh[xo + i * len + k]! * Yh[yo + j * len + k]!;
    C[oo + i * ry + j] = v;
  };
  let i = 0;
  for (; i + 3 < rx; i += 4) {
    let j = 0;
    for (; j + 1 < ry; j += 2) {
      const s = ws.rows.dots4x2(Xh, xo + i * len, Yh, yo + j * len, len, len);
      for (let r = 0; r < 4; r++) {
        C[oo + (i + r) * ry + j] = s[2 * r]!;
        C[oo + (i + r) * ry + j + 1] = s[2 * r + 1]!;
      }
    }
    for (; j < ry; j++) for (let r = 0; r < 4; r++) dotInto(i + r, j);
  }
  for (; i < rx; i++) for (let j = 0; j < ry; j++) dotInto(i, j);
  return h ? h.slice(oo, oo + rx * ry) : C;
}

/**
 * S = X·Yᵀ for row-major X, Y (n × len each) when the product is known to be symmetric: only
 * the lower triangle is computed (four rows of X × two rows of Y per pass, dots4x2) and mirrored.
 * `upper`: row i of X is zero before column i (X upper triangular, n = len), so the sums for
 * rows x … x + 3 start at column x.
 */
export function symmetricProductT(X: Float64Array, Y: Float64Array, n: number, len: number, upper = false): Float64Array {
  const ws = workspace((n * n * len) / 2);
  const h = ws.heap?.(HEAP0 + X.length + Y.length + n * n) ?? null;
  const { arr, off, out, oo } = placed(h, [X, Y], n * n);
  symmetricProductRows(ws.rows, arr[0]!, off[0]!, arr[1]!, off[1]!, out, oo, n, len, upper);
  return h ? h.slice(oo, oo + n * n) : out;
}

/** symmetricProductT of X at X[xo …] and Y at Y[yo …] into S[so …]. */
export function symmetricProductRows(rows: RowKernels, X: Float64Array, xo: number, Y: Float64Array, yo: number, S: Float64Array, so: number, n: number, len: number, upper: boolean): void {
  let x = 0;
  for (; x + 3 < n; x += 4) {
    const k0 = upper ? x : 0;
    for (let y = 0; y < x + 4; y += 2) {
      const s = rows.dots4x2(X, xo + x * len + k0, Y, yo + y * len + k0, len, len - k0);
      for (let r = 0; r < 4; r++)
        for (let c = 0; c < 2; c++) {
          if (y + c > x + r) continue;
          const v = s[2 * r + c]!;
          S[so + (x + r) * n + y + c] = v;
          S[so + (y + c) * n + x + r] = v;
        }
    }
  }
  for (; x < n; x++)
    for (let y = 0; y <= x; y++) {
      let v = 0;
      for (let k = upper ? x : 0; k < len; k++) v += X[xo + x * len + k]! * Y[yo + y * len + k]!;
      S[so + x * n + y] = v;
      S[so + y * n + x] = v;
    }
}

/**
 * A·B for dense n × n row-major matrices. Bᵀ is formed once so that every entry is a dot product
 * of two contiguous rows (productT).
 */
export function mulSquare(A: Float64Array, B: Float64Array, n: number): Float64Array {
  const T = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) T[j * n + i] = B[i * n + j]!;
  return productT(A, T, n, n, n);
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
