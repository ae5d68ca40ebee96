import { describe, expect, it } from 'vitest';
import type { Matrix } from '../../src/model/ir.js';
import {
  conv2dDirect,
  convDelay,
  embedMap,
  roesserFull,
  roesserOfConv,
  simulateRoesser,
  type ConvRoesser,
} from '../../src/realize/index.js';
import { SEED, expectClose, makeRng, randArray, randInt } from './helpers.js';

const rng = makeRng(SEED);

const rowsOf = (m: Matrix): number[][] =>
  Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));

/**
 * Independent oracle for the Roesser semantics (docs/method.md §3.2.1, 0-based): the bottom-right
 * anchor rule y(i,j) = Σ K(a,b) z(i·s + s − L1 + d1·a, j·s + s − L2 + d2·b) on the unexpanded
 * kernel, z zero outside the image. Uses no code from src/realize.
 */
function anchorOracle(
  K: Float64Array,
  cout: number,
  cin: number,
  kh: number,
  kw: number,
  s: number,
  dil: readonly [number, number],
  z: Float64Array,
  H: number,
  W: number,
  R: number,
  Cc: number,
): Float64Array {
  const L1 = Math.max(dil[0] * (kh - 1) + 1, s);
  const L2 = Math.max(dil[1] * (kw - 1) + 1, s);
  const out = new Float64Array(cout * R * Cc);
  for (let o = 0; o < cout; o++)
    for (let i = 0; i < R; i++)
      for (let j = 0; j < Cc; j++) {
        let acc = 0;
        for (let c = 0; c < cin; c++)
          for (let a = 0; a < kh; a++)
            for (let b = 0; b < kw; b++) {
              const h = i * s + s - L1 + dil[0] * a;
              const w = j * s + s - L2 + dil[1] * b;
              if (h < 0 || h >= H || w < 0 || w >= W) continue;
              acc += K[((o * cin + c) * kh + a) * kw + b]! * z[(c * H + h) * W + w]!;
            }
        out[(o * R + i) * Cc + j] = acc;
      }
  return out;
}

describe('roesserOfConv: worked example (docs/method.md §3.2.2)', () => {
  const k = randArray(rng, 9); // k[(a)*3 + b] = k_{a+1, b+1}
  const K = (a: number, b: number): number => k[(a - 1) * 3 + (b - 1)]!;

  it('s = 1 reproduces A11, A12, B1, A22, B2, C1, C2, D and the full A, B, C exactly', () => {
    const sys = roesserOfConv(k, 1, 1, 3, 3, 1);
    expect([sys.nx1, sys.nx2, sys.nu, sys.ny]).toEqual([2, 2, 1, 1]);
    expect(rowsOf(sys.A11)).toEqual([
      [0, 0],
      [1, 0],
    ]);
    expect(rowsOf(sys.A12)).toEqual([
      [K(1, 1), K(1, 2)],
      [K(2, 1), K(2, 2)],
    ]);
    expect(rowsOf(sys.B1)).toEqual([[K(1, 3)], [K(2, 3)]]);
    expect(rowsOf(sys.A22)).toEqual([
      [0, 1],
      [0, 0],
    ]);
    expect(rowsOf(sys.A21)).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(rowsOf(sys.B2)).toEqual([[0], [1]]);
    expect(rowsOf(sys.C1)).toEqual([[0, 1]]);
    expect(rowsOf(sys.C2)).toEqual([[K(3, 1), K(3, 2)]]);
    expect(rowsOf(sys.D)).toEqual([[K(3, 3)]]);
    const full = roesserFull(sys);
    expect(rowsOf(full.A)).toEqual([
      [0, 0, K(1, 1), K(1, 2)],
      [1, 0, K(2, 1), K(2, 2)],
      [0, 0, 0, 1],
      [0, 0, 0, 0],
    ]);
    expect(rowsOf(full.B)).toEqual([[K(1, 3)], [K(2, 3)], [0], [1]]);
    expect(rowsOf(full.C)).toEqual([[0, 1, K(3, 1), K(3, 2)]]);
    expect(rowsOf(full.D)).toEqual([[K(3, 3)]]);
  });

  it('s = 2 reproduces the padded-row matrices exactly', () => {
    const sys = roesserOfConv(k, 1, 1, 3, 3, 2);
    expect([sys.nx1, sys.nx2, sys.nu, sys.ny]).toEqual([1, 2, 4, 1]);
    expect(rowsOf(sys.A11)).toEqual([[0]]);
    expect(rowsOf(sys.A12)).toEqual([[0, K(1, 1)]]);
    expect(rowsOf(sys.B1)).toEqual([[0, 0, K(1, 2), K(1, 3)]]);
    expect(rowsOf(sys.A22)).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(rowsOf(sys.B2)).toEqual([
      [0, 1, 0, 0],
      [0, 0, 0, 1],
    ]);
    expect(rowsOf(sys.C1)).toEqual([[1]]);
    expect(rowsOf(sys.C2)).toEqual([[K(2, 1), K(3, 1)]]);
    expect(rowsOf(sys.D)).toEqual([[K(2, 2), K(2, 3), K(3, 2), K(3, 3)]]);
  });
});

