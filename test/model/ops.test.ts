/** Per-op importer and kernel checks on small hand-built models and layers. */
import { describe, expect, it } from 'vitest';
import { forward, layerForward } from '../../src/model/forward.js';
import { importOnnxBytes } from '../../src/model/import.js';
import type { Conv2dLayer, Layer, PoolLayer } from '../../src/model/ir.js';
import { activationSlope, activationValue } from '../../src/model/kernels/activation.js';
import { mulberry32 } from '../../src/util/random.js';
import type { MapShape } from '../../src/model/shapes.js';
import { GraphBuilder, kitchenSink } from './builders.js';

const rvec = (rand: () => number, n: number) => Float64Array.from({ length: n }, () => 2 * rand() - 1);

function conv(p: Partial<Conv2dLayer> & Pick<Conv2dLayer, 'kernel' | 'cout' | 'cin' | 'kh' | 'kw'>): Conv2dLayer {
  return {
    kind: 'conv2d', bias: new Float64Array(p.cout), stride: [1, 1], pads: [0, 0, 0, 0], dilation: [1, 1], groups: 1, name: 'c', ...p,
  };
}

/** Textbook direct convolution, written independently of kernels/conv.ts. */
function naiveConv(l: Conv2dLayer, s: MapShape, x: Float64Array): Float64Array {
  const [C, H, W] = s;
  const Ho = Math.floor((H + l.pads[0] + l.pads[2] - l.dilation[0] * (l.kh - 1) - 1) / l.stride[0]) + 1;
  const Wo = Math.floor((W + l.pads[1] + l.pads[3] - l.dilation[1] * (l.kw - 1) - 1) / l.stride[1]) + 1;
  const out = new Float64Array(l.cout * Ho * Wo);
  const cinG = C / l.groups;
  const coutG = l.cout / l.groups;
  for (let o = 0; o < l.cout; o++) {
    for (let y = 0; y < Ho; y++) {
      for (let xx = 0; xx < Wo; xx++) {
        let acc = l.bias[o]!;
        const g = Math.floor(o / coutG);
        for (let i = 0; i < cinG; i++) {
          for (let a = 0; a < l.kh; a++) {
            for (let b = 0; b < l.kw; b++) {
              const iy = y * l.stride[0] + a * l.dilation[0] - l.pads[0];
              const ix = xx * l.stride[1] + b * l.dilation[1] - l.pads[1];
              if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
              acc += l.kernel[((o * cinG + i) * l.kh + a) * l.kw + b]! * x[((g * cinG + i) * H + iy) * W + ix]!;
            }
          }
        }
        out[(o * Ho + y) * Wo + xx] = acc;
      }
    }
  }
  return out;
}

describe('conv2d kernel', () => {
  it('matches a direct implementation with stride, asymmetric pads, dilation and groups', () => {
    const rand = mulberry32(1);
    const s: MapShape = [4, 7, 6];
    const l = conv({
      kernel: rvec(rand, 6 * 2 * 3 * 2), cout: 6, cin: 2, kh: 3, kw: 2, groups: 2,
      stride: [2, 1], pads: [1, 0, 2, 1], dilation: [2, 1], bias: rvec(rand, 6),
    });
    const x = rvec(rand, 4 * 7 * 6);
    const a = layerForward(l, s, x);
    const b = naiveConv(l, s, x);
    expect(a.length).toBe(b.length);
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 12));
  });
});

describe('pooling kernels', () => {
  const x = Float64Array.from({ length: 16 }, (_, i) => i + 1); // 1×4×4, values 1..16
  const pool = (kind: 'maxpool' | 'avgpool', countIncludePad: boolean): PoolLayer => ({
    kind, kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], countIncludePad, name: 'p',
  });
  it('average pooling with and without count_include_pad', () => {
    // Top-left window covers rows/cols 0..1 (4 pixels: 1,2,5,6) plus padding.
    expect(layerForward(pool('avgpool', false), [1, 4, 4], x)[0]).toBeCloseTo(14 / 4, 12);
    expect(layerForward(pool('avgpool', true), [1, 4, 4], x)[0]).toBeCloseTo(14 / 9, 12);
  });
  it('max pooling ignores padding', () => {
    const neg = x.map((v) => -v);
    expect([...layerForward(pool('maxpool', false), [1, 4, 4], neg)]).toEqual([-1, -2, -5, -6]) // zero padding would give 0;
  });
});

