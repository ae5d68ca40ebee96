/**
 * Attribute schemas of the ops lipdp imports, and the check every live node goes through before
 * the importer reads a single attribute.
 *
 * Why a table: protobuf fills absent fields with zeros, so reading `alpha` of an attribute that was
 * declared INT or STRING used to give 0, and a model could steer the bound (LeakyRelu alpha INT 5
 * read as 0 gave a bound below the model's own constant). Every attribute is therefore checked
 * against the declared type in the table, float attributes must be finite (unless the table says
 * ±Inf has a meaning, as for Clip), integer attributes must lie in the stated range, and an
 * attribute the table does not know is refused: lipdp would ignore it, and ignoring an attribute
 * changes the semantics of the op.
 */
import { LipdpError } from './errors.js';
import { type AttributeProto, type NodeProto, nodeLabel, onnx, toNumber } from './onnx.js';

export type AttrType = 'int' | 'float' | 'ints' | 'floats' | 'string' | 'tensor';

export interface AttrSpec {
  readonly type: AttrType;
  /** Inclusive range for int/ints values (documentation and check). */
  readonly min?: number;
  readonly max?: number;
  /** Allowed string values. */
  readonly oneOf?: readonly string[];
  /** Float attributes: ±Inf is meaningful (Clip bounds, Constant values). NaN is never allowed. */
  readonly infOk?: boolean;
  /** Attribute lipdp reads (or checks) but whose default is the only value it supports. */
  readonly only?: number;
}

type Schema = Readonly<Record<string, AttrSpec>>;

const BOOL: AttrSpec = { type: 'int', min: 0, max: 1 };
const AXIS: AttrSpec = { type: 'int', min: -64, max: 63 };
const AXES: AttrSpec = { type: 'ints', min: -64, max: 63 };
const FINITE: AttrSpec = { type: 'float' };
const AUTO_PAD: AttrSpec = { type: 'string', oneOf: ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] };
/** Spatial extents: a kernel or stride of 2^24 is already far past any image lipdp can analyse. */
const POSITIVE_INTS: AttrSpec = { type: 'ints', min: 1, max: 1 << 24 };
const PADS: AttrSpec = { type: 'ints', min: 0, max: 1 << 24 };
const REDUCE: Schema = { axes: AXES, keepdims: BOOL, noop_with_empty_axes: BOOL };
/** Pre-opset-7 broadcasting flag of the arithmetic ops; `axis` (legacy broadcast axis) is refused. */
const ARITH: Schema = { broadcast: BOOL };
const NONE: Schema = {};

/**
 * Per supported op: attribute name → type and allowed range. Defaults are the ONNX defaults and
 * live where the importer reads them (import.ts, fold.ts); the README's "Hostile input" section
 * summarises the ranges.
 */