interface Case {
  kh: number;
  kw: number;
  s: number;
  dil: [number, number];
}

/** Kernel sizes 1–7 (square), strides 1–3, dilation 1 and 2, including s > kernel extent. */
const cases: Case[] = [];
for (let l = 1; l <= 7; l++)
  for (let s = 1; s <= 3; s++) for (const d of [1, 2]) cases.push({ kh: l, kw: l, s, dil: [d, d] });
// Non-square kernels and mixed dilations, also below and above the stride.
cases.push(
  { kh: 1, kw: 3, s: 1, dil: [1, 1] },
  { kh: 2, kw: 5, s: 2, dil: [1, 1] },
  { kh: 5, kw: 2, s: 3, dil: [1, 2] },
  { kh: 3, kw: 4, s: 2, dil: [2, 1] },
  { kh: 7, kw: 1, s: 3, dil: [1, 1] },
);

const caseName = (c: Case): string => `${c.kh}×${c.kw} s${c.s} d${c.dil.join('')}`;

describe('roesserOfConv: dimensions and structure', () => {
  it.each(cases)('$kh×$kw s=$s d=$dil: nx1 = cout·ceil((L1−s)/s), nx2 = s·cin·(L2−s), A nilpotent, A21 = 0', (c) => {
    const cout = randInt(rng, 1, 3);
    const cin = randInt(rng, 1, 3);
    const sys = roesserOfConv(randArray(rng, cout * cin * c.kh * c.kw), cout, cin, c.kh, c.kw, c.s, c.dil);
    const L1 = Math.max(c.dil[0] * (c.kh - 1) + 1, c.s);
    const L2 = Math.max(c.dil[1] * (c.kw - 1) + 1, c.s);
    expect(sys.nx1).toBe(cout * Math.ceil((L1 - c.s) / c.s));
    expect(sys.nx2).toBe(c.s * cin * (L2 - c.s));
    expect(sys.nu).toBe(cin * c.s * c.s);
    expect(sys.ny).toBe(cout);
    expect(sys.A21.data.every((v) => v === 0)).toBe(true);
    const { A, B, C, D } = roesserFull(sys);
    const nx = sys.nx1 + sys.nx2;
    expect([A.rows, A.cols, B.rows, B.cols, C.rows, C.cols, D.rows, D.cols]).toEqual([
      nx,
      nx,
      nx,
      sys.nu,
      sys.ny,
      nx,
      sys.ny,
      sys.nu,
    ]);
    // Nilpotency: A^nx = 0 (finite impulse response along every direction).
    let P = Float64Array.from({ length: nx * nx }, (_, k) => (Math.floor(k / nx) === k % nx ? 1 : 0));
    for (let p = 0; p < nx; p++) {
      const Q = new Float64Array(nx * nx);
      for (let i = 0; i < nx; i++)
        for (let k = 0; k < nx; k++) {
          const pik = P[i * nx + k]!;
          if (pik !== 0) for (let j = 0; j < nx; j++) Q[i * nx + j] = Q[i * nx + j]! + pik * A.data[k * nx + j]!;
        }
      P = Q;
    }
    expect(P.every((v) => Math.abs(v) < 1e-12)).toBe(true);
  });
});

/** One random realization plus its data. */
function randomConv(c: Case): { K: Float64Array; cout: number; cin: number; sys: ConvRoesser } {
  const cout = randInt(rng, 1, 3);
  const cin = randInt(rng, 1, 3);
  const K = randArray(rng, cout * cin * c.kh * c.kw);
  return { K, cout, cin, sys: roesserOfConv(K, cout, cin, c.kh, c.kw, c.s, c.dil) };
}

describe('simulateRoesser: bottom-right anchor semantics', () => {
  it.each(cases)('$kh×$kw s=$s d=$dil equals the anchor rule on the whole zero-extended grid', (c) => {
    const { K, cout, cin, sys } = randomConv(c);
    const H = randInt(rng, 1, 11);
    const W = randInt(rng, 1, 11);
    const x = randArray(rng, cin * H * W);
    // Extra blocks on the bottom/right let the states drain, so the boundary outputs are checked too.
    const R = Math.ceil(H / c.s) + 3;
    const Cc = Math.ceil(W / c.s) + 3;
    const y = simulateRoesser(sys, x, H, W, c.s, R, Cc);
    expect([y.channels, y.height, y.width]).toEqual([cout, R, Cc]);
    expectClose(y.data, anchorOracle(K, cout, cin, c.kh, c.kw, c.s, c.dil, x, H, W, R, Cc), caseName(c));
  });
});

