import { describe, expect, it } from 'vitest';
import type { Matrix } from '../../src/model/ir.js';
import {
  axisDelay,
  conv1dDirect,
  simulateConv1dSsm,
  simulateLti,
  ssmDims,
  ssmOfConv1d,
  type LtiSsm,
} from '../../src/realize/index.js';
import { SEED, expectClose, makeRng, randArray, randInt } from './helpers.js';

const rng = makeRng(SEED);

const randMatrix = (rows: number, cols: number): Matrix => ({ rows, cols, data: randArray(rng, rows * cols) });

describe('simulateLti', () => {
  it('equals the convolution with the Markov parameters D, CB, CAB, … (random dense SSM)', () => {
    for (let rep = 0; rep < 5; rep++) {
      const nx = randInt(rng, 0, 4);
      const nu = randInt(rng, 1, 3);
      const ny = randInt(rng, 1, 3);
      const sys: LtiSsm = { A: randMatrix(nx, nx), B: randMatrix(nx, nu), C: randMatrix(ny, nx), D: randMatrix(ny, nu) };
      expect(ssmDims(sys)).toEqual({ nx, nu, ny });
      const T = randInt(rng, 1, 12);
      const u = randArray(rng, T * nu);
      // Markov parameters h_0 = D, h_k = C A^{k−1} B (ny × nu), built without src code.
      const h: Float64Array[] = [Float64Array.from(sys.D.data)];
      let AkB = Float64Array.from(sys.B.data); // nx × nu
      for (let k = 1; k < T; k++) {
        const hk = new Float64Array(ny * nu);
        for (let i = 0; i < ny; i++)
          for (let j = 0; j < nu; j++) {
            let acc = 0;
            for (let m = 0; m < nx; m++) acc += sys.C.data[i * nx + m]! * AkB[m * nu + j]!;
            hk[i * nu + j] = acc;
          }
        h.push(hk);
        const next = new Float64Array(nx * nu);
        for (let i = 0; i < nx; i++)
          for (let j = 0; j < nu; j++) {
            let acc = 0;
            for (let m = 0; m < nx; m++) acc += sys.A.data[i * nx + m]! * AkB[m * nu + j]!;
            next[i * nu + j] = acc;
          }
        AkB = next;
      }
      const want = new Float64Array(T * ny);
      for (let t = 0; t < T; t++)
        for (let k = 0; k <= t; k++)
          for (let i = 0; i < ny; i++)
            for (let j = 0; j < nu; j++) want[t * ny + i] = want[t * ny + i]! + h[k]![i * nu + j]! * u[(t - k) * nu + j]!;
      expectClose(simulateLti(sys, u, T), want, `lti nx${nx} nu${nu} ny${ny} T${T}`, 1e-10);
    }
  });

  it('rejects inconsistent shapes', () => {
    const bad: LtiSsm = { A: randMatrix(2, 2), B: randMatrix(3, 1), C: randMatrix(1, 2), D: randMatrix(1, 1) };
    expect(() => ssmDims(bad)).toThrow(/inconsistent/);
  });
});

describe('ssmOfConv1d vs PyTorch conv1d', () => {
  const cases: [number, number, number][] = [];
  for (let l = 1; l <= 7; l++) for (let s = 1; s <= 3; s++) for (const d of [1, 2]) cases.push([l, s, d]);

  for (const form of ['input', 'output'] as const) {
    it.each(cases)(`${form} form, l=%i s=%i d=%i: state size, and out(o) = y(o + δ) after embedding`, (l, s, d) => {
      for (let rep = 0; rep < 3; rep++) {
        const cout = randInt(rng, 1, 3);
        const cin = randInt(rng, 1, 3);
        const K = randArray(rng, cout * cin * l);
        const sys = ssmOfConv1d(K, cout, cin, l, s, d, form);
        const L = Math.max(d * (l - 1) + 1, s);
        const nx = form === 'input' ? cin * (L - s) : cout * Math.ceil((L - s) / s);
        expect(ssmDims(sys)).toEqual({ nx, nu: cin * s, ny: cout });
        expect(sys.extent).toBe(L);

        const le = d * (l - 1) + 1;
        const pads: [number, number] = [randInt(rng, 0, le + s), randInt(rng, 0, le)];
        const lo = Math.max(1, le - pads[0] - pads[1]);
        const N = randInt(rng, lo, lo + 15);
        const x = randArray(rng, cin * N);
        const ref = conv1dDirect(K, cout, cin, l, x, N, s, pads, d);

        const { inputOffset: e, delay } = axisDelay(l, pads[0], s, d);
        const z = new Float64Array(cin * (N + e));
        for (let c = 0; c < cin; c++) z.set(x.subarray(c * N, (c + 1) * N), c * (N + e) + e);
        const steps = Math.max(ref.length + delay, 1);
        const y = simulateConv1dSsm(sys, z, N + e, steps);
        const got: number[] = [];
        for (let o = 0; o < cout; o++)
          for (let p = 0; p < ref.length; p++) {
            const t = p + delay;
            got.push(t >= 0 ? y[o * steps + t]! : 0); // t < 0 only for all-padding outputs (= 0)
          }
        expectClose(got, ref.data, `1d ${form} l${l} s${s} d${d} pads ${pads} N${N}`);
      }
    });
  }
});
