/**
 * Fuzzing of the ONNX importer and the estimate pipeline against the error contract of issue 19:
 * every input ends either in a LipdpError with a one-line message (the CLI's `lipdp: error:`,
 * exit 2) or in a report whose certified bound is ≥ the empirical lower bound. Never an internal
 * error, never a number below the lower bound.
 *
 * Two kinds of cases, both reproducible from (seed, index):
 *  - byte-level: random edits (bit flips, interesting bytes, deletions, insertions, duplicated
 *    ranges, truncation) of the bytes of a few small seed models;
 *  - structure-aware: decoded models with one to three semantic edits (attribute types and
 *    values, domains, input shapes, duplicate names, initializer data, dims and types, external
 *    data locations, op types, rewired inputs, constant-folding bombs, opset versions).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type onnxProto from 'onnx-proto';
import { estimateLipschitz } from '../../src/estimate.js';
import { LipdpError } from '../../src/model/errors.js';
import { importOnnxBytes } from '../../src/model/import.js';
import { onnx } from '../../src/model/onnx.js';
import { floatTensor, int64Tensor } from '../../src/model/onnx-writer.js';
import { mulberry32 } from '../../src/util/random.js';
import { globalPoolNet, kitchenSink } from '../model/builders.js';
import { convNet, floatAttr, intAttr, intsAttr, mlp } from '../model/hostile-models.js';

type Model = onnxProto.onnx.ModelProto;
type Attr = onnxProto.onnx.IAttributeProto;
const AT = onnx.AttributeProto.AttributeType;

const EXAMPLES = fileURLToPath(new URL('../../examples', import.meta.url));

export interface Seed {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Small seed models (fast to estimate, so that valid mutants can be checked end to end). */
export function seeds(): Seed[] {
  const list: Seed[] = [
    { name: 'mlp-relu', bytes: mlp() },
    { name: 'mlp-leaky', bytes: mlp({ act: 'LeakyRelu', actAttrs: [floatAttr('alpha', 0.3)] }) },
    { name: 'mlp-elu', bytes: mlp({ act: 'Elu', actAttrs: [floatAttr('alpha', 0.7)], gemmAttrs: [floatAttr('alpha', 1.5), floatAttr('beta', 0.5)] }) },
    { name: 'mlp-tiny', bytes: new Uint8Array(readFileSync(`${EXAMPLES}/mlp_tiny.onnx`)) },
    { name: 'conv', bytes: convNet([intsAttr('pads', [1, 1, 1, 1]), intsAttr('strides', [2, 2])], 5, 5) },
    { name: 'global-pool', bytes: globalPoolNet(false) },
    { name: 'kitchen-sink', bytes: kitchenSink() },
  ];
  // Own buffers: encoder output may be a view into Node's Buffer pool.
  return list.map((s) => ({ name: s.name, bytes: new Uint8Array(s.bytes) }));
}

export type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, n: number) => Math.floor(r() * n);

// ------------------------------------------------------------------ byte level

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x08, 0x10, 0x12, 0x1a, 0x22, 0x3a, 0x42];

export function mutateBytes(src: Uint8Array, r: Rand): Uint8Array {
  let b = Uint8Array.from(src);
  const edits = 1 + int(r, 8);
  for (let e = 0; e < edits && b.length > 0; e++) {
    const at = int(r, b.length);
    switch (int(r, 7)) {
      case 0: b[at] = b[at]! ^ (1 << int(r, 8)); break;
      case 1: b[at] = int(r, 256); break;
      case 2: b[at] = pick(r, INTERESTING); break;
      case 3: { // delete a range
        const n = 1 + int(r, 16);
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + n)]);
        break;
      }
      case 4: { // insert random bytes
        const ins = Array.from({ length: 1 + int(r, 16) }, () => int(r, 256));
        b = Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
        break;
      }
      case 5: { // duplicate a range
        const n = 1 + int(r, 64);
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at, at + n), ...b.subarray(at)]);
        break;
      }
      default: b = b.subarray(0, at).slice();
    }
  }
  return b;
}

// ------------------------------------------------------------------ structure aware

