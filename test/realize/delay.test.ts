import { describe, expect, it } from 'vitest';
import {
  axisDelay,
  chainDelay,
  conv2dDirect,
  convDelay,
  cropMap,
  embedMap,
  extraInputDelay,
  roesserOfConv,
  roesserOfDelay,
  simulateRoesser,
  type FeatureMap,
} from '../../src/realize/index.js';
import { SEED, expectClose, makeRng, randArray, randInt } from './helpers.js';

const rng = makeRng(SEED);

const relu = (m: FeatureMap): FeatureMap => ({ ...m, data: m.data.map((v) => Math.max(0, v)) });
const addBias = (m: FeatureMap, b: Float64Array): FeatureMap => {
  const hw = m.height * m.width;
  return { ...m, data: m.data.map((v, k) => v + b[Math.floor(k / hw)]!) };
};
const add = (a: FeatureMap, b: FeatureMap): FeatureMap => ({ ...a, data: a.data.map((v, k) => v + b.data[k]!) });

describe('axisDelay / convDelay: closed forms', () => {
  it('stride 1: no embedding, delay = d(l−1) − p', () => {
    for (let l = 1; l <= 7; l++)
      for (const d of [1, 2])
        for (let p = 0; p <= d * (l - 1) + 2; p++) {
          const a = axisDelay(l, p, 1, d);
          expect(a.inputOffset).toBe(0);
          expect(a.delay).toBe(d * (l - 1) - p);
        }
  });

  it('hand-checked strided cases', () => {
    // 3-tap, s2, p1: PyTorch reads X(2o − 1 + a); Roesser y(i) reads X(2i + 2 − 3 + a): same, δ = 0.
    expect(axisDelay(3, 1, 2)).toEqual({ extent: 3, inputOffset: 0, delay: 0 });
    // 3-tap, s2, p0: embed one zero row (docs/method.md §3.2.1 phase (s − l mod s) mod s = 1), δ = 1.
    expect(axisDelay(3, 0, 2)).toEqual({ extent: 3, inputOffset: 1, delay: 1 });
    // 4-tap, s2, p1 (the usual 4×4/s2 downsampler): e = 1, δ = (4 − 2 + 1 − 1)/2 = 1.
    expect(axisDelay(4, 1, 2)).toEqual({ extent: 4, inputOffset: 1, delay: 1 });
    // 1-tap, s3 (stride beyond the kernel): extent padded to 3, no embedding, δ = 0.
    expect(axisDelay(1, 0, 3)).toEqual({ extent: 3, inputOffset: 0, delay: 0 });
    expect(convDelay(3, 4, [1, 1, 1, 1], 2).delay).toEqual([0, 1]);
  });

  it('misaligned input offsets are reported with the fix', () => {
    expect(() => axisDelay(3, 1, 2, 1, 1)).toThrow(/delay the input by 1 more pixel/);
    expect(extraInputDelay(3, 1, 2, 1, 1)).toBe(1);
    expect(axisDelay(3, 1, 2, 1, 2).delay).toBe(1);
  });
});

describe('roesserOfDelay', () => {
  it.each([
    [1, 0, 0],
    [1, 2, 2],
    [2, 1, 3],
    [3, 4, 0],
    [2, 0, 5],
    [3, 3, 3],
  ])('c=%i, (d1, d2) = (%i, %i): shifts the image by exactly (d1, d2), nx1 = c·d1, nx2 = c·d2', (c, d1, d2) => {
    const sys = roesserOfDelay(c, d1, d2);
    expect([sys.nx1, sys.nx2, sys.nu, sys.ny]).toEqual([c * d1, c * d2, c, c]);
    const H = randInt(rng, 1, 8);
    const W = randInt(rng, 1, 8);
    const x = randArray(rng, c * H * W);
    const R = H + d1 + 2;
    const Cc = W + d2 + 2;
    const y = simulateRoesser(sys, x, H, W, 1, R, Cc);
    const want = embedMap({ data: x, channels: c, height: H, width: W }, d1, d2, R, Cc);
    expectClose(y.data, want.data, `delay c${c} (${d1},${d2})`, 0);
  });

  it('rejects negative delays', () => {
    expect(() => roesserOfDelay(1, -1, 0)).toThrow(/non-negative/);
  });
});

