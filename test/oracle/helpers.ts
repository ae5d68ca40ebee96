/**
 * Test-only helpers for the oracle tests: seeded random FC chains, an independent symmetric
 * eigenvalue routine (cyclic Jacobi, kept separate from src/linalg so the oracle checks do not
 * share code with what they check), and Jacobians of a chain for empirical lower bounds.
 */
import type { ActivationFn, FcChain, FcChainLayer, Matrix, SlopeBounds } from '../../src/model/ir.js';

/** Seeded test data (the library's mulberry32), so failures can be replayed. */
export { mulberry32 as makeRng } from '../../src/util/random.js';

export function gaussian(rng: () => number): number {
  const u = Math.max(rng(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** A fresh seed per run unless LIPDP_TEST_SEED is set (to replay a failure). */
export function testSeed(): number {
  const env = process.env.LIPDP_TEST_SEED;
  if (env !== undefined && env !== '') return Number(env) >>> 0;
  return (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) >>> 0;
}

export interface ActivationSpec {
  readonly fn: ActivationFn;
  readonly param?: number;
  readonly slope: SlopeBounds;
  /** φ'(z), for Jacobians. */
  readonly deriv: (z: number) => number;
}

const sig = (z: number): number => 1 / (1 + Math.exp(-z));

export const ACTIVATIONS: Readonly<Record<'relu' | 'leaky' | 'tanh' | 'sigmoid', ActivationSpec>> = {
  relu: { fn: 'relu', slope: { alpha: 0, beta: 1 }, deriv: (z) => (z > 0 ? 1 : 0) },
  leaky: { fn: 'leaky_relu', param: 0.1, slope: { alpha: 0.1, beta: 1 }, deriv: (z) => (z > 0 ? 1 : 0.1) },
  tanh: { fn: 'tanh', slope: { alpha: 0, beta: 1 }, deriv: (z) => 1 - Math.tanh(z) ** 2 },
  sigmoid: { fn: 'sigmoid', slope: { alpha: 0, beta: 0.25 }, deriv: (z) => sig(z) * (1 - sig(z)) },
};
export type ActivationKey = keyof typeof ACTIVATIONS;

export function randomMatrix(rng: () => number, rows: number, cols: number): Matrix {
  // Entries N(0, 1/cols): keeps ‖W‖ = O(1) so that bounds stay in a sane range at any width.
  const s = 1 / Math.sqrt(cols);
  return { rows, cols, data: Float64Array.from({ length: rows * cols }, () => s * gaussian(rng)) };
}

/** widths = [n_0, n_1, …, n_ℓ]; acts[k−1] is the activation after hidden layer k. */
export function randomChain(rng: () => number, widths: readonly number[], acts: readonly ActivationKey[]): FcChain {
  const layers: FcChainLayer[] = [];
  for (let k = 1; k < widths.length; k++) {
    const W = randomMatrix(rng, widths[k]!, widths[k - 1]!);
    const bias = Float64Array.from({ length: widths[k]! }, () => 0.5 * gaussian(rng));
    if (k < widths.length - 1) {
      const a = ACTIVATIONS[acts[k - 1]!];
      const activation = a.param === undefined ? { fn: a.fn, slope: a.slope } : { fn: a.fn, param: a.param, slope: a.slope };
      layers.push({ W, bias, activation });
    } else {
      layers.push({ W, bias });
    }
  }
  return { inputSize: widths[0]!, layers };
}

/** Eigenvalues of a symmetric n×n row-major matrix by cyclic Jacobi rotations, ascending. */
export function symEigenvalues(Ain: ArrayLike<number>, n: number): Float64Array {
  const A = Float64Array.from(Ain as ArrayLike<number>);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const v = A[i * n + j]! ** 2;
        total += v;
        if (i !== j) off += v;
      }
    }
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q]!;
        if (apq === 0) continue;
        const app = A[p * n + p]!;
        const aqq = A[q * n + q]!;
        // Rotation angle that zeroes A[p][q] (standard stable formulation).
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p]!;
          const akq = A[k * n + q]!;
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k]!;
          const aqk = A[q * n + k]!;
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  const ev = new Float64Array(n);
  for (let i = 0; i < n; i++) ev[i] = A[i * n + i]!;
  return ev.sort();
}

/** ‖M‖₂ of a general matrix via the eigenvalues of the smaller Gram matrix. */
export function spectralNorm(M: Matrix): number {
  const { rows, cols, data } = M;
  const small = Math.min(rows, cols);
  const G = new Float64Array(small * small);
  for (let a = 0; a < small; a++) {
    for (let b = a; b < small; b++) {
      let s = 0;
      if (cols <= rows) for (let i = 0; i < rows; i++) s += data[i * cols + a]! * data[i * cols + b]!;
      else for (let j = 0; j < cols; j++) s += data[a * cols + j]! * data[b * cols + j]!;
      G[a * small + b] = s;
      G[b * small + a] = s;
    }
  }
  const ev = symEigenvalues(G, small);
  return Math.sqrt(Math.max(ev[small - 1]!, 0));
}

/** J(x) = W_ℓ D_{ℓ−1} … D_1 W_1 with D_k = diag φ_k'(pre-activations at x). */
export function jacobian(chain: FcChain, x: Float64Array, acts: readonly ActivationKey[]): Matrix {
  let h = x;
  // J accumulates ∂(current signal)/∂x, starting from the identity.
  let J: Matrix = { rows: x.length, cols: x.length, data: identity(x.length) };
  chain.layers.forEach((layer, idx) => {
    const { W, bias } = layer;
    const z = new Float64Array(W.rows);
    for (let i = 0; i < W.rows; i++) {
      let s = bias[i]!;
      for (let j = 0; j < W.cols; j++) s += W.data[i * W.cols + j]! * h[j]!;
      z[i] = s;
    }
    J = matmul(W, J);
    if (layer.activation) {
      const a = ACTIVATIONS[acts[idx]!];
      const out = new Float64Array(W.rows);
      for (let i = 0; i < W.rows; i++) {
        const d = a.deriv(z[i]!);
        out[i] = applyAct(acts[idx]!, z[i]!);
        for (let j = 0; j < J.cols; j++) J.data[i * J.cols + j] = J.data[i * J.cols + j]! * d;
      }
      h = out;
    } else {
      h = z;
    }
  });
  return J;
}

function applyAct(key: ActivationKey, z: number): number {
  switch (key) {
    case 'relu':
      return Math.max(z, 0);
    case 'leaky':
      return z > 0 ? z : 0.1 * z;
    case 'tanh':
      return Math.tanh(z);
    case 'sigmoid':
      return sig(z);
  }
}

function identity(n: number): Float64Array {
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) d[i * n + i] = 1;
  return d;
}

function matmul(A: Matrix, B: Matrix): Matrix {
  const data = new Float64Array(A.rows * B.cols);
  for (let i = 0; i < A.rows; i++) {
    for (let k = 0; k < A.cols; k++) {
      const a = A.data[i * A.cols + k]!;
      if (a === 0) continue;
      for (let j = 0; j < B.cols; j++) data[i * B.cols + j] = data[i * B.cols + j]! + a * B.data[k * B.cols + j]!;
    }
  }
  return { rows: A.rows, cols: B.cols, data };
}

/** Smallest eigenvalue of each block of M(x) (diagonal blocks: smallest entry). */
export function blockMinEigenvalues(blocks: readonly Float64Array[], sizes: readonly number[]): number[] {
  return blocks.map((M, b) => {
    const s = sizes[b]!;
    if (s < 0) return Math.min(...M);
    return symEigenvalues(M, s)[0]!;
  });
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