const ATTR_NAMES = ['alpha', 'beta', 'transA', 'transB', 'strides', 'pads', 'dilations', 'group', 'kernel_shape', 'auto_pad', 'axis', 'axes', 'perm', 'epsilon', 'keepdims', 'mode', 'value', 'to', 'ceil_mode', 'count_include_pad', 'unknown_attr'];
const FLOATS = [NaN, Infinity, -Infinity, 0, -0, 1e38, -1e38, 1e-45, -5, 5, 0.5, 3.4e38];
const INTS = [0, 1, -1, 2, -2, 3, 1e6, 2 ** 31, -(2 ** 31), 2 ** 40, Number.MAX_SAFE_INTEGER];
const OPS = ['Relu', 'Tanh', 'Sigmoid', 'Gemm', 'MatMul', 'Conv', 'MaxPool', 'AveragePool', 'Flatten', 'Reshape', 'Add', 'Mul', 'Identity', 'Softmax', 'LeakyRelu', 'Elu', 'Transpose', 'BatchNormalization', 'Pad', 'GlobalAveragePool', 'Concat', 'ConstantOfShape', 'Range', 'Expand', 'Squeeze', 'Unsqueeze'];
const DIMS = [0, -1, 1, 2, 3, 7, 30000, 2 ** 31, 2 ** 40, 1e6];
const LOCATIONS = ['../outside.bin', '/etc/passwd', 'a\0b', 'missing.bin', '..\\x.bin', 'x/../../y.bin', '/dev/zero', 'w.bin'];

function randomAttr(r: Rand, name: string): Attr {
  switch (int(r, 6)) {
    case 0: return floatAttr(name, pick(r, FLOATS));
    case 1: return intAttr(name, pick(r, INTS));
    case 2: return intsAttr(name, Array.from({ length: int(r, 5) }, () => pick(r, INTS)));
    case 3: return { name, type: AT.STRING, s: new TextEncoder().encode(pick(r, ['NOTSET', 'SAME_UPPER', 'VALID', 'constant', 'reflect', 'x'])) };
    case 4: return { name, type: AT.FLOATS, floats: Array.from({ length: int(r, 4) }, () => pick(r, FLOATS)) };
    default: return { name, type: AT.TENSOR, t: floatTensor('t', [1], [pick(r, FLOATS)]) };
  }
}

