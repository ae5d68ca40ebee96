/** toFcChain: the chain computes the same function as the network and has the expected shapes. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { forward } from '../../src/model/forward.js';
import { importOnnx, importOnnxBytes } from '../../src/model/import.js';
import type { FcChain, Layer, Network } from '../../src/model/ir.js';
import { activationSlope } from '../../src/model/kernels/activation.js';
import { fcChainForward, toFcChain } from '../../src/model/lower.js';
import { mulberry32 } from '../../src/util/random.js';
import { sizeOf } from '../../src/model/shapes.js';

const EXAMPLES = fileURLToPath(new URL('../../examples', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const SHARED = fileURLToPath(new URL('../../../shared/models/mnist', import.meta.url));

function expectSameFunction(net: Network, chain: FcChain, seed: number): void {
  const rand = mulberry32(seed);
  const n = sizeOf(net.inputShape);
  expect(chain.inputSize).toBe(n);
  for (let k = 0; k < 5; k++) {
    const x = Float64Array.from({ length: n }, () => 2 * rand() - 1);
    const a = forward(net, x);
    const b = fcChainForward(chain, x);
    expect(b.length).toBe(a.length);
    a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThan(1e-10 * Math.max(1, Math.abs(v))));
  }
}

function expectWellFormed(chain: FcChain): void {
  let width = chain.inputSize;
  chain.layers.forEach((l, k) => {
    expect(l.W.cols).toBe(width);
    expect(l.bias.length).toBe(l.W.rows);
    expect(l.activation === undefined).toBe(k === chain.layers.length - 1);
    width = l.W.rows;
  });
}

describe('toFcChain', () => {
  it('mlp_tiny: 8→16→16→4, ReLU after the hidden layers', async () => {
    const net = await importOnnx(`${EXAMPLES}/mlp_tiny.onnx`);
    const chain = toFcChain(net);
    expect(chain.layers.map((l) => [l.W.rows, l.W.cols])).toEqual([[16, 8], [16, 16], [4, 16]]);
    expect(chain.layers.map((l) => l.activation?.fn)).toEqual(['relu', 'relu', undefined]);
    expectWellFormed(chain);
    expectSameFunction(net, chain, 1);
  });

  it('mlp_tanh keeps activation kinds, params and slopes', async () => {
    const net = await importOnnx(`${EXAMPLES}/mlp_tanh.onnx`);
    const chain = toFcChain(net);
    expect(chain.layers.map((l) => l.activation?.fn)).toEqual(['tanh', 'sigmoid', 'leaky_relu', undefined]);
    expect(chain.layers[2]!.activation!.param).toBeCloseTo(0.1, 7);
    expect(chain.layers[1]!.activation!.slope).toEqual({ alpha: 0, beta: 0.25 });
    expectWellFormed(chain);
    expectSameFunction(net, chain, 2);
  });

  it('fixtures: trailing ReLU on the logits appends an identity layer', async () => {
    const net = await importOnnx(`${FIXTURES}/mnist_relu_3_50.onnx`);
    const chain = toFcChain(net);
    expect(chain.layers.map((l) => [l.W.rows, l.W.cols])).toEqual([[50, 784], [50, 50], [10, 50], [10, 10]]);
    const last = chain.layers[3]!;
    expect([...last.W.data].every((v, i) => v === (i % 11 === 0 ? 1 : 0))).toBe(true);
    expect(chain.layers[2]!.activation?.fn).toBe('relu');
    expectWellFormed(chain);
    expectSameFunction(net, chain, 3);
    const lip = await importOnnx(`${FIXTURES}/lipsdp_mnist_784_50_10_nobias.onnx`);
    const c2 = toFcChain(lip);
    expect(c2.layers.map((l) => [l.W.rows, l.W.cols])).toEqual([[50, 784], [10, 50]]);
    expectSameFunction(lip, c2, 4);
  });

  it('folds scale/shift, NHWC flatten permutations and dense·dense products exactly', () => {
    const rand = mulberry32(5);
    const mat = (rows: number, cols: number) => ({ rows, cols, data: Float64Array.from({ length: rows * cols }, () => rand() - 0.5) });
    const vec = (n: number) => Float64Array.from({ length: n }, () => rand() - 0.5);
    const layers: Layer[] = [
      { kind: 'scaleshift', scale: Float64Array.of(2, 0.5), shift: Float64Array.of(0.1, -0.3), broadcast: 'channel', name: 'norm' },
      { kind: 'flatten', order: 'NHWC', inShape: [2, 2, 3], name: 'flat' },
      { kind: 'dense', W: mat(5, 12), bias: vec(5), name: 'fc1' },
      { kind: 'dense', W: mat(4, 5), bias: vec(4), name: 'fc2' },
      { kind: 'activation', fn: 'elu', param: 0.5, slope: activationSlope('elu', 0.5), name: 'elu' },
      { kind: 'scaleshift', scale: vec(4), shift: vec(4), broadcast: 'element', name: 'gain' },
      { kind: 'activation', fn: 'softplus', slope: activationSlope('softplus'), name: 'sp' },
    ];
    const net: Network = { inputShape: [2, 2, 3], layers, outputSize: 4, source: 'test' };
    const chain = toFcChain(net);
    expect(chain.layers.map((l) => [l.W.rows, l.W.cols])).toEqual([[4, 12], [4, 4], [4, 4]]);
    expect(chain.layers.map((l) => l.activation?.fn)).toEqual(['elu', 'softplus', undefined]);
    expectWellFormed(chain);
    expectSameFunction(net, chain, 6);
  });

  it('imported NHWC and Sub/Div-normalised nets (shared models, when present)', async () => {
    if (!existsSync(SHARED)) return;
    for (const f of ['mnist_relu_3_100.onnx', 'ffnnSIGMOID__Point_6x200.onnx', 'mnist-point.onnx', 'tansig_200_50_onnx.onnx']) {
      const net = importOnnxBytes(new Uint8Array(readFileSync(`${SHARED}/${f}`)), { source: f });
      const chain = toFcChain(net);
      expectWellFormed(chain);
      expectSameFunction(net, chain, 7);
    }
  });
});
