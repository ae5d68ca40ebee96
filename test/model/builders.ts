/** In-memory ONNX models for tests (built with src/model/onnx-writer). */
import type onnxProto from 'onnx-proto';
import { encodeModel, floatTensor, int64Tensor, node, randomWeights } from '../../src/model/onnx-writer.js';
import { mulberry32 } from '../../src/util/random.js';

type NodeP = onnxProto.onnx.INodeProto;
type TensorP = onnxProto.onnx.ITensorProto;

export class GraphBuilder {
  readonly nodes: NodeP[] = [];
  readonly inits: TensorP[] = [];
  private readonly rand: () => number;
  private k = 0;

  constructor(seed: number) {
    this.rand = mulberry32(seed);
  }

  /** Random float initializer. */
  weight(name: string, dims: number[], fanIn = dims.slice(1).reduce((a, b) => a * b, 1)): string {
    const n = dims.reduce((a, b) => a * b, 1);
    this.inits.push(floatTensor(name, dims, randomWeights(this.rand, n, Math.max(1, fanIn))));
    return name;
  }

  constant(name: string, dims: number[], values: number[]): string {
    this.inits.push(floatTensor(name, dims, values));
    return name;
  }

  ints(name: string, values: number[]): string {
    this.inits.push(int64Tensor(name, [values.length], values));
    return name;
  }

  /** Add a node; returns its (first) output name. */
  op(opType: string, inputs: string[], attrs: Parameters<typeof node>[4] = {}, name?: string): string {
    const id = name ?? `${opType.toLowerCase()}_${this.k++}`;
    this.nodes.push(node(opType, inputs, [id], id, attrs));
    return id;
  }

  build(input: (number | string)[], outName: string, outDims: (number | string)[], opset = 13): Uint8Array {
    // The last node must write the declared output name.
    const last = this.nodes[this.nodes.length - 1]!;
    const old = last.output![0]!;
    last.output = [outName];
    for (const n of this.nodes) n.input = n.input!.map((i) => (i === old ? outName : i));
    return encodeModel({
      name: 'test',
      input: { name: 'input', dims: input },
      output: { name: outName, dims: outDims },
      nodes: this.nodes,
      initializers: this.inits,
      opset,
    });
  }
}

/**
 * A model exercising most supported ops: NHWC input transpose, per-channel Sub/Div, SAME_UPPER
 * conv, BatchNorm, Elu, a residual block with identity shortcut (grouped, dilated conv in the
 * branch), a residual block with 1×1 strided conv shortcut, Softplus, LeakyRelu, Pad, MaxPool,
 * AveragePool with pads, NHWC flatten via Transpose+Reshape, MatMul+Add, Tanh, Gemm, Sigmoid.
 */
export function kitchenSink(seed = 7): Uint8Array {
  const g = new GraphBuilder(seed);
  let x = g.op('Transpose', ['input'], { perm: [0, 3, 1, 2] });
  x = g.op('Sub', [x, g.constant('mean', [1, 2, 1, 1], [0.4, 0.6])]);
  x = g.op('Div', [x, g.constant('std', [1, 2, 1, 1], [0.25, 0.5])]);
  x = g.op('Conv', [x, g.weight('c1.w', [4, 2, 3, 3]), g.weight('c1.b', [4], 4)], { auto_pad: 'SAME_UPPER', kernel_shape: [3, 3] });
  x = g.op('BatchNormalization', [
    x,
    g.constant('bn.g', [4], [1.2, 0.8, 1.0, 0.5]),
    g.constant('bn.b', [4], [0.1, -0.2, 0.0, 0.3]),
    g.constant('bn.m', [4], [0.05, 0.1, -0.1, 0.0]),
    g.constant('bn.v', [4], [1.5, 0.7, 1.1, 0.9]),
  ], { epsilon: { float: 1e-3 } });
  const fork1 = g.op('Elu', [x], { alpha: { float: 0.7 } });
  let b = g.op('Conv', [fork1, g.weight('r1.w1', [4, 2, 3, 3]), g.weight('r1.b1', [4], 4)], { pads: [2, 2, 2, 2], dilations: [2, 2], group: 2 });
  b = g.op('Relu', [b]);
  b = g.op('Conv', [b, g.weight('r1.w2', [4, 4, 3, 3])], { pads: [1, 1, 1, 1] });
  x = g.op('Add', [b, fork1]);
  const fork2 = g.op('Softplus', [x]);
  let b2 = g.op('Conv', [fork2, g.weight('r2.w1', [6, 4, 3, 3]), g.weight('r2.b1', [6], 6)], { pads: [1, 1, 1, 1], strides: [2, 2] });
  b2 = g.op('LeakyRelu', [b2], { alpha: { float: 0.2 } });
  const sc = g.op('Conv', [fork2, g.weight('r2.ws', [6, 4, 1, 1]), g.weight('r2.bs', [6], 6)], { strides: [2, 2] });
  x = g.op('Add', [sc, b2]);
  x = g.op('Relu', [x]);
  x = g.op('Pad', [x, g.ints('pads', [0, 0, 1, 1, 0, 0, 1, 1])]);
  x = g.op('MaxPool', [x], { kernel_shape: [2, 2] });
  x = g.op('AveragePool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  x = g.op('Transpose', [x], { perm: [0, 2, 3, 1] });
  x = g.op('Reshape', [x, g.ints('shape', [1, -1])]);
  x = g.op('MatMul', [x, g.weight('fc1.w', [24, 5], 24)]);
  x = g.op('Add', [x, g.weight('fc1.b', [5], 5)]);
  x = g.op('Tanh', [x]);
  x = g.op('Gemm', [x, g.weight('fc2.w', [3, 5]), g.weight('fc2.b', [3], 3)], { transB: 1 });
  g.op('Sigmoid', [x]);
  return g.build([1, 6, 6, 2], 'output', [1, 3]);
}

/** Conv → GlobalAveragePool → Flatten → Gemm, plus a ReduceMean variant. */
export function globalPoolNet(reduceMean: boolean, seed = 9): Uint8Array {
  const g = new GraphBuilder(seed);
  let x = g.op('Conv', ['input', g.weight('c.w', [5, 3, 3, 3]), g.weight('c.b', [5], 5)], { pads: [1, 1, 1, 1] });
  x = g.op('Relu', [x]);
  if (reduceMean) {
    x = g.op('ReduceMean', [x], { axes: [2, 3], keepdims: 0 });
  } else {
    x = g.op('GlobalAveragePool', [x]);
    x = g.op('Flatten', [x]);
  }
  g.op('Gemm', [x, g.weight('fc.w', [4, 5]), g.weight('fc.b', [4], 4)], { transB: 1 });
  return g.build([1, 3, 5, 5], 'output', [1, 4]);
}