/** Apply one to three semantic edits to the decoded model, in place. Returns their names. */
export function mutateModel(m: Model, r: Rand): string[] {
  const g = m.graph!;
  const nodes = g.node!;
  const inits = g.initializer!;
  const done: string[] = [];
  const edits = 1 + int(r, 3);
  for (let e = 0; e < edits; e++) {
    const n = nodes.length ? pick(r, nodes) : undefined;
    const t = inits.length ? pick(r, inits) : undefined;
    const kind = int(r, 17);
    switch (kind) {
      case 0: { // declared type of an attribute
        const a = n?.attribute?.length ? pick(r, n.attribute) : undefined;
        if (a) a.type = pick(r, [AT.FLOAT, AT.INT, AT.STRING, AT.INTS, AT.FLOATS, AT.TENSOR, AT.UNDEFINED, AT.GRAPH]);
        done.push('attr-type');
        break;
      }
      case 1: { // value of an attribute
        const a = n?.attribute?.length ? pick(r, n.attribute) : undefined;
        if (a) {
          if (a.type === AT.FLOAT) a.f = pick(r, FLOATS);
          else if (a.type === AT.INT) a.i = pick(r, INTS);
          else if (a.type === AT.INTS) a.ints = (a.ints ?? []).map((v) => (r() < 0.5 ? pick(r, INTS) : v));
        }
        done.push('attr-value');
        break;
      }
      case 2: // add an attribute (known name, random type/value)
        n?.attribute?.push(onnx.AttributeProto.fromObject(randomAttr(r, pick(r, ATTR_NAMES))));
        done.push('attr-add');
        break;
      case 3: // drop an attribute
        if (n?.attribute?.length) n.attribute.splice(int(r, n.attribute.length), 1);
        done.push('attr-drop');
        break;
      case 4:
        if (n) n.domain = pick(r, ['com.microsoft', 'ai.onnx', 'ai.onnx.ml', '']);
        done.push('domain');
        break;
      case 5: { // input shape
        const dims = g.input![0]?.type?.tensorType?.shape?.dim;
        if (dims?.length) pick(r, dims).dimValue = pick(r, DIMS);
        done.push('input-dims');
        break;
      }
      case 6: // duplicate initializer
        if (t) inits.splice(int(r, inits.length + 1), 0, onnx.TensorProto.fromObject({ ...onnx.TensorProto.toObject(t as onnxProto.onnx.TensorProto), rawData: t.rawData ? t.rawData.map((v) => v ^ 0x40) : undefined }));
        done.push('dup-init');
        break;
      case 7: { // initializer data
        if (t?.rawData && t.dataType === 1 && t.rawData.length % 4 === 0) {
          // A copy: decoded bytes are views into Node's shared Buffer pool (slice() would not copy).
          const f = new Float32Array(new Uint8Array(t.rawData).buffer);
          const how = int(r, 5);
          for (let i = 0; i < f.length; i++) f[i] = how === 0 ? 0 : how === 1 ? f[i]! * 1e30 : how === 2 ? 1e-40 : how === 3 ? (r() < 0.1 ? NaN : f[i]!) : f[i]! * -1;
          t.rawData = new Uint8Array(f.buffer);
        }
        done.push('init-data');
        break;
      }
      case 8: // initializer dims
        if (t) t.dims = (t.dims ?? []).map((d) => (r() < 0.5 ? pick(r, DIMS) : d));
        done.push('init-dims');
        break;
      case 9:
        if (t) t.dataType = pick(r, [0, 1, 2, 3, 6, 7, 9, 10, 11, 16, 8, 99]);
        done.push('init-type');
        break;
      case 10: // external data
        if (t) {
          t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
          t.externalData = [
            onnx.StringStringEntryProto.fromObject({ key: 'location', value: pick(r, LOCATIONS) }),
            onnx.StringStringEntryProto.fromObject({ key: 'offset', value: String(pick(r, [0, -1, 2 ** 40, 7])) }),
            onnx.StringStringEntryProto.fromObject({ key: 'length', value: String(pick(r, [0, 96, 2 ** 33, -5])) }),
          ];
        }
        done.push('external');
        break;
      case 11:
        if (n) n.opType = pick(r, OPS);
        done.push('op-type');
        break;
      case 12: { // rewire an input
        const names = [...nodes.flatMap((x) => x.output ?? []), ...inits.map((x) => x.name ?? ''), 'input', 'nowhere'];
        if (n?.input?.length) n.input[int(r, n.input.length)] = pick(r, names);
        done.push('rewire');
        break;
      }
      case 13:
        if (nodes.length > 1) nodes.splice(int(r, nodes.length), 1);
        done.push('drop-node');
        break;
      case 14: { // constant-folding bomb multiplied into the first node's input
        const first = nodes[0];
        if (first?.input?.length) {
          const shape = Array.from({ length: 1 + int(r, 3) }, () => pick(r, [1, 2, 1 << 14, 1 << 20, 1 << 28, -3]));
          inits.push(onnx.TensorProto.fromObject(int64Tensor('bomb_shape', [shape.length], shape)));
          const op = pick(r, ['ConstantOfShape', 'Range', 'Expand']);
          if (op === 'Range') {
            inits.push(onnx.TensorProto.fromObject(floatTensor('bomb_s', [], [0])), onnx.TensorProto.fromObject(floatTensor('bomb_l', [], [pick(r, [10, 1e9, Infinity, NaN])])), onnx.TensorProto.fromObject(floatTensor('bomb_d', [], [pick(r, [1, 0, -1, 1e-9])])));
            nodes.unshift(onnx.NodeProto.fromObject({ opType: 'Range', name: 'bomb', input: ['bomb_s', 'bomb_l', 'bomb_d'], output: ['bomb_big'] }));
          } else if (op === 'Expand') {
            inits.push(onnx.TensorProto.fromObject(floatTensor('bomb_one', [1], [1])));
            nodes.unshift(onnx.NodeProto.fromObject({ opType: 'Expand', name: 'bomb', input: ['bomb_one', 'bomb_shape'], output: ['bomb_big'] }));
          } else {
            nodes.unshift(onnx.NodeProto.fromObject({ opType: 'ConstantOfShape', name: 'bomb', input: ['bomb_shape'], output: ['bomb_big'] }));
          }
          nodes.splice(1, 0, onnx.NodeProto.fromObject({ opType: 'ReduceMean', name: 'bomb_mean', input: ['bomb_big'], output: ['bomb_s1'], attribute: [intAttr('keepdims', 0)] }));
          nodes.splice(2, 0, onnx.NodeProto.fromObject({ opType: 'Mul', name: 'bomb_mul', input: [first.input[0]!, 'bomb_s1'], output: ['bomb_x'] }));
          first.input[0] = 'bomb_x';
        }
        done.push('bomb');
        break;
      }
      case 15:
        if (r() < 0.5) g.output!.push(onnx.ValueInfoProto.fromObject({ name: pick(r, ['input', 'extra', nodes[0]?.output?.[0] ?? 'x']) }));
        else if (g.output![0]) g.output![0].name = pick(r, ['input', 'nowhere', nodes[0]?.output?.[0] ?? 'x']);
        done.push('outputs');
        break;
      default:
        if (m.opsetImport?.[0]) m.opsetImport[0].version = pick(r, [1, 4, 5, 7, 10, 11, 13, 18, 99]);
        done.push('opset');
    }
  }
  return done;
}

