import { describe, expect, it } from 'vitest';
import { adjointProduct, dissipationProduct } from '../../src/lmi/stage/stage-math.js';
import type { StageSystem } from '../../src/lmi/stage/stages.js';
import { productT } from '../../src/linalg/dense.js';
import { freshSeed, mulberry32, randomSymmetric } from '../helpers/random.js';

/**
 * The f64 Roesser products take F = [A B]'s shift rows (few nonzeros) entry by entry and its
 * dense rows as matrix products; here they are checked against the dense definitions on systems
 * that mix both kinds of rows in both state blocks, in random order.
 */
function randomSystem(nx1: number, nx2: number, nin: number, rnd: () => number): { sy: StageSystem; F: Float64Array } {
  const nx = nx1 + nx2;
  const d = nx + nin;
  const F = new Float64Array(nx * d);
  for (let r = 0; r < nx; r++) {
    const kind = rnd();
    if (kind < 0.3) F[r * d + Math.floor(rnd() * d)] = 1; // a shift row
    else if (kind < 0.45) for (let t = 0; t < 3; t++) F[r * d + Math.floor(rnd() * d)] = rnd() - 0.5; // ≤ 3 nonzeros
    else for (let b = 0; b < d; b++) F[r * d + b] = rnd() < 0.3 ? 0 : rnd() - 0.5; // dense
  }
  const A = new Float64Array(nx * nx);
  const B = new Float64Array(nx * nin);
  for (let r = 0; r < nx; r++) {
    for (let q = 0; q < nx; q++) A[r * nx + q] = F[r * d + q]!;
    for (let q = 0; q < nin; q++) B[r * nin + q] = F[r * d + nx + q]!;
  }
  return { sy: { name: 'random', nx1, nx2, nin, A: { rows: nx, cols: nx, data: A }, B: { rows: nx, cols: nin, data: B }, xOff: nin, inOff: 0 }, F };
}

function mul(A: Float64Array, B: Float64Array, r: number, k: number, c: number): Float64Array {
  const C = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) for (let t = 0; t < k; t++) C[i * c + j] += A[i * k + t]! * B[t * c + j]!;
  return C;
}

function transpose(A: Float64Array, r: number, c: number): Float64Array {
  const T = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) T[j * r + i] = A[i * c + j]!;
  return T;
}

describe('Roesser products in f64 (shift rows entry by entry, dense rows as products)', () => {
  it.each([
    [1, 1, 1],
    [3, 5, 2],
    [8, 4, 6],
    [16, 16, 8],
  ])('nx1 = %i, nx2 = %i, nin = %i: −FᵀPF and FΠFᵀ as the dense definitions, exactly symmetric', (nx1, nx2, nin) => {
    const seed = freshSeed();
    const rnd = mulberry32(seed);
    const { sy, F } = randomSystem(nx1, nx2, nin, rnd);
    const nx = nx1 + nx2;
    const d = nx + nin;
    const P1 = randomSymmetric(nx1, rnd);
    const P2 = randomSymmetric(nx2, rnd);
    const P = new Float64Array(nx * nx);
    for (let i = 0; i < nx1; i++) for (let j = 0; j < nx1; j++) P[i * nx + j] = P1[i * nx1 + j]!;
    for (let i = 0; i < nx2; i++) for (let j = 0; j < nx2; j++) P[(nx1 + i) * nx + nx1 + j] = P2[i * nx2 + j]!;
    const Ft = transpose(F, nx, d);
    const wantD = mul(Ft, mul(P, F, nx, nx, d), d, nx, d).map((v) => -v);
    const D = dissipationProduct(sy, P1, P2);
    const Pi = randomSymmetric(d, rnd);
    const wantX = mul(mul(F, Pi, nx, d, d), Ft, nx, d, nx);
    const X = adjointProduct(sy, Pi);
    const scale = (M: Float64Array) => M.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
    for (let i = 0; i < d * d; i++) expect(Math.abs(D[i]! - wantD[i]!), `seed ${seed}`).toBeLessThan(1e-13 * scale(wantD) * d);
    for (let i = 0; i < nx * nx; i++) expect(Math.abs(X[i]! - wantX[i]!), `seed ${seed}`).toBeLessThan(1e-13 * scale(wantX) * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) expect(D[i * d + j]).toBe(D[j * d + i]);
    for (let i = 0; i < nx; i++) for (let j = 0; j < i; j++) expect(X[i * nx + j]).toBe(X[j * nx + i]);
  });
});

describe('productT', () => {
  it.each([
    [1, 1, 1],
    [4, 2, 3],
    [5, 3, 7],
    [9, 6, 4],
  ])('X·Yᵀ for %i × %i outputs (length %i) equals the k-ordered sums bit for bit', (rx, ry, len) => {
    const seed = freshSeed();
    const rnd = mulberry32(seed);
    const X = new Float64Array(rx * len).map(() => rnd() - 0.5);
    const Y = new Float64Array(ry * len).map(() => rnd() - 0.5);
    const C = productT(X, Y, rx, ry, len);
    for (let i = 0; i < rx; i++)
      for (let j = 0; j < ry; j++) {
        let s = 0;
        for (let k = 0; k < len; k++) s += X[i * len + k]! * Y[j * len + k]!;
        expect(C[i * ry + j], `seed ${seed}`).toBe(s);
      }
  });
});
