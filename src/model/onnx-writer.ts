/**
 * A minimal ONNX model builder on top of onnx-proto, for the example generator and for tests
 * that need small or deliberately broken models in memory. Only what those need: float32 and
 * int64 initializers, nodes with int/float/ints/string/tensor attributes, one input and output.
 */
import type onnxProto from 'onnx-proto';
import { onnx } from './onnx.js';

export type AttrValue = number | number[] | string | { tensor: onnxProto.onnx.ITensorProto } | { float: number };

export function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>, raw = true): onnxProto.onnx.ITensorProto {
  const f32 = Float32Array.from(values as ArrayLike<number>);
  return raw
    ? { name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(f32.buffer) }
    : { name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [...f32] };
}

export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): onnxProto.onnx.ITensorProto {
  const buf = new DataView(new ArrayBuffer(8 * values.length));
  values.forEach((v, i) => buf.setBigInt64(8 * i, BigInt(v), true));
  return { name, dims: [...dims], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(buf.buffer) };
}

/** A float32 initializer stored in an external file at `offset`. */
export function externalFloatTensor(name: string, dims: readonly number[], location: string, offset: number, length: number): onnxProto.onnx.ITensorProto {
  return {
    name,
    dims: [...dims],
    dataType: onnx.TensorProto.DataType.FLOAT,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  };
}

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
  }
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.TENSOR, t: v.tensor };
}

export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  name: string,
  attrs: Record<string, AttrValue> = {},
): onnxProto.onnx.INodeProto {
  return {
    opType,
    name,
    input: [...inputs],
    output: [...outputs],
    attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
  };
}

function valueInfo(name: string, dims: readonly (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

export interface ModelSpec {
  readonly name: string;
  readonly input: { readonly name: string; readonly dims: readonly (number | string)[] };
  readonly output: { readonly name: string; readonly dims: readonly (number | string)[] };
  readonly nodes: readonly onnxProto.onnx.INodeProto[];
  readonly initializers: readonly onnxProto.onnx.ITensorProto[];
  readonly opset?: number;
  readonly docString?: string;
}

export function encodeModel(spec: ModelSpec): Uint8Array {
  const model: onnxProto.onnx.IModelProto = {
    irVersion: 8,
    producerName: 'lipdp',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    ...(spec.docString ? { docString: spec.docString } : {}),
    graph: {
      name: spec.name,
      node: [...spec.nodes],
      initializer: [...spec.initializers],
      input: [valueInfo(spec.input.name, spec.input.dims)],
      output: [valueInfo(spec.output.name, spec.output.dims)],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
}

/** He-style uniform weights in [−s, s], s = sqrt(6 / fanIn). */
export function randomWeights(rand: () => number, n: number, fanIn: number): Float32Array {
  const s = Math.sqrt(6 / fanIn);
  return Float32Array.from({ length: n }, () => (2 * rand() - 1) * s);
}
