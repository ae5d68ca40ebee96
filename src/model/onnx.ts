/**
 * ONNX protobuf decoding: model bytes → onnx.ModelProto, TensorProto → ConstTensor (Float64),
 * attribute access, and external-data resolution. Nothing here touches the file system: external
 * data files are handed in as bytes (see `ExternalFiles`), so this module also works in a browser.
 */
import onnxProto from 'onnx-proto';
import { LipdpError } from './errors.js';
import { type ConstTensor, numel } from './tensor.js';

export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;

/** External data files by the `location` string the model stores (file name relative to it). */
export type ExternalFiles = ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>;

const DT = onnx.TensorProto.DataType;

/** Long | number → number (int64 dims and attributes; exact for anything a model needs). */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'toNumber' in v && typeof (v as { toNumber: unknown }).toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
    const { low, high } = v as { low: number; high: number };
    return high * 4294967296 + (low >>> 0);
  }
  return Number(v);
}

/** Decode model bytes; any protobuf failure becomes a one-line MALFORMED_MODEL error. */
export function decodeModel(bytes: Uint8Array, source: string): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    const hint = /index out of range/.test(why) ? 'truncated protobuf' : why;
    throw new LipdpError('MALFORMED_MODEL', `malformed ONNX file '${source}': ${hint}`, { cause: e });
  }
  if (!model.graph || (model.graph.node ?? []).length === 0) {
    throw new LipdpError('MALFORMED_MODEL', `malformed ONNX file '${source}': no graph or empty graph (not an ONNX model?)`);
  }
  return model;
}

function lookupExternal(files: ExternalFiles | undefined, location: string): Uint8Array | undefined {
  if (!files) return undefined;
  if (files instanceof Map) return files.get(location);
  return (files as Readonly<Record<string, Uint8Array>>)[location];
}

/** Locations of all external-data files the graph's initializers refer to. */
export function externalLocations(graph: GraphProto): string[] {
  const out = new Set<string>();
  for (const t of graph.initializer ?? []) {
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      const loc = (t.externalData ?? []).find((e) => e.key === 'location')?.value;
      if (loc) out.add(loc);
    }
  }
  return [...out];
}

function isIntType(dt: number): boolean {
  return dt !== DT.FLOAT && dt !== DT.DOUBLE && dt !== DT.FLOAT16 && dt !== DT.BFLOAT16;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function readRaw(raw: Uint8Array, dt: number, n: number, what: string): Float64Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const size: Record<number, number> = {
    [DT.FLOAT]: 4, [DT.DOUBLE]: 8, [DT.INT64]: 8, [DT.UINT64]: 8, [DT.INT32]: 4, [DT.UINT32]: 4,
    [DT.INT16]: 2, [DT.UINT16]: 2, [DT.FLOAT16]: 2, [DT.BFLOAT16]: 2, [DT.INT8]: 1, [DT.UINT8]: 1, [DT.BOOL]: 1,
  };
  const bytes = size[dt];
  if (bytes === undefined) throw new LipdpError('UNSUPPORTED_OP', `unsupported tensor data type ${dt} in ${what}`);
  if (raw.byteLength !== n * bytes) {
    throw new LipdpError('MALFORMED_MODEL', `${what}: raw data has ${raw.byteLength} bytes, expected ${n * bytes}`);
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * bytes;
    switch (dt) {
      case DT.FLOAT: out[i] = view.getFloat32(o, true); break;
      case DT.DOUBLE: out[i] = view.getFloat64(o, true); break;
      case DT.INT64: out[i] = Number(view.getBigInt64(o, true)); break;
      case DT.UINT64: out[i] = Number(view.getBigUint64(o, true)); break;
      case DT.INT32: out[i] = view.getInt32(o, true); break;
      case DT.UINT32: out[i] = view.getUint32(o, true); break;
      case DT.INT16: out[i] = view.getInt16(o, true); break;
      case DT.UINT16: out[i] = view.getUint16(o, true); break;
      case DT.FLOAT16: out[i] = halfToFloat(view.getUint16(o, true)); break;
      case DT.BFLOAT16: {
        const tmp = new DataView(new ArrayBuffer(4));
        tmp.setUint32(0, view.getUint16(o, true) << 16, false);
        out[i] = tmp.getFloat32(0, false);
        break;
      }
      case DT.INT8: out[i] = view.getInt8(o); break;
      default: out[i] = view.getUint8(o); break;
    }
  }
  return out;
}

/**
 * TensorProto → ConstTensor. `where` names the tensor for messages (e.g. "initializer 'fc.w'").
 * External data is looked up in `files` by its location key.
 */
