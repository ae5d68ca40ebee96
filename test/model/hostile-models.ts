/**
 * The hostile and malformed models of issue 19, one builder per row of its table, shared by the
 * regression tests (hostile.test.ts) and the fuzzers (test/fuzz). Each is a small valid network
 * with one thing broken, so that the only reason to refuse it is that thing.
 */
import type onnxProto from 'onnx-proto';
import { onnx } from '../../src/model/onnx.js';
import { encodeModel, floatTensor, int64Tensor, node, randomWeights } from '../../src/model/onnx-writer.js';
import { mulberry32 } from '../../src/util/random.js';

type Attr = onnxProto.onnx.IAttributeProto;
type NodeP = onnxProto.onnx.INodeProto;
type TensorP = onnxProto.onnx.ITensorProto;
const T = onnx.AttributeProto.AttributeType;

export const intAttr = (name: string, i: number): Attr => ({ name, type: T.INT, i });
export const floatAttr = (name: string, f: number): Attr => ({ name, type: T.FLOAT, f });
export const intsAttr = (name: string, ints: number[]): Attr => ({ name, type: T.INTS, ints });
export const stringAttr = (name: string, s: string): Attr => ({ name, type: T.STRING, s: new TextEncoder().encode(s) });

function rawNode(opType: string, inputs: string[], outputs: string[], name: string, attribute: Attr[]): NodeP {
  return { opType, name, input: inputs, output: outputs, attribute };
}

function weights(seed: number, name: string, dims: number[]): TensorP {
  const n = dims.reduce((a, b) => a * b, 1);
  return floatTensor(name, dims, randomWeights(mulberry32(seed), n, Math.max(1, dims.slice(1).reduce((a, b) => a * b, 1))));
}

/**
 * Gemm(4→6, attrs1) → act → Gemm(6→3). `act` is the middle node ('Relu' unless given), with
 * `actAttrs`. `scale` multiplies the first weight matrix (to make a steep net).
 */
export function mlp(opts: { gemmAttrs?: Attr[]; act?: string; actAttrs?: Attr[]; zero?: boolean; scale?: number; extraInits?: TensorP[]; seed?: number } = {}): Uint8Array {
  const seed = opts.seed ?? 3;
  const w1 = weights(seed, 'w1', [6, 4]);
  const w2 = weights(seed + 1, 'w2', [3, 6]);
  if (opts.scale !== undefined) {
    const f = new Float32Array(new Uint8Array(w1.rawData!).buffer);
    for (let i = 0; i < f.length; i++) f[i]! *= opts.scale;
    w1.rawData = new Uint8Array(f.buffer);
  }
  const inits = [w1, floatTensor('b1', [6], new Array(6).fill(0.1)), w2, floatTensor('b2', [3], [0.1, 0.2, 0.3])];
  if (opts.zero) for (const t of inits) t.rawData = new Uint8Array(t.rawData!.length);
  return encodeModel({
    name: 'hostile_mlp',
    input: { name: 'input', dims: [1, 4] },
    output: { name: 'output', dims: [1, 3] },
    nodes: [
      rawNode('Gemm', ['input', 'w1', 'b1'], ['h'], 'fc1', [intAttr('transB', 1), ...(opts.gemmAttrs ?? [])]),
      rawNode(opts.act ?? 'Relu', ['h'], ['a'], 'act', opts.actAttrs ?? []),
      rawNode('Gemm', ['a', 'w2', 'b2'], ['output'], 'fc2', [intAttr('transB', 1)]),
    ],
    initializers: [...inits, ...(opts.extraInits ?? [])],
  });
}

/**
 * Conv(1→2, 3×3, convAttrs) → Relu → Flatten → Gemm(→3) on a 1×1×h×w input. The Gemm's width
 * follows the conv output size computed from the attributes when they are valid (1 otherwise).
 */
export function convNet(convAttrs: Attr[], h = 6, w = 6, seed = 5): Uint8Array {
  const get = (name: string, d: number[]) => (convAttrs.find((a) => a.name === name)?.ints as number[] | undefined) ?? d;
  const [sh, sw] = get('strides', [1, 1]);
  const [dh, dw] = get('dilations', [1, 1]);
  const [pt, pl, pb, pr] = get('pads', [0, 0, 0, 0]);
  const out = (n: number, a: number, b: number, s: number, d: number) => Math.floor((n + a + b - d * 2 - 1) / s) + 1;
  const ho = out(h, pt!, pb!, sh!, dh!);
  const wo = out(w, pl!, pr!, sw!, dw!);
  const flat = ho > 0 && wo > 0 && Number.isFinite(ho * wo) && ho * wo * 2 < 1e6 ? 2 * ho * wo : 2;
  return encodeModel({
    name: 'hostile_conv',
    input: { name: 'input', dims: [1, 1, h, w] },
    output: { name: 'output', dims: [1, 3] },
    nodes: [
      rawNode('Conv', ['input', 'cw', 'cb'], ['c'], 'conv1', convAttrs),
      node('Relu', ['c'], ['r'], 'relu1'),
      node('Flatten', ['r'], ['f'], 'flat'),
      rawNode('Gemm', ['f', 'fw'], ['output'], 'fc', [intAttr('transB', 1)]),
    ],
    initializers: [weights(seed, 'cw', [2, 1, 3, 3]), floatTensor('cb', [2], [0.1, -0.1]), weights(seed + 1, 'fw', [3, flat])],
  });
}