export const OP_SCHEMAS: Readonly<Record<string, Schema>> = {
  // Layers.
  Gemm: { alpha: FINITE, beta: FINITE, transA: BOOL, transB: BOOL, broadcast: BOOL },
  MatMul: NONE,
  Conv: { auto_pad: AUTO_PAD, dilations: POSITIVE_INTS, group: { type: 'int', min: 1, max: 1 << 24 }, kernel_shape: POSITIVE_INTS, pads: PADS, strides: POSITIVE_INTS },
  MaxPool: { auto_pad: AUTO_PAD, ceil_mode: BOOL, dilations: POSITIVE_INTS, kernel_shape: POSITIVE_INTS, pads: PADS, storage_order: BOOL, strides: POSITIVE_INTS },
  AveragePool: { auto_pad: AUTO_PAD, ceil_mode: BOOL, count_include_pad: BOOL, dilations: POSITIVE_INTS, kernel_shape: POSITIVE_INTS, pads: PADS, strides: POSITIVE_INTS },
  GlobalAveragePool: NONE,
  GlobalMaxPool: NONE,
  BatchNormalization: {
    epsilon: { type: 'float', min: 0 },
    momentum: FINITE,
    training_mode: { ...BOOL, only: 0 },
    // Opset < 7 spellings: spatial=0 (per-element statistics) would change the op.
    spatial: { type: 'int', min: 1, max: 1 },
    is_test: BOOL,
  },
  Relu: NONE,
  LeakyRelu: { alpha: FINITE },
  Elu: { alpha: FINITE },
  Tanh: NONE,
  Sigmoid: NONE,
  Softplus: NONE,
  PRelu: NONE,
  Identity: NONE,
  Dropout: { ratio: { type: 'float', min: 0, max: 1 }, seed: { type: 'int' }, is_test: BOOL, training_mode: { ...BOOL, only: 0 } },
  Cast: { to: { type: 'int', min: 1, max: 23 }, saturate: BOOL },
  Flatten: { axis: AXIS },
  Reshape: { allowzero: BOOL, shape: { type: 'ints' } },
  Squeeze: { axes: AXES },
  Unsqueeze: { axes: AXES },
  Transpose: { perm: { type: 'ints', min: 0, max: 63 } },
  Pad: { mode: { type: 'string', oneOf: ['constant', 'reflect', 'edge', 'wrap'] }, pads: { type: 'ints', min: -(1 << 24), max: 1 << 24 }, paddings: { type: 'ints', min: -(1 << 24), max: 1 << 24 }, value: FINITE },
  ReduceMean: REDUCE,
  Add: ARITH,
  Sub: ARITH,
  Mul: ARITH,
  Div: ARITH,
  // Constant subgraphs (fold.ts).
  Constant: {
    value: { type: 'tensor' },
    value_float: { type: 'float', infOk: true },
    value_floats: { type: 'floats', infOk: true },
    value_int: { type: 'int' },
    value_ints: { type: 'ints' },
  },
  Shape: { start: { type: 'int' }, end: { type: 'int' } },
  Size: NONE,
  Gather: { axis: AXIS },
  Concat: { axis: AXIS },
  Pow: NONE,
  Max: NONE,
  Min: NONE,
  Sqrt: NONE,
  Neg: NONE,
  Abs: NONE,
  Reciprocal: NONE,
  Exp: NONE,
  Log: NONE,
  Clip: { min: { type: 'float', infOk: true }, max: { type: 'float', infOk: true } },
  ReduceSum: REDUCE,
  ReduceMax: REDUCE,
  ReduceMin: REDUCE,
  ReduceL2: REDUCE,
  ReduceSumSquare: REDUCE,
  Slice: { starts: { type: 'ints' }, ends: { type: 'ints' }, axes: AXES },
  ConstantOfShape: { value: { type: 'tensor' } },
  Expand: NONE,
  Range: NONE,
  Equal: NONE,
  Where: NONE,
};

/** Attributes that carry no semantics in any op (pre-opset-6 bookkeeping). */
const IGNORABLE = new Set(['consumed_inputs']);

const AT = onnx.AttributeProto.AttributeType;
const TYPE_NAMES: Record<number, string> = {
  [AT.UNDEFINED]: 'UNDEFINED', [AT.FLOAT]: 'FLOAT', [AT.INT]: 'INT', [AT.STRING]: 'STRING', [AT.TENSOR]: 'TENSOR',
  [AT.GRAPH]: 'GRAPH', [AT.FLOATS]: 'FLOATS', [AT.INTS]: 'INTS', [AT.STRINGS]: 'STRINGS', [AT.TENSORS]: 'TENSORS',
  [AT.GRAPHS]: 'GRAPHS',
};
const EXPECTED: Record<AttrType, number> = {
  int: AT.INT, float: AT.FLOAT, ints: AT.INTS, floats: AT.FLOATS, string: AT.STRING, tensor: AT.TENSOR,
};

export function attrTypeName(t: number | null | undefined): string {
  return TYPE_NAMES[t ?? 0] ?? `type ${t}`;
}