export function structureCase(seed: Seed, r: Rand): { bytes: Uint8Array; edits: string[] } {
  const m = onnx.ModelProto.decode(seed.bytes);
  const edits = mutateModel(m, r);
  return { bytes: onnx.ModelProto.encode(m).finish(), edits };
}

// ------------------------------------------------------------------ the contract

export type Outcome =
  | { readonly kind: 'refused'; readonly code: string; readonly message: string; readonly phase: 'import' | 'estimate' }
  | { readonly kind: 'bound'; readonly upper: number; readonly lower: number; readonly status: string }
  | { readonly kind: 'failed-status'; readonly lower: number }
  /** A non-LipdpError (the CLI's exit 1). */
  | { readonly kind: 'internal'; readonly message: string; readonly phase: 'import' | 'estimate' }
  /** A LipdpError whose cause is a JS TypeError/RangeError: the importer's catch-all caught a bug. */
  | { readonly kind: 'wrapped'; readonly message: string }
  | { readonly kind: 'multiline'; readonly message: string }
  | { readonly kind: 'below-lower-bound'; readonly upper: number; readonly lower: number };

export const VIOLATIONS: ReadonlySet<Outcome['kind']> = new Set(['internal', 'wrapped', 'multiline', 'below-lower-bound']);

export interface Budgets {
  readonly maxMemoryBytes: number;
  readonly lowerBoundTimeMs: number;
  readonly refineTimeMs: number;
  readonly admmTimeBudgetMs: number;
  readonly maxIter: number;
  readonly lowerBoundSamples: number;
}

export const FAST: Budgets = { maxMemoryBytes: 256 * 1024 ** 2, lowerBoundTimeMs: 300, refineTimeMs: 500, admmTimeBudgetMs: 500, maxIter: 40, lowerBoundSamples: 2 };

function classify(e: unknown, phase: 'import' | 'estimate'): Outcome {
  if (e instanceof LipdpError) {
    if (e.message.includes('\n')) return { kind: 'multiline', message: e.message };
    const cause = (e as { cause?: unknown }).cause;
    // protobufjs reports truncation as RangeError('index out of range'); anything else of these
    // two classes is a JS bug in lipdp that the catch-all turned into "malformed".
    if ((cause instanceof TypeError || cause instanceof RangeError) && !/^index out of range/.test(cause.message)) {
      return { kind: 'wrapped', message: `${e.message}` };
    }
    return { kind: 'refused', code: e.code, message: e.message, phase };
  }
  return { kind: 'internal', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e), phase };
}

/**
 * Run one case in process. `estimate` false stops after the import (the quick suite imports every
 * case and estimates only some).
 */
export async function runCase(bytes: Uint8Array, budgets: Budgets, estimate: boolean): Promise<Outcome> {
  try {
    importOnnxBytes(bytes, { source: 'fuzz.onnx', maxMemoryBytes: budgets.maxMemoryBytes });
  } catch (e) {
    return classify(e, 'import');
  }
  if (!estimate) return { kind: 'bound', upper: NaN, lower: NaN, status: 'not-estimated' };
  try {
    const r = await estimateLipschitz(bytes, { source: 'fuzz.onnx', ...budgets });
    if (r.upperBound === null) return { kind: 'failed-status', lower: r.lowerBound };
    // The lower bound is a max of difference quotients evaluated in f64: allow its rounding.
    if (!(r.upperBound >= r.lowerBound * (1 - 1e-9))) return { kind: 'below-lower-bound', upper: r.upperBound, lower: r.lowerBound };
    return { kind: 'bound', upper: r.upperBound, lower: r.lowerBound, status: r.status };
  } catch (e) {
    return classify(e, 'estimate');
  }
}

export { mulberry32 };
