/** jvp/vjp against central finite differences, and ⟨v, J t⟩ = ⟨Jᵀ v, t⟩. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { forward, jvp, vjp } from '../../src/model/forward.js';
import { importOnnxBytes } from '../../src/model/import.js';
import type { Network } from '../../src/model/ir.js';
import { mulberry32 } from '../../src/util/random.js';
import { sizeOf } from '../../src/model/shapes.js';
import { globalPoolNet, kitchenSink } from './builders.js';

const EXAMPLES = fileURLToPath(new URL('../../examples', import.meta.url));
const example = (f: string) => importOnnxBytes(new Uint8Array(readFileSync(`${EXAMPLES}/${f}`)), { source: f });

function randVec(rand: () => number, n: number, s = 1): Float64Array {
  return Float64Array.from({ length: n }, () => s * (2 * rand() - 1));
}

const dot = (a: Float64Array, b: Float64Array) => a.reduce((acc, v, i) => acc + v * b[i]!, 0);

function checkNet(net: Network, seed: number, trials = 3): void {
  const rand = mulberry32(seed);
  const n = sizeOf(net.inputShape);
  for (let k = 0; k < trials; k++) {
    const x = randVec(rand, n);
    const t = randVec(rand, n);
    const v = randVec(rand, net.outputSize);
    const jt = jvp(net, x, t);
    const h = 1e-6;
    const xp = x.map((xi, i) => xi + h * t[i]!);
    const xm = x.map((xi, i) => xi - h * t[i]!);
    const fp = forward(net, xp);
    const fm = forward(net, xm);
    const fd = fp.map((p, i) => (p - fm[i]!) / (2 * h));
    const scale = Math.max(1e-3, ...jt.map(Math.abs));
    jt.forEach((g, i) => expect(Math.abs(g - fd[i]!) / scale).toBeLessThan(1e-5));
    // vjp is the exact adjoint of jvp.
    const jtv = vjp(net, x, v);
    const lhs = dot(v, jt);
    const rhs = dot(jtv, t);
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-10 * Math.max(1, Math.abs(lhs)));
  }
}

describe('jvp / vjp', () => {
  it('FC ReLU net (mlp_tiny)', () => checkNet(example('mlp_tiny.onnx'), 1));
  it('FC smooth/mixed net (mlp_tanh)', () => checkNet(example('mlp_tanh.onnx'), 2));
  it('CNN (cnn_tiny)', () => checkNet(example('cnn_tiny.onnx'), 3));
  it('residual net with NHWC input, pooling, padding, BN, grouped/dilated conv', () => checkNet(importOnnxBytes(kitchenSink()), 4));
  it('global average pooling', () => checkNet(importOnnxBytes(globalPoolNet(false)), 5));

  it('vjp is the gradient of ⟨v, f(x)⟩ (finite differences per coordinate)', () => {
    const net = importOnnxBytes(kitchenSink());
    const rand = mulberry32(6);
    const n = sizeOf(net.inputShape);
    const x = randVec(rand, n);
    const v = randVec(rand, net.outputSize);
    const g = vjp(net, x, v);
    const h = 1e-6;
    for (let i = 0; i < n; i += 7) {
      const xp = x.slice();
      const xm = x.slice();
      xp[i] += h;
      xm[i] -= h;
      const fd = (dot(v, forward(net, xp)) - dot(v, forward(net, xm))) / (2 * h);
      expect(Math.abs(fd - g[i]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    }
  });
});