/** The ONNX attribute type code a schema type is declared as. */
export function attrTypeCode(t: AttrType): number {
  return EXPECTED[t];
}

function bad(node: NodeProto, source: string, why: string): never {
  throw new LipdpError('MALFORMED_MODEL', `node '${nodeLabel(node)}' (${node.opType}) ${why} (${source})`);
}

/** The domains that mean "the standard ONNX operator set". */
export function isDefaultDomain(domain: string | null | undefined): boolean {
  return !domain || domain === 'ai.onnx';
}

/**
 * Check a node's domain and attributes against OP_SCHEMAS. Ops not in the table are left to the
 * importer, which refuses them as unsupported with the op name.
 */
export function checkNodeAttributes(node: NodeProto, source: string): void {
  const op = node.opType ?? '';
  if (!isDefaultDomain(node.domain)) {
    throw new LipdpError('UNSUPPORTED_OP', `op '${op}' of domain '${node.domain}' at node '${nodeLabel(node)}' is not a standard ONNX op (${source})`);
  }
  const schema = OP_SCHEMAS[op];
  if (!schema) return;
  const seen = new Set<string>();
  for (const a of node.attribute ?? []) {
    const name = a.name ?? '';
    if (seen.has(name)) bad(node, source, `has attribute '${name}' twice`);
    seen.add(name);
    if (IGNORABLE.has(name)) continue;
    const spec = schema[name];
    if (!spec) bad(node, source, `has attribute '${name}' that lipdp does not know for ${op}; ignoring it could change the op`);
    checkOne(node, source, a, name, spec);
  }
}

function checkOne(node: NodeProto, source: string, a: AttributeProto, name: string, spec: AttrSpec): void {
  const declared = a.type ?? 0;
  if (declared !== EXPECTED[spec.type]) {
    bad(node, source, `attribute '${name}' is declared ${attrTypeName(declared)}; ${node.opType} needs ${attrTypeName(EXPECTED[spec.type])}`);
  }
  const range = (v: number, what: string) => {
    if (!Number.isFinite(v) || !Number.isInteger(v)) bad(node, source, `attribute '${name}' has ${what} ${v}`);
    if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
      const lo = spec.min ?? '-∞';
      const hi = spec.max ?? '∞';
      bad(node, source, `attribute '${name}' = ${v} is out of range [${lo}, ${hi}]`);
    }
    if (spec.only !== undefined && v !== spec.only) {
      throw new LipdpError('UNSUPPORTED_OP', `node '${nodeLabel(node)}' (${node.opType}): attribute '${name}' = ${v} is not supported (only ${spec.only}) (${source})`);
    }
  };
  const finite = (v: number) => {
    if (Number.isNaN(v) || (!spec.infOk && !Number.isFinite(v))) bad(node, source, `attribute '${name}' is ${v}; it must be a finite number`);
    if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
      bad(node, source, `attribute '${name}' = ${v} is out of range [${spec.min ?? '-∞'}, ${spec.max ?? '∞'}]`);
    }
  };
  switch (spec.type) {
    case 'int':
      range(toNumber(a.i ?? 0), 'value');
      break;
    case 'ints': {
      const v = a.ints ?? [];
      if (v.length > 64) bad(node, source, `attribute '${name}' has ${v.length} entries`);
      for (const x of v) range(toNumber(x), 'entry');
      break;
    }
    case 'float':
      finite(a.f ?? 0);
      break;
    case 'floats':
      for (const x of a.floats ?? []) finite(x);
      break;
    case 'string': {
      const s = new TextDecoder().decode(a.s ?? new Uint8Array(0));
      if (spec.oneOf && !spec.oneOf.includes(s)) bad(node, source, `attribute '${name}' = '${s.slice(0, 40)}' is not one of ${spec.oneOf.join(', ')}`);
      break;
    }
    case 'tensor':
      if (!a.t) bad(node, source, `attribute '${name}' has no tensor`);
      break;
  }
}