describe('simulateRoesser vs PyTorch conv2d through convDelay', () => {
  // For each case try several paddings, including pads larger than the kernel reach
  // (negative delay: the first PyTorch outputs then read only padding and are zero).
  it.each(cases)('$kh×$kw s=$s d=$dil: out(o1,o2) = y(o1+δ1, o2+δ2) with the input embedded at e', (c) => {
    for (let rep = 0; rep < 4; rep++) {
      const { K, cout, cin, sys } = randomConv(c);
      const le1 = c.dil[0] * (c.kh - 1) + 1;
      const le2 = c.dil[1] * (c.kw - 1) + 1;
      const pads: [number, number, number, number] = [
        randInt(rng, 0, le1 + c.s),
        randInt(rng, 0, le2 + c.s),
        randInt(rng, 0, le1),
        randInt(rng, 0, le2),
      ];
      // Large enough that PyTorch's output is non-empty: H + top + bottom ≥ l_e.
      const loH = Math.max(1, le1 - pads[0] - pads[2]);
      const loW = Math.max(1, le2 - pads[1] - pads[3]);
      const H = randInt(rng, loH, loH + 8);
      const W = randInt(rng, loW, loW + 8);
      const x = randArray(rng, cin * H * W);
      const ref = conv2dDirect(K, cout, cin, c.kh, c.kw, x, H, W, c.s, pads, c.dil);

      const { delay, inputOffset } = convDelay(c.kh, c.kw, pads, c.s, c.dil);
      const [d1, d2] = delay;
      const [e1, e2] = inputOffset;
      expect(e1).toBeGreaterThanOrEqual(0);
      expect(e1).toBeLessThan(c.s);
      const Hz = H + e1;
      const Wz = W + e2;
      const z = embedMap({ data: x, channels: cin, height: H, width: W }, e1, e2, Hz, Wz).data;
      const R = Math.max(ref.height + d1, 1);
      const Cc = Math.max(ref.width + d2, 1);
      const y = simulateRoesser(sys, z, Hz, Wz, c.s, R, Cc);

      const what = `${caseName(c)} pads ${pads} H${H} W${W} δ ${delay} e ${inputOffset}`;
      const got: number[] = [];
      const want: number[] = [];
      for (let o = 0; o < cout; o++)
        for (let p = 0; p < ref.height; p++)
          for (let q = 0; q < ref.width; q++) {
            const r = ref.data[(o * ref.height + p) * ref.width + q]!;
            const i = p + d1;
            const j = q + d2;
            want.push(r);
            // Off the Roesser grid only when δ < 0; those PyTorch outputs must be all-padding zeros.
            got.push(i >= 0 && j >= 0 ? y.data[(o * R + i) * Cc + j]! : 0);
          }
      expectClose(got, want, what);
    }
  });

  it('p = 0, s > 1: phase offset is (s − L mod s) mod s and the delay is the queue length', () => {
    for (const c of cases) {
      const { sys } = randomConv(c);
      const L1 = Math.max(c.dil[0] * (c.kh - 1) + 1, c.s);
      const { delay, inputOffset } = convDelay(c.kh, c.kw, [0, 0, 0, 0], c.s, c.dil);
      expect(inputOffset[0], caseName(c)).toBe((c.s - (L1 % c.s)) % c.s);
      expect(delay[0], caseName(c)).toBe(sys.queue);
    }
  });
});

describe('roesserOfConv: argument checks', () => {
  it('rejects bad strides, dilations and kernel lengths with clear messages', () => {
    const K = new Float64Array(9);
    expect(() => roesserOfConv(K, 1, 1, 3, 3, 0)).toThrow(/stride/);
    expect(() => roesserOfConv(K, 1, 1, 3, 3, 1.5)).toThrow(/stride/);
    expect(() => roesserOfConv(K, 1, 1, 3, 3, 1, [0, 1])).toThrow(/dilation/);
    expect(() => roesserOfConv(K, 1, 2, 3, 3, 1)).toThrow(/expected/);
  });

  it('s > kernel: pure feed-through (no states), kernel at the top-left of the block', () => {
    const K = randArray(rng, 2 * 3 * 1 * 2);
    const sys = roesserOfConv(K, 2, 3, 1, 2, 3);
    expect([sys.nx1, sys.nx2, sys.nu]).toEqual([0, 0, 27]);
    // D[o, (aa·3 + bb)·cin + c] = K(o, c, aa, bb) for aa < 1, bb < 2, else 0.
    for (let o = 0; o < 2; o++)
      for (let aa = 0; aa < 3; aa++)
        for (let bb = 0; bb < 3; bb++)
          for (let c = 0; c < 3; c++) {
            const want = aa < 1 && bb < 2 ? K[((o * 3 + c) * 1 + aa) * 2 + bb]! : 0;
            expect(sys.D.data[o * 27 + (aa * 3 + bb) * 3 + c]).toBe(want);
          }
  });
});
