/** Seeded generators and an independent H∞-norm evaluation for the 1-D tests. */
import type { Matrix } from '../../src/model/ir.js';
import { symEig } from '../../src/linalg/eig.js';

export { gaussian, mulberry32 as rng } from '../../src/util/random.js';

export function randMatrix(g: () => number, rows: number, cols: number, scale = 1): Matrix {
  return { rows, cols, data: Float64Array.from({ length: rows * cols }, () => scale * g()) };
}

export function toRows(m: Matrix): number[][] {
  return Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
}

/** Random A scaled to spectral norm `r` (< 1 ⇒ Schur stable), by power iteration on AᵀA. */
export function stableA(g: () => number, n: number, r: number): Matrix {
  const A = randMatrix(g, n, n);
  let v = new Float64Array(n).fill(1);
  let s = 0;
  for (let it = 0; it < 500; it++) {
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) w[i] += A.data[i * n + j]! * v[j]!;
    const u = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) u[j] += A.data[i * n + j]! * w[i]!;
    const nu = Math.hypot(...u);
    s = Math.sqrt(nu);
    v = u.map((x) => x / nu);
  }
  return { rows: n, cols: n, data: A.data.map((x) => (x * r) / s) };
}

/** Solve the real system M x = b (dense, partial pivoting); M is n×n row-major, b n×k. */
function solve(M: Float64Array, n: number, b: Float64Array, k: number): Float64Array {
  const a = Float64Array.from(M);
  const x = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]!) > Math.abs(a[p * n + c]!)) p = r;
    for (let j = 0; j < n; j++) [a[c * n + j], a[p * n + j]] = [a[p * n + j]!, a[c * n + j]!];
    for (let j = 0; j < k; j++) [x[c * k + j], x[p * k + j]] = [x[p * k + j]!, x[c * k + j]!];
    for (let r = c + 1; r < n; r++) {
      const f = a[r * n + c]! / a[c * n + c]!;
      if (f === 0) continue;
      for (let j = c; j < n; j++) a[r * n + j] -= f * a[c * n + j]!;
      for (let j = 0; j < k; j++) x[r * k + j] -= f * x[c * k + j]!;
    }
  }
  for (let c = n - 1; c >= 0; c--) {
    for (let j = 0; j < k; j++) {
      let s = x[c * k + j]!;
      for (let r = c + 1; r < n; r++) s -= a[c * n + r]! * x[r * k + j]!;
      x[c * k + j] = s / a[c * n + c]!;
    }
  }
  return x;
}

/** σ_max(C (e^{iω} I − A)⁻¹ B + D), via the real 2n embedding of the complex solve. */
export function sigmaMaxAt(A: Matrix, B: Matrix, C: Matrix, D: Matrix, w: number): number {
  const n = A.rows;
  const m = B.cols;
  const p = C.rows;
  const M = new Float64Array(4 * n * n);
  const N2 = 2 * n;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const d = (i === j ? Math.cos(w) : 0) - A.data[i * n + j]!;
      M[i * N2 + j] = d;
      M[(n + i) * N2 + n + j] = d;
    }
  for (let i = 0; i < n; i++) {
    M[i * N2 + n + i] = -Math.sin(w);
    M[(n + i) * N2 + i] = Math.sin(w);
  }
  const rhs = new Float64Array(N2 * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) rhs[i * m + j] = B.data[i * m + j]!;
  const X = n > 0 ? solve(M, N2, rhs, m) : rhs;
  const Gr = new Float64Array(p * m);
  const Gi = new Float64Array(p * m);
  for (let i = 0; i < p; i++)
    for (let j = 0; j < m; j++) {
      let r = D.data[i * m + j]!;
      let im = 0;
      for (let t = 0; t < n; t++) {
        r += C.data[i * n + t]! * X[t * m + j]!;
        im += C.data[i * n + t]! * X[(n + t) * m + j]!;
      }
      Gr[i * m + j] = r;
      Gi[i * m + j] = im;
    }
  // Real embedding [[Gr, −Gi], [Gi, Gr]] has the singular values of G (each twice).
  const R = 2 * p;
  const K = 2 * m;
  const E = new Float64Array(R * K);
  for (let i = 0; i < p; i++)
    for (let j = 0; j < m; j++) {
      E[i * K + j] = Gr[i * m + j]!;
      E[i * K + m + j] = -Gi[i * m + j]!;
      E[(p + i) * K + j] = Gi[i * m + j]!;
      E[(p + i) * K + m + j] = Gr[i * m + j]!;
    }
  const EtE = new Float64Array(K * K);
  for (let r = 0; r < R; r++) for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) EtE[i * K + j] += E[r * K + i]! * E[r * K + j]!;
  const { values } = symEig(EtE, K);
  return Math.sqrt(Math.max(0, values[K - 1]!));
}

/** H∞ norm: dense sweep of ω ∈ [0, π], then golden-section refinement around the best points. */
export function hinfNorm(A: Matrix, B: Matrix, C: Matrix, D: Matrix, grid = 4000): number {
  const vals: number[] = [];
  for (let k = 0; k <= grid; k++) vals.push(sigmaMaxAt(A, B, C, D, (Math.PI * k) / grid));
  let best = Math.max(...vals);
  const order = vals.map((v, k) => [v, k] as const).sort((a, b) => b[0] - a[0]).slice(0, 5);
  const h = Math.PI / grid;
  for (const [, k] of order) {
    let lo = Math.max(0, (k - 1) * h);
    let hi = Math.min(Math.PI, (k + 1) * h);
    const phi = (Math.sqrt(5) - 1) / 2;
    for (let it = 0; it < 60; it++) {
      const x1 = hi - phi * (hi - lo);
      const x2 = lo + phi * (hi - lo);
      const f1 = sigmaMaxAt(A, B, C, D, x1);
      const f2 = sigmaMaxAt(A, B, C, D, x2);
      best = Math.max(best, f1, f2);
      if (f1 > f2) hi = x2;
      else lo = x1;
    }
  }
  return best;
}