export function decodeTensor(t: TensorProto, where: string, files?: ExternalFiles, source = 'model'): ConstTensor {
  const dims = (t.dims ?? []).map(toNumber);
  const n = numel(dims);
  const dt = t.dataType ?? 0;
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new LipdpError('MALFORMED_MODEL', `${where} has invalid shape [${dims.join(',')}]`);
  }
  let raw: Uint8Array | undefined;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = kv.get('location');
    if (!location) throw new LipdpError('MALFORMED_MODEL', `${where} has external data without a location`);
    const file = lookupExternal(files, location);
    if (!file) {
      throw new LipdpError(
        'IO',
        `external data file '${location}' needed by ${where} is missing (expected next to '${source}')`,
      );
    }
    const offset = kv.has('offset') ? Number(kv.get('offset')) : 0;
    const length = kv.has('length') ? Number(kv.get('length')) : file.byteLength - offset;
    if (!(offset >= 0 && length >= 0 && offset + length <= file.byteLength)) {
      throw new LipdpError(
        'IO',
        `external data file '${location}' is too short for ${where} (needs bytes ${offset}..${offset + length}, has ${file.byteLength})`,
      );
    }
    raw = file.subarray(offset, offset + length);
  } else if (t.rawData && t.rawData.length > 0) {
    raw = t.rawData;
  }
  let data: Float64Array;
  if (raw) {
    data = readRaw(raw, dt, n, where);
  } else {
    // Typed repeated fields: which one holds the data depends on the element type.
    let src: ArrayLike<unknown>;
    switch (dt) {
      case DT.FLOAT: src = t.floatData ?? []; break;
      case DT.DOUBLE: src = t.doubleData ?? []; break;
      case DT.INT64: src = t.int64Data ?? []; break;
      case DT.UINT32: case DT.UINT64: src = t.uint64Data ?? []; break;
      case DT.INT32: case DT.INT16: case DT.INT8: case DT.UINT16: case DT.UINT8: case DT.BOOL:
      case DT.FLOAT16: case DT.BFLOAT16:
        src = t.int32Data ?? []; break;
      default:
        throw new LipdpError('UNSUPPORTED_OP', `unsupported tensor data type ${dt} in ${where}`);
    }
    if (src.length !== n) {
      throw new LipdpError('MALFORMED_MODEL', `${where} has ${src.length} values, its shape [${dims.join(',')}] needs ${n}`);
    }
    data = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = toNumber(src[i]);
      data[i] = dt === DT.FLOAT16 ? halfToFloat(v) : dt === DT.BFLOAT16 ? bf16ToFloat(v) : v;
    }
  }
  return { dims, data, isInt: isIntType(dt) };
}

function bf16ToFloat(bits: number): number {
  const tmp = new DataView(new ArrayBuffer(4));
  tmp.setUint32(0, (bits & 0xffff) << 16, false);
  return tmp.getFloat32(0, false);
}

/**
 * Attribute accessors with ONNX defaults. Each accessor checks the attribute's declared type:
 * protobuf fills absent fields with zeros, so reading `f` of an attribute declared INT would
 * silently give 0 (schema.ts checks every live node up front; this is the second line).
 */
export class Attrs {
  private readonly map: Map<string, AttributeProto>;
  private readonly node: NodeProto;
  constructor(node: NodeProto) {
    this.node = node;
    this.map = new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
  }
  private get(name: string, type: number): AttributeProto | undefined {
    const a = this.map.get(name);
    if (a && (a.type ?? 0) !== type) {
      const T = onnx.AttributeProto.AttributeType;
      throw new LipdpError(
        'MALFORMED_MODEL',
        `node '${nodeLabel(this.node)}' (${this.node.opType}) attribute '${name}' is declared ${T[a.type ?? 0] ?? a.type}; expected ${T[type]}`,
      );
    }
    return a;
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
  int(name: string, dflt: number): number {
    const a = this.get(name, onnx.AttributeProto.AttributeType.INT);
    return a ? toNumber(a.i ?? 0) : dflt;
  }
  float(name: string, dflt: number): number {
    const a = this.get(name, onnx.AttributeProto.AttributeType.FLOAT);
    return a ? a.f ?? 0 : dflt;
  }
  ints(name: string): number[] | undefined {
    const a = this.get(name, onnx.AttributeProto.AttributeType.INTS);
    return a ? (a.ints ?? []).map(toNumber) : undefined;
  }
  floats(name: string): number[] | undefined {
    const a = this.get(name, onnx.AttributeProto.AttributeType.FLOATS);
    return a ? [...(a.floats ?? [])] : undefined;
  }
  string(name: string, dflt: string): string {
    const a = this.get(name, onnx.AttributeProto.AttributeType.STRING);
    return a && a.s && a.s.length > 0 ? new TextDecoder().decode(a.s) : dflt;
  }
  tensor(name: string): TensorProto | undefined {
    return this.get(name, onnx.AttributeProto.AttributeType.TENSOR)?.t ?? undefined;
  }
  names(): string[] {
    return [...this.map.keys()];
  }
}

/** A node's display name for messages: its name, or op + first output when unnamed. */
export function nodeLabel(node: NodeProto): string {
  if (node.name) return node.name;
  return `${node.opType ?? '?'}→${(node.output ?? [])[0] ?? '?'}`;
}
