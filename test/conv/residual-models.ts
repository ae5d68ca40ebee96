/**
 * Small ONNX residual models for test/conv/residual-*.test.ts, built with src/model/onnx-writer
 * (through test/model/builders.ts) and imported like any user model, so that the importer's
 * residual detection (Add and Sub joins) is part of what is tested. Weights: He-uniform from a
 * seeded generator, times a gain.
 */
import { floatTensor, randomWeights } from '../../src/model/onnx-writer.js';
import { mulberry32 } from '../../src/util/random.js';
import { importOnnxBytes } from '../../src/model/import.js';
import type { Network } from '../../src/model/ir.js';
import { GraphBuilder } from '../model/builders.js';

export class ResBuilder extends GraphBuilder {
  private readonly r: () => number;
  private n = 0;
  constructor(seed: number) {
    super(seed);
    this.r = mulberry32(seed ^ 0x5bd1e995);
  }
  /** Random weight with fan-in from dims, scaled by `gain`. */
  w(dims: number[], gain = 1): string {
    const name = `w${this.n++}`;
    const fanIn = dims.slice(1).reduce((a, b) => a * b, 1);
    const v = randomWeights(this.r, dims.reduce((a, b) => a * b, 1), fanIn).map((x) => x * gain);
    this.inits.push(floatTensor(name, dims, v));
    return name;
  }
  /** Small random bias (irrelevant to the bound, present to exercise the import). */
  private bias(n: number): string {
    const name = `b${this.n++}`;
    this.inits.push(floatTensor(name, [n], Array.from({ length: n }, () => 0.1 * (2 * this.r() - 1))));
    return name;
  }
  gemm(x: string, nin: number, nout: number, gain = 1): string {
    return this.op('Gemm', [x, this.w([nout, nin], gain), this.bias(nout)], { transB: 1 });
  }
  conv(x: string, cin: number, cout: number, k: number, opts: { stride?: number; pad?: number; gain?: number } = {}): string {
    const p = opts.pad ?? (k - 1) / 2;
    const s = opts.stride ?? 1;
    return this.op('Conv', [x, this.w([cout, cin, k, k], opts.gain ?? 1), this.bias(cout)], { kernel_shape: [k, k], pads: [p, p, p, p], strides: [s, s] });
  }
  relu(x: string): string {
    return this.op('Relu', [x]);
  }
  mul(x: string, v: number): string {
    return this.op('Mul', [x, this.constant(`k${this.n++}`, [1], [v])]);
  }
}

export function importModel(bytes: Uint8Array, name: string): Network {
  return { ...importOnnxBytes(bytes), source: name };
}

/**
 * FC-ResNet as the paper's FC-R18: in → dense(width) → ReLU → `blocks` × [ReLU(x + W2·ReLU(W1·x))]
 * → dense(out). Branch weights get `gain` (trained residual branches are small against the skip).
 */
export function fcResNet(seed: number, nin: number, width: number, blocks: number, nout: number, gain = 0.5): Network {
  const g = new ResBuilder(seed);
  let x = g.relu(g.gemm('input', nin, width));
  for (let k = 0; k < blocks; k++) {
    const h = g.gemm(g.relu(g.gemm(x, width, width, gain)), width, width, gain);
    x = g.relu(g.op('Add', [x, h]));
  }
  g.gemm(x, width, nout);
  return importModel(g.build([1, nin], 'output', [1, nout]), `fc-resnet ${blocks}x${width} seed ${seed}`);
}

/** Conv residual nets on a c × n × n input: block → ReLU → Flatten → Gemm(out). */
export type ConvBlock = 'conv-act-scale' | 'one-conv' | 'three-conv' | 'strided-scale';

export function convResNet(kind: ConvBlock, seed: number, c = 2, n = 6, nout = 3): Network {
  const g = new ResBuilder(seed);
  const x = 'input';
  let y: string;
  let cOut = c;
  let m = n;
  if (kind === 'conv-act-scale') {
    // y = x − 0.9·ReLU(conv(x)) (Sub join, trailing scale in the branch: LayerScale / ReZero style)
    y = g.op('Sub', [x, g.mul(g.relu(g.conv(x, c, c, 3)), 0.9)]);
  } else if (kind === 'one-conv') {
    y = g.op('Add', [x, g.conv(x, c, c, 3)]);
  } else if (kind === 'three-conv') {
    const h = g.conv(g.relu(g.conv(g.relu(g.conv(x, c, c, 3, { gain: 0.7 })), c, c, 3, { gain: 0.7 })), c, c, 3, { gain: 0.7 });
    y = g.op('Add', [x, h]);
  } else {
    // strided branch ending in a scale, 1×1 strided conv shortcut, channel change
    cOut = 2 * c;
    m = Math.floor((n - 1) / 2) + 1;
    const h = g.mul(g.conv(g.relu(g.conv(x, c, cOut, 3, { stride: 2 })), cOut, cOut, 3), 0.5);
    y = g.op('Add', [g.conv(x, c, cOut, 1, { stride: 2, pad: 0 }), h]);
  }
  y = g.relu(y);
  const f = g.op('Flatten', [y], { axis: 1 });
  g.gemm(f, cOut * m * m, nout);
  return importModel(g.build([1, c, n, n], 'output', [1, nout]), `${kind} seed ${seed}`);
}

/**
 * The delay counterexample of docs/method.md §5.2 with the branch's factor as a trailing scale:
 * u ↦ u − 0.9·ReLU(shift(u)) on 1 × n × n, shift = `taps` one-tap 3 × 3 convs (tap at the
 * bottom-right, pad 1: each shifts by one pixel per axis) with ReLU between two of them.
 */
export function delayCounterexample(taps: 1 | 2, n = 14): Network {
  const g = new GraphBuilder(1);
  const tap = (x: string, i: number): string =>
    g.op('Conv', [x, g.constant(`tap${i}`, [1, 1, 3, 3], [0, 0, 0, 0, 0, 0, 0, 0, 1])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  let h = g.op('Relu', [tap('input', 0)]);
  if (taps === 2) h = tap(h, 1);
  h = g.op('Mul', [h, g.constant('k', [1], [0.9])]);
  g.op('Sub', ['input', h]);
  return importModel(g.build([1, 1, n, n], 'output', [1, 1, n, n]), `§5.2 counterexample, ${taps} tap(s) + trailing scale`);
}
