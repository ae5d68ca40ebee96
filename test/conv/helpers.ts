/** Random small IR networks for the conv tests (built directly in the IR, no ONNX round trip). */
import type { ActivationLayer, Conv2dLayer, DenseLayer, FlattenLayer, Layer, Network, PoolLayer, ResidualLayer } from '../../src/model/ir.js';
import { forward, jvp, vjp, layerInputShape, sizeOf } from '../../src/model/index.js';
import { empiricalLowerBound } from '../../src/bounds/lower.js';
import { gaussian, mulberry32 } from '../helpers/random.js';

let counter = 0;
const nm = (p: string): string => `${p}${counter++}`;

export class Rng {
  readonly u: () => number;
  readonly g: () => number;
  constructor(seed: number) {
    this.u = mulberry32(seed);
    this.g = gaussian(this.u);
  }
  vec(n: number, scale: number): Float64Array {
    return Float64Array.from({ length: n }, () => scale * this.g());
  }
}

export function conv(r: Rng, cin: number, cout: number, k: number, s = 1, p = 0, opts: { kh?: number; dil?: number } = {}): Conv2dLayer {
  const kh = opts.kh ?? k;
  const d = opts.dil ?? 1;
  return {
    kind: 'conv2d',
    kernel: r.vec(cout * cin * kh * k, 1 / Math.sqrt(cin * kh * k)),
    cout,
    cin,
    kh,
    kw: k,
    bias: r.vec(cout, 0.1),
    stride: [s, s],
    pads: [p, p, p, p],
    dilation: [d, d],
    groups: 1,
    name: nm('conv'),
  };
}

export function relu(): ActivationLayer {
  return { kind: 'activation', fn: 'relu', slope: { alpha: 0, beta: 1 }, name: nm('relu') };
}

export function leaky(a = 0.1): ActivationLayer {
  return { kind: 'activation', fn: 'leaky_relu', param: a, slope: { alpha: a, beta: 1 }, name: nm('lrelu') };
}

export function tanh(): ActivationLayer {
  return { kind: 'activation', fn: 'tanh', slope: { alpha: 0, beta: 1 }, name: nm('tanh') };
}

export function dense(r: Rng, nin: number, nout: number): DenseLayer {
  return { kind: 'dense', W: { rows: nout, cols: nin, data: r.vec(nin * nout, 1 / Math.sqrt(nin)) }, bias: r.vec(nout, 0.1), name: nm('dense') };
}

export function pool(kind: 'maxpool' | 'avgpool', k: number, s: number, p = 0, countIncludePad = false): PoolLayer {
  return { kind, kernel: [k, k], stride: [s, s], pads: [p, p, p, p], countIncludePad, name: nm(kind) };
}

export function flatten(shape: readonly [number, number, number], order: 'NCHW' | 'NHWC' = 'NCHW'): FlattenLayer {
  return { kind: 'flatten', order, inShape: shape, name: nm('flatten') };
}

export function residual(branch: Layer[], shortcut: Layer[] = []): ResidualLayer {
  return { kind: 'residual', branch, shortcut, name: nm('res') };
}

export function network(inputShape: number[], layers: Layer[], outputSize: number): Network {
  return { inputShape, layers, outputSize, source: 'test' };
}

/** Empirical lower bound on the Lipschitz constant of a network (difference quotients). */
export function lowerBound(net: Network, seed = 1, samples = 6): number {
  const n = sizeOf(net.inputShape);
  void layerInputShape;
  return empiricalLowerBound(
    { inputSize: n, f: (x) => forward(net, x), jvp: (x, t) => jvp(net, x, t), vjp: (x, v) => vjp(net, x, v) },
    { samples, seed, powerIters: 40, ascentSteps: 6 },
  ).bound;
}