describe('activations', () => {
  it('slope intervals', () => {
    expect(activationSlope('relu')).toEqual({ alpha: 0, beta: 1 });
    expect(activationSlope('leaky_relu', 0.2)).toEqual({ alpha: 0.2, beta: 1 });
    expect(activationSlope('leaky_relu', 3)).toEqual({ alpha: 1, beta: 3 });
    expect(activationSlope('tanh')).toEqual({ alpha: 0, beta: 1 });
    expect(activationSlope('sigmoid')).toEqual({ alpha: 0, beta: 0.25 });
    expect(activationSlope('elu', 1)).toEqual({ alpha: 0, beta: 1 });
    expect(activationSlope('elu', 2)).toEqual({ alpha: 0, beta: 2 });
    expect(activationSlope('softplus')).toEqual({ alpha: 0, beta: 1 });
  });
  it('difference quotients stay within the slope interval', () => {
    const rand = mulberry32(3);
    for (const [fn, p] of [['relu'], ['leaky_relu', 0.3], ['tanh'], ['sigmoid'], ['elu', 1.7], ['elu', 0.4], ['softplus']] as const) {
      const { alpha, beta } = activationSlope(fn, p);
      for (let k = 0; k < 2000; k++) {
        const a = 8 * (rand() - 0.5);
        const b = a + (rand() - 0.5) * (k % 2 ? 1e-3 : 4);
        if (a === b) continue;
        const q = (activationValue(fn, p, a) - activationValue(fn, p, b)) / (a - b);
        expect(q).toBeGreaterThanOrEqual(alpha - 1e-9);
        expect(q).toBeLessThanOrEqual(beta + 1e-9);
      }
    }
    expect(activationValue('softplus', undefined, 800)).toBe(800);
    expect(activationValue('sigmoid', undefined, -800)).toBeGreaterThanOrEqual(0);
  });
});

describe('importer structure', () => {
  it('kitchen-sink model: NHWC input, residual blocks, BN folded, NHWC flatten', () => {
    const net = importOnnxBytes(kitchenSink());
    expect(net.inputShape).toEqual([6, 6, 2]);
    expect(net.inputPermutation).toEqual({ from: 'NHWC', chwShape: [2, 6, 6] });
    expect(net.layers.map((l) => l.kind)).toEqual([
      'scaleshift', 'conv2d', 'activation', 'residual', 'activation', 'residual', 'activation',
      'pad', 'maxpool', 'avgpool', 'flatten', 'dense', 'activation', 'dense', 'activation',
    ]);
    const res = net.layers.filter((l): l is Extract<Layer, { kind: 'residual' }> => l.kind === 'residual');
    expect(res[0]!.branch.map((l) => l.kind)).toEqual(['conv2d', 'activation', 'conv2d']);
    expect(res[0]!.shortcut).toEqual([]);
    expect(res[1]!.branch.map((l) => l.kind)).toEqual(['conv2d', 'activation']);
    expect(res[1]!.shortcut.map((l) => l.kind)).toEqual(['conv2d']);
    const flat = net.layers[10]!;
    expect(flat.kind === 'flatten' && flat.order).toBe('NHWC');
    expect(net.outputSize).toBe(3);
    // Folding is exact.
    const raw = importOnnxBytes(kitchenSink(), { simplify: false });
    expect(raw.layers.some((l) => l.kind === 'scaleshift' && l.name.startsWith('batchnorm'))).toBe(true);
    const rand = mulberry32(2);
    const x = rvec(rand, 72);
    const a = forward(net, x);
    const b = forward(raw, x);
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 12));
  });

  it('Gemm alpha/beta/transB=0, Dropout and Identity', () => {
    const g = new GraphBuilder(4);
    g.constant('W', [2, 3], [1, 2, 3, 4, 5, 6]); // K×N with transB = 0
    g.constant('C', [1, 3], [1, 1, 1]);
    let x = g.op('Identity', ['input']);
    x = g.op('Dropout', [x]);
    g.op('Gemm', [x, 'W', 'C'], { alpha: { float: 2 }, beta: { float: 0.5 } });
    const net = importOnnxBytes(g.build([1, 2], 'output', [1, 3]));
    expect([...forward(net, Float64Array.of(1, -1))]).toEqual([2 * (1 - 4) + 0.5, 2 * (2 - 5) + 0.5, 2 * (3 - 6) + 0.5]);
  });

  it('SAME_LOWER conv and zero Pad are handled', () => {
    const g = new GraphBuilder(5);
    let x = g.op('Pad', ['input', g.ints('pads', [0, 0, 0, 0, 0, 0, 0, 0])]);
    x = g.op('Conv', [x, g.weight('k', [2, 1, 2, 2])], { auto_pad: 'SAME_LOWER', strides: [1, 1] });
    g.op('Flatten', [x]);
    const net = importOnnxBytes(g.build([1, 1, 3, 3], 'output', [1, 18]));
    const c = net.layers[0] as Conv2dLayer;
    expect(c.pads).toEqual([1, 1, 0, 0]);
    expect(net.layers.map((l) => l.kind)).toEqual(['conv2d', 'flatten']);
  });
});