/** Mul(input, ReduceSum(<constant subgraph>)) → Gemm: the constant subgraph is folded on import. */
export function constantBlowup(kind: 'constantOfShape28' | 'constantOfShape31' | 'range1e9'): Uint8Array {
  const nodes: NodeP[] = [];
  const inits: TensorP[] = [weights(9, 'w', [3, 4])];
  if (kind === 'range1e9') {
    inits.push(floatTensor('start', [], [0]), floatTensor('limit', [], [1e9]), floatTensor('delta', [], [1]));
    nodes.push(node('Range', ['start', 'limit', 'delta'], ['big'], 'range'));
  } else {
    inits.push(int64Tensor('shape', [1], [kind === 'constantOfShape28' ? 2 ** 28 : 2 ** 31]));
    nodes.push(rawNode('ConstantOfShape', ['shape'], ['big'], 'cos', [{ name: 'value', type: T.TENSOR, t: floatTensor('v', [1], [1e-9]) }]));
  }
  nodes.push(rawNode('ReduceSum', ['big'], ['s'], 'sum', [intAttr('keepdims', 0)]));
  nodes.push(node('Mul', ['input', 's'], ['x'], 'scale'));
  nodes.push(rawNode('Gemm', ['x', 'w'], ['output'], 'fc', [intAttr('transB', 1)]));
  return encodeModel({ name: 'blowup', input: { name: 'input', dims: [1, 4] }, output: { name: 'output', dims: [1, 3] }, nodes, initializers: inits });
}

/** A 1×1×n×n input into a 1×1 conv, global average pool and a Gemm: tiny weights, huge activations. */
export function hugeInput(n: number): Uint8Array {
  return encodeModel({
    name: 'huge_input',
    input: { name: 'input', dims: [1, 1, n, n] },
    output: { name: 'output', dims: [1, 2] },
    nodes: [
      rawNode('Conv', ['input', 'cw'], ['c'], 'conv1', [intsAttr('kernel_shape', [1, 1])]),
      node('Relu', ['c'], ['r'], 'relu1'),
      node('GlobalAveragePool', ['r'], ['g'], 'gap'),
      node('Flatten', ['g'], ['f'], 'flat'),
      rawNode('Gemm', ['f', 'fw'], ['output'], 'fc', [intAttr('transB', 1)]),
    ],
    initializers: [floatTensor('cw', [2, 1, 1, 1], [0.5, -0.7]), floatTensor('fw', [2, 2], [1, 0.5, -0.3, 0.8])],
  });
}

/** The MLP with a second initializer named `w1` (placed before or after the real one). */
export function duplicateInitializer(first: boolean): Uint8Array {
  const bytes = mlp();
  const model = onnx.ModelProto.decode(bytes);
  const other = weights(42, 'w1', [6, 4]);
  const f = new Float32Array(new Uint8Array(other.rawData!).buffer).map((v) => v * 100);
  other.rawData = new Uint8Array(f.buffer);
  const inits = model.graph!.initializer!;
  if (first) inits.unshift(onnx.TensorProto.fromObject(other));
  else inits.push(onnx.TensorProto.fromObject(other));
  return onnx.ModelProto.encode(model).finish();
}

/** The MLP with `w1` stored in the external file `location` (bytes 0..96). */
export function externalMlp(location: string): Uint8Array {
  const model = onnx.ModelProto.decode(mlp());
  const w1 = model.graph!.initializer!.find((t) => t.name === 'w1')!;
  w1.rawData = new Uint8Array(0);
  w1.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  w1.externalData = [
    onnx.StringStringEntryProto.fromObject({ key: 'location', value: location }),
    onnx.StringStringEntryProto.fromObject({ key: 'offset', value: '0' }),
    onnx.StringStringEntryProto.fromObject({ key: 'length', value: '96' }),
  ];
  return onnx.ModelProto.encode(model).finish();
}

/** The raw float32 bytes of the MLP's w1 (for writing an external data file). */
export function mlpW1Bytes(): Uint8Array {
  const model = onnx.ModelProto.decode(mlp());
  return model.graph!.initializer!.find((t) => t.name === 'w1')!.rawData!.slice();
}

export interface HostileCase {
  /** Row of the issue-19 table and a short description. */
  readonly id: string;
  readonly bytes: () => Uint8Array;
  /** 'error': must be refused (code, and a pattern the one-line message must match); 'valid': must give a bound ≥ the lower bound. */
  readonly expect: { readonly error: string; readonly message: RegExp } | 'valid';
}