describe('residual block x + conv2(relu(conv1(x))): branch + delayed skip = true block, shifted', () => {
  // "same" convs (odd l, p = d(l−1)/2), stride 1: the residual shape of docs/method.md §5.1.
  const configs: [number, number][] = [
    [3, 1],
    [3, 1],
    [3, 1],
    [1, 1],
    [5, 1],
    [3, 2],
  ];
  it.each(configs)('l=%i dilation=%i, random c, image, kernels, biases', (l, d) => {
    for (let rep = 0; rep < 3; rep++) {
      const c = randInt(rng, 1, 3);
      const H = randInt(rng, 2, 9);
      const W = randInt(rng, 2, 9);
      const p = (d * (l - 1)) / 2;
      const pads: [number, number, number, number] = [p, p, p, p];
      const dil: [number, number] = [d, d];
      const K1 = randArray(rng, c * c * l * l);
      const K2 = randArray(rng, c * c * l * l);
      const b1 = randArray(rng, c);
      const b2 = randArray(rng, c);
      const x: FeatureMap = { data: randArray(rng, c * H * W), channels: c, height: H, width: W };

      // PyTorch block.
      const h = relu(conv2dDirect(K1, c, c, l, l, x.data, H, W, 1, pads, dil, b1));
      const truth = add(x, conv2dDirect(K2, c, c, l, l, h.data, H, W, 1, pads, dil, b2));

      // Roesser realization. Conv1's output sits at offset δ1; the true conv2 sees zero padding
      // around conv1's H×W output, so crop conv1's Roesser output to that window (the
      // simulation counterpart of the LMI's "cropping only lowers the energy").
      const g = { kh: l, kw: l, pads, stride: 1, dilation: dil };
      const [dl1] = convDelay(l, l, pads, 1, dil).delay;
      const [dtot, dtot2] = chainDelay([g, g]);
      expect(dtot).toBe(2 * (d * (l - 1) - p));
      expect(dtot2).toBe(dtot);
      const R = H + dtot;
      const Cc = W + dtot;
      const y1 = simulateRoesser(roesserOfConv(K1, c, c, l, l, 1, dil), x.data, H, W, 1, R, Cc);
      const h1 = relu(addBias(cropMap(y1, dl1, dl1, H, W), b1));
      const m1 = embedMap(h1, dl1, dl1, R, Cc);
      const y2 = simulateRoesser(roesserOfConv(K2, c, c, l, l, 1, dil), m1.data, R, Cc, 1, R, Cc);
      const branch = addBias(cropMap(y2, dtot, dtot, H, W), b2);

      const skipSys = roesserOfDelay(c, dtot, dtot);
      const skip = cropMap(simulateRoesser(skipSys, x.data, H, W, 1, R, Cc), dtot, dtot, H, W);
      expectClose(add(branch, skip).data, truth.data, `residual l${l} d${d} c${c} ${H}×${W}`, 1e-11);

      // The undelayed skip of the authors' res_conv2 (docs/method.md §5.2) is a different map.
      if (dtot > 0) {
        const wrong = add(branch, cropMap(x, dtot, dtot, H, W));
        let maxDiff = 0;
        for (let k = 0; k < wrong.data.length; k++) maxDiff = Math.max(maxDiff, Math.abs(wrong.data[k]! - truth.data[k]!));
        expect(maxDiff, `undelayed skip should not match (seed ${SEED})`).toBeGreaterThan(1e-6);
      }
    }
  });
});

describe('chain with a stride-2 layer: phase alignment through extraInputDelay', () => {
  it('3×3/s1/p1 → relu → 3×3/s2/p1 matches PyTorch after the phase-fixing delay', () => {
    for (let rep = 0; rep < 5; rep++) {
      const c0 = randInt(rng, 1, 3);
      const c1 = randInt(rng, 1, 3);
      const c2 = randInt(rng, 1, 3);
      const H = randInt(rng, 3, 10);
      const W = randInt(rng, 3, 10);
      const p1: [number, number, number, number] = [1, 1, 1, 1];
      const KA = randArray(rng, c1 * c0 * 9);
      const KB = randArray(rng, c2 * c1 * 9);
      const x = randArray(rng, c0 * H * W);

      const hA = relu(conv2dDirect(KA, c1, c0, 3, 3, x, H, W, 1, p1));
      const truth = conv2dDirect(KB, c2, c1, 3, 3, hA.data, H, W, 2, p1);

      const [dA] = convDelay(3, 3, p1, 1).delay; // 1
      // Layer B receives its input at offset dA = 1, which is the wrong phase for s = 2 …
      expect(() => convDelay(3, 3, p1, 2, [1, 1], [dA, dA])).toThrow(/misaligned/);
      const fix = extraInputDelay(3, 1, 2, 1, dA);
      expect(fix).toBe(1);
      // … so delay it by `fix` more pixels first.
      const { delay: dB } = convDelay(3, 3, p1, 2, [1, 1], [dA + fix, dA + fix]);

      const RA = H + dA + fix;
      const CA = W + dA + fix;
      const yA = simulateRoesser(roesserOfConv(KA, c1, c0, 3, 3, 1), x, H, W, 1, RA, CA);
      const mA = embedMap(relu(cropMap(yA, dA, dA, H, W)), dA, dA, RA, CA);
      const shifted = simulateRoesser(roesserOfDelay(c1, fix, fix), mA.data, RA, CA, 1, RA, CA);
      const yB = simulateRoesser(roesserOfConv(KB, c2, c1, 3, 3, 2), shifted.data, RA, CA, 2);
      const got = cropMap(yB, dB[0], dB[1], truth.height, truth.width);
      expectClose(got.data, truth.data, `strided chain ${H}×${W} c${c0}-${c1}-${c2}`, 1e-11);
    }
  });
});