/** Every row of the issue-19 table that can be built in memory (row 7 needs files: see hostile.test.ts). */
export const HOSTILE_CASES: readonly HostileCase[] = [
  { id: '1 Gemm alpha declared INT', bytes: () => mlp({ gemmAttrs: [intAttr('alpha', 2)] }), expect: { error: 'MALFORMED_MODEL', message: /fc1.*'alpha' is declared INT/ } },
  { id: '1 Gemm alpha declared STRING', bytes: () => mlp({ gemmAttrs: [stringAttr('alpha', '2')] }), expect: { error: 'MALFORMED_MODEL', message: /fc1.*'alpha' is declared STRING/ } },
  { id: '1 LeakyRelu alpha declared INT 5', bytes: () => mlp({ act: 'LeakyRelu', actAttrs: [intAttr('alpha', 5)] }), expect: { error: 'MALFORMED_MODEL', message: /'act'.*'alpha' is declared INT/ } },
  {
    id: '1 Gemm transB declared FLOAT 1.0',
    bytes: () =>
      encodeModel({
        name: 'transb_float',
        input: { name: 'input', dims: [1, 4] },
        output: { name: 'output', dims: [1, 3] },
        nodes: [rawNode('Gemm', ['input', 'w'], ['output'], 'fc1', [floatAttr('transB', 1)])],
        initializers: [weights(3, 'w', [3, 4])],
      }),
    expect: { error: 'MALFORMED_MODEL', message: /fc1.*'transB' is declared FLOAT/ },
  },
  { id: '2 Elu alpha NaN', bytes: () => mlp({ act: 'Elu', actAttrs: [floatAttr('alpha', NaN)] }), expect: { error: 'MALFORMED_MODEL', message: /'act'.*'alpha' is NaN/ } },
  { id: '2 every initializer all zero', bytes: () => mlp({ zero: true }), expect: { error: 'CONSTANT_OUTPUT', message: /does not depend on the input.*all-zero weights.*Lipschitz constant is 0/ } },
  { id: '2 Conv strides [0,0]', bytes: () => convNet([intsAttr('strides', [0, 0])]), expect: { error: 'MALFORMED_MODEL', message: /conv1.*'strides' = 0 is out of range/ } },
  { id: '2 Conv pads 1e6', bytes: () => convNet([intsAttr('pads', [1e6, 1e6, 1e6, 1e6])]), expect: { error: 'UNSUPPORTED_OP', message: /conv1.*pads \[1000000.*exceed the kernel reach/ } },
  { id: '3 Conv dilations [0,0]', bytes: () => convNet([intsAttr('dilations', [0, 0])]), expect: { error: 'MALFORMED_MODEL', message: /conv1.*'dilations' = 0 is out of range/ } },
  { id: '3 Conv dilations [-2,-2]', bytes: () => convNet([intsAttr('dilations', [-2, -2])]), expect: { error: 'MALFORMED_MODEL', message: /conv1.*'dilations' = -2 is out of range/ } },
  { id: '4 input 1×1×2000×2000 with a tiny conv', bytes: () => hugeInput(2000), expect: { error: 'UNSUPPORTED_STRUCTURE', message: /model too large: tensor 'input' \[1,1,2000,2000\] has 4000000 elements/ } },
  { id: '4 conv with asymmetric pads [0,3,2,0] past the 3×3 kernel reach', bytes: () => convNet([intsAttr('pads', [0, 3, 2, 0])], 8, 8), expect: { error: 'UNSUPPORTED_OP', message: /conv1.*pads \[0,3,2,0\] exceed the kernel reach/ } },
  { id: '4 valid conv with asymmetric pads [0,1,2,0]', bytes: () => convNet([intsAttr('pads', [0, 1, 2, 0])], 8, 8), expect: 'valid' },
  { id: '5 ConstantOfShape [2^28] → ReduceSum', bytes: () => constantBlowup('constantOfShape28'), expect: { error: 'UNSUPPORTED_STRUCTURE', message: /model too large: constant 'big' computed by node 'cos'.*2\.00 GiB/ } },
  { id: '5 ConstantOfShape [2^31]', bytes: () => constantBlowup('constantOfShape31'), expect: { error: 'UNSUPPORTED_STRUCTURE', message: /model too large: constant 'big'.*16\.0 GiB/ } },
  { id: '5 Range 0..1e9', bytes: () => constantBlowup('range1e9'), expect: { error: 'UNSUPPORTED_STRUCTURE', message: /model too large: constant 'big' computed by node 'range'.*7\.45 GiB/ } },
  { id: '6 input 1×1×30000×30000', bytes: () => hugeInput(30000), expect: { error: 'UNSUPPORTED_STRUCTURE', message: /model too large: tensor 'input' \[1,1,30000,30000\] has 900000000 elements/ } },
  { id: '8 duplicate initializer (extra first)', bytes: () => duplicateInitializer(true), expect: { error: 'MALFORMED_MODEL', message: /two initializers are named 'w1'/ } },
  { id: '8 duplicate initializer (extra last)', bytes: () => duplicateInitializer(false), expect: { error: 'MALFORMED_MODEL', message: /two initializers are named 'w1'/ } },
  { id: '9 Gemm beta +Inf', bytes: () => mlp({ gemmAttrs: [floatAttr('beta', Infinity)] }), expect: { error: 'MALFORMED_MODEL', message: /fc1.*'beta' is Infinity/ } },
];
