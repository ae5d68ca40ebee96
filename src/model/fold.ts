/**
 * Constant folding: evaluates a node whose inputs are all known constants (initializers, Constant
 * nodes, static shapes). Exporters leave shape arithmetic (Shape/Gather/Concat → Reshape),
 * normalisation constants and parametrisations such as spectral normalisation
 * (W / (uᵀ W v)) in the graph; folding them leaves only the layers themselves for the importer.
 * All arithmetic is Float64 on the stored numbers.
 */
import { LipdpError } from './errors.js';
import { Attrs, type NodeProto, decodeTensor, nodeLabel, onnx, toNumber } from './onnx.js';
import {
  type ConstTensor,
  binaryOp,
  broadcastTo,
  broadcastShape,
  numel,
  strides,
  transpose,
} from './tensor.js';

const DT = onnx.TensorProto.DataType;

export interface FoldContext {
  readonly opset: number;
  readonly source: string;
}

type In = ConstTensor | undefined;

function fail(node: NodeProto, ctx: FoldContext, why: string): never {
  throw new LipdpError(
    'UNSUPPORTED_OP',
    `cannot fold constant op '${node.opType}' at node '${nodeLabel(node)}' (${ctx.source}): ${why}`,
  );
}

function need(node: NodeProto, ctx: FoldContext, inputs: readonly In[], i: number): ConstTensor {
  const t = inputs[i];
  if (!t) fail(node, ctx, `missing input ${i}`);
  return t;
}

function normAxis(a: number, rank: number): number {
  return a < 0 ? a + rank : a;
}

/** Axes from the attribute (older opsets) or from input `idx` (newer opsets). */
function axesOf(node: NodeProto, inputs: readonly In[], idx: number): number[] | undefined {
  const fromAttr = new Attrs(node).ints('axes');
  if (fromAttr) return fromAttr;
  const t = inputs[idx];
  return t ? [...t.data] : undefined;
}

/** Numpy matmul incl. 1-D operands and batch broadcasting. */
export function matmul(a: ConstTensor, b: ConstTensor): ConstTensor | undefined {
  const aDims = a.dims.length === 1 ? [1, a.dims[0]!] : [...a.dims];
  const bDims = b.dims.length === 1 ? [b.dims[0]!, 1] : [...b.dims];
  if (aDims.length < 2 || bDims.length < 2) return undefined;
  const m = aDims[aDims.length - 2]!;
  const k = aDims[aDims.length - 1]!;
  const k2 = bDims[bDims.length - 2]!;
  const n = bDims[bDims.length - 1]!;
  if (k !== k2) return undefined;
  const batch = broadcastShape(aDims.slice(0, -2), bDims.slice(0, -2));
  if (!batch) return undefined;
  const A = broadcastTo({ dims: aDims, data: a.data, isInt: a.isInt }, [...batch, m, k]);
  const B = broadcastTo({ dims: bDims, data: b.data, isInt: b.isInt }, [...batch, k, n]);
  const nb = numel(batch);
  const out = new Float64Array(nb * m * n);
  for (let p = 0; p < nb; p++) {
    const ao = p * m * k;
    const bo = p * k * n;
    const oo = p * m * n;
    for (let i = 0; i < m; i++) {
      for (let l = 0; l < k; l++) {
        const av = A[ao + i * k + l]!;
        if (av === 0) continue;
        for (let j = 0; j < n; j++) out[oo + i * n + j]! += av * B[bo + l * n + j]!;
      }
    }
  }
  let dims = [...batch, m, n];
  // Drop the axes that numpy adds for 1-D operands.
  if (b.dims.length === 1) dims = dims.slice(0, -1);
  if (a.dims.length === 1) dims = dims.length >= 2 ? [...dims.slice(0, -2), dims[dims.length - 1]!] : dims.slice(0, -1);
  return { dims, data: out, isInt: a.isInt && b.isInt };
}

/** Reshape target with ONNX 0 (copy) and -1 (infer) semantics. */
export function reshapeDims(inDims: readonly number[], target: readonly number[], allowzero: boolean): number[] | undefined {
  const out = target.map((d, i) => (d === 0 && !allowzero ? inDims[i]! : d));
  const total = numel(inDims);
  const known = out.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const nInfer = out.filter((d) => d === -1).length;
  if (nInfer > 1) return undefined;
  if (nInfer === 1) {
    if (known === 0 || total % known !== 0) return undefined;
    return out.map((d) => (d === -1 ? total / known : d));
  }
  return known === total ? out : undefined;
}

function reduce(
  node: NodeProto,
  ctx: FoldContext,
  x: ConstTensor,
  axesIn: number[] | undefined,
  init: number,
  step: (acc: number, v: number) => number,
  finish: (acc: number, count: number) => number,
): ConstTensor {
  const at = new Attrs(node);
  const keep = at.int('keepdims', 1) === 1;
  const noopEmpty = at.int('noop_with_empty_axes', 0) === 1;
  const r = x.dims.length;
  let axes = (axesIn ?? []).map((a) => normAxis(a, r));
  if (axes.length === 0) {
    if (noopEmpty) return x;
    axes = x.dims.map((_, i) => i);
  }
  if (axes.some((a) => a < 0 || a >= r)) fail(node, ctx, 'axis out of range');
  const outDimsKeep = x.dims.map((d, i) => (axes.includes(i) ? 1 : d));
  const n = numel(outDimsKeep);
  const acc = new Float64Array(n).fill(init);
  const cnt = numel(x.dims) / Math.max(1, n);
  const oStr = strides(outDimsKeep);
  const idx = new Array<number>(r).fill(0);
  for (let lin = 0; lin < x.data.length; lin++) {
    let o = 0;
    for (let i = 0; i < r; i++) if (!axes.includes(i)) o += idx[i]! * oStr[i]!;
    acc[o] = step(acc[o]!, x.data[lin]!);
    for (let i = r - 1; i >= 0; i--) {
      if (++idx[i]! < x.dims[i]!) break;
      idx[i] = 0;
    }
  }
  for (let i = 0; i < n; i++) acc[i] = finish(acc[i]!, cnt);
  const dims = keep ? outDimsKeep : x.dims.filter((_, i) => !axes.includes(i));
  return { dims, data: acc, isInt: x.isInt };
}

function castTo(x: ConstTensor, to: number): ConstTensor {
  const toFloat = to === DT.FLOAT || to === DT.DOUBLE || to === DT.FLOAT16 || to === DT.BFLOAT16;
  if (toFloat) {
    // f32 targets round like the runtime would; f64 keeps the value.
    const data = to === DT.DOUBLE ? x.data.slice() : Float64Array.from(Float32Array.from(x.data));
    return { dims: x.dims, data, isInt: false };
  }
  const data = to === DT.BOOL ? x.data.map((v) => (v !== 0 ? 1 : 0)) : x.data.map((v) => Math.trunc(v));
  return { dims: x.dims, data, isInt: true };
}

function slice(node: NodeProto, ctx: FoldContext, inputs: readonly In[]): ConstTensor {
  const x = need(node, ctx, inputs, 0);
  const at = new Attrs(node);
  const starts = at.ints('starts') ?? [...need(node, ctx, inputs, 1).data];
  const ends = at.ints('ends') ?? [...need(node, ctx, inputs, 2).data];
  const axes = at.ints('axes') ?? (inputs[3] ? [...inputs[3].data] : starts.map((_, i) => i));
  const steps = inputs[4] ? [...inputs[4].data] : starts.map(() => 1);
  const r = x.dims.length;
  const lo = x.dims.map(() => 0);
  const hi = [...x.dims];
  const st = x.dims.map(() => 1);
  axes.forEach((a0, i) => {
    const a = normAxis(a0, r);
    const d = x.dims[a]!;
    const s = steps[i]!;
    if (s <= 0) fail(node, ctx, 'only positive slice steps are supported');
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    lo[a] = clamp(starts[i]!);
    hi[a] = clamp(ends[i]!);
    st[a] = s;
  });
  const outDims = x.dims.map((_, i) => Math.max(0, Math.ceil((hi[i]! - lo[i]!) / st[i]!)));
  const inStr = strides(x.dims);
  const out = new Float64Array(numel(outDims));
  const idx = new Array<number>(r).fill(0);
  for (let lin = 0; lin < out.length; lin++) {
    let o = 0;
    for (let i = 0; i < r; i++) o += (lo[i]! + idx[i]! * st[i]!) * inStr[i]!;
    out[lin] = x.data[o]!;
    for (let i = r - 1; i >= 0; i--) {
      if (++idx[i]! < outDims[i]!) break;
      idx[i] = 0;
    }
  }
  return { dims: outDims, data: out, isInt: x.isInt };
}

function gather(node: NodeProto, ctx: FoldContext, x: ConstTensor, ind: ConstTensor): ConstTensor {
  const r = x.dims.length;
  const axis = normAxis(new Attrs(node).int('axis', 0), r);
  if (axis < 0 || axis >= r) fail(node, ctx, 'axis out of range');
  const outer = numel(x.dims.slice(0, axis));
  const inner = numel(x.dims.slice(axis + 1));
  const d = x.dims[axis]!;
  const k = ind.data.length;
  const out = new Float64Array(outer * k * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      let ix = ind.data[j]!;
      if (ix < 0) ix += d;
      if (ix < 0 || ix >= d) fail(node, ctx, `index ${ind.data[j]} out of range`);
      for (let i = 0; i < inner; i++) out[(o * k + j) * inner + i] = x.data[(o * d + ix) * inner + i]!;
    }
  }
  const dims = [...x.dims.slice(0, axis), ...ind.dims, ...x.dims.slice(axis + 1)];
  return { dims, data: out, isInt: x.isInt };
}

function concat(node: NodeProto, ctx: FoldContext, parts: ConstTensor[]): ConstTensor {
  const r = parts[0]!.dims.length;
  const axis = normAxis(new Attrs(node).int('axis', 0), r);
  const outer = numel(parts[0]!.dims.slice(0, axis));
  const inner = numel(parts[0]!.dims.slice(axis + 1));
  let total = 0;
  for (const p of parts) {
    if (p.dims.length !== r || p.dims.some((d, i) => i !== axis && d !== parts[0]!.dims[i])) {
      fail(node, ctx, 'inputs have incompatible shapes');
    }
    total += p.dims[axis]!;
  }
  const out = new Float64Array(outer * total * inner);
  let off = 0;
  for (const p of parts) {
    const d = p.dims[axis]!;
    for (let o = 0; o < outer; o++) {
      out.set(p.data.subarray(o * d * inner, (o + 1) * d * inner), (o * total + off) * inner);
    }
    off += d;
  }
  const dims = [...parts[0]!.dims];
  dims[axis] = total;
  return { dims, data: out, isInt: parts.every((p) => p.isInt) };
}

/** perm holds each of 0..rank-1 exactly once. */
export function isPermutation(perm: readonly number[], rank: number): boolean {
  return perm.length === rank && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
}

function unaryMap(x: ConstTensor, f: (v: number) => number): ConstTensor {
  return { dims: x.dims, data: x.data.map(f), isInt: x.isInt };
}

/**
 * Evaluate one node on constant inputs (`undefined` for an absent optional input). Returns the
 * node's outputs in order. Throws UNSUPPORTED_OP for ops it does not know.
 */
export function foldNode(node: NodeProto, inputs: readonly In[], ctx: FoldContext): ConstTensor[] {
  const op = node.opType ?? '';
  const at = new Attrs(node);
  const x = () => need(node, ctx, inputs, 0);
  const y = () => need(node, ctx, inputs, 1);
  const bin = (f: (a: number, b: number) => number, intResult?: boolean) => {
    const a = x();
    const b = y();
    const isInt = intResult ?? (a.isInt && b.isInt);
    const r = binaryOp(a, b, f, isInt);
    if (!r) fail(node, ctx, `shapes [${a.dims}] and [${b.dims}] do not broadcast`);
    return [r];
  };
  switch (op) {
    case 'Constant': {
      const t = at.tensor('value');
      if (t) return [decodeTensor(t, `constant of node '${nodeLabel(node)}'`)];
      if (at.has('value_float')) return [{ dims: [], data: Float64Array.of(at.float('value_float', 0)), isInt: false }];
      if (at.has('value_floats')) {
        const v = at.floats('value_floats')!;
        return [{ dims: [v.length], data: Float64Array.from(v), isInt: false }];
      }
      if (at.has('value_int')) return [{ dims: [], data: Float64Array.of(at.int('value_int', 0)), isInt: true }];
      if (at.has('value_ints')) {
        const v = at.ints('value_ints')!;
        return [{ dims: [v.length], data: Float64Array.from(v), isInt: true }];
      }
      return fail(node, ctx, 'unsupported Constant attribute');
    }
    case 'Identity':
    case 'Dropout':
      return [x()];
    case 'Shape': {
      const d = x().dims;
      const r = d.length;
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
      const s = clamp(at.int('start', 0));
      const e = clamp(at.int('end', r));
      const dims = d.slice(s, e);
      return [{ dims: [dims.length], data: Float64Array.from(dims), isInt: true }];
    }
    case 'Size':
      return [{ dims: [], data: Float64Array.of(x().data.length), isInt: true }];
    case 'Gather':
      return [gather(node, ctx, x(), y())];
    case 'Unsqueeze': {
      const t = x();
      const axes = axesOf(node, inputs, 1) ?? fail(node, ctx, 'no axes');
      const r = t.dims.length + axes.length;
      const ax = axes.map((a) => normAxis(a, r)).sort((a, b) => a - b);
      const dims = [...t.dims];
      for (const a of ax) dims.splice(a, 0, 1);
      return [{ dims, data: t.data, isInt: t.isInt }];
    }
    case 'Squeeze': {
      const t = x();
      const axes = axesOf(node, inputs, 1);
      const ax = axes ? axes.map((a) => normAxis(a, t.dims.length)) : t.dims.flatMap((d, i) => (d === 1 ? [i] : []));
      return [{ dims: t.dims.filter((_, i) => !ax.includes(i)), data: t.data, isInt: t.isInt }];
    }
    case 'Flatten': {
      const t = x();
      const axis = normAxis(at.int('axis', 1), t.dims.length);
      return [{ dims: [numel(t.dims.slice(0, axis)), numel(t.dims.slice(axis))], data: t.data, isInt: t.isInt }];
    }
    case 'Concat':
      return [concat(node, ctx, inputs.map((t, i) => t ?? need(node, ctx, inputs, i)))];
    case 'Reshape': {
      const t = x();
      const target = ctx.opset < 5 ? at.ints('shape') ?? [] : [...y().data];
      const dims = reshapeDims(t.dims, target, at.int('allowzero', 0) === 1);
      if (!dims) fail(node, ctx, `cannot reshape [${t.dims}] to [${target}]`);
      return [{ dims, data: t.data, isInt: t.isInt }];
    }
    case 'Transpose': {
      const t = x();
      const perm = at.ints('perm') ?? t.dims.map((_, i) => t.dims.length - 1 - i);
      if (!isPermutation(perm, t.dims.length)) fail(node, ctx, `perm [${perm}] is not a permutation of the ${t.dims.length} axes`);
      return [transpose(t, perm)];
    }
    case 'MatMul': {
      const r = matmul(x(), y());
      if (!r) fail(node, ctx, `shapes [${x().dims}] and [${y().dims}] do not multiply`);
      return [r];
    }
    case 'Gemm': {
      let a: ConstTensor = x();
      let b: ConstTensor = y();
      if (at.int('transA', 0)) a = transpose(a, [1, 0]);
      if (at.int('transB', 0)) b = transpose(b, [1, 0]);
      const ab = matmul(a, b) ?? fail(node, ctx, 'shapes do not multiply');
      const alpha = at.float('alpha', 1);
      const beta = at.float('beta', 1);
      const c = inputs[2];
      const scaled = unaryMap(ab, (v) => alpha * v);
      if (!c) return [scaled];
      const r = binaryOp(scaled, c, (p, q) => p + beta * q, false) ?? fail(node, ctx, 'bias does not broadcast');
      return [r];
    }
    case 'Add':
      return bin((a, b) => a + b);
    case 'Sub':
      return bin((a, b) => a - b);
    case 'Mul':
      return bin((a, b) => a * b);
    case 'Div': {
      const isInt = x().isInt && y().isInt;
      return bin(isInt ? (a, b) => Math.trunc(a / b) : (a, b) => a / b, isInt);
    }
    case 'Pow':
      return bin((a, b) => a ** b, x().isInt);
    case 'Max':
    case 'Min': {
      let acc = x();
      for (let i = 1; i < inputs.length; i++) {
        const f = op === 'Max' ? Math.max : Math.min;
        acc = binaryOp(acc, need(node, ctx, inputs, i), f, acc.isInt) ?? fail(node, ctx, 'shapes do not broadcast');
      }
      return [acc];
    }
    case 'Sqrt':
      return [unaryMap(x(), Math.sqrt)];
    case 'Neg':
      return [unaryMap(x(), (v) => -v)];
    case 'Abs':
      return [unaryMap(x(), Math.abs)];
    case 'Reciprocal':
      return [unaryMap(x(), (v) => 1 / v)];
    case 'Exp':
      return [unaryMap(x(), Math.exp)];
    case 'Log':
      return [unaryMap(x(), Math.log)];
    case 'Relu':
      return [unaryMap(x(), (v) => Math.max(v, 0))];
    case 'Clip': {
      const lo = at.has('min') ? at.float('min', -Infinity) : inputs[1]?.data[0] ?? -Infinity;
      const hi = at.has('max') ? at.float('max', Infinity) : inputs[2]?.data[0] ?? Infinity;
      return [unaryMap(x(), (v) => Math.min(Math.max(v, lo), hi))];
    }
    case 'Cast':
      return [castTo(x(), at.int('to', DT.FLOAT))];
    case 'ReduceSum':
      return [reduce(node, ctx, x(), axesOf(node, inputs, 1), 0, (a, v) => a + v, (a) => a)];
    case 'ReduceMean':
      return [reduce(node, ctx, x(), axesOf(node, inputs, 1), 0, (a, v) => a + v, (a, n) => a / n)];
    case 'ReduceMax':
      return [reduce(node, ctx, x(), axesOf(node, inputs, 1), -Infinity, Math.max, (a) => a)];
    case 'ReduceMin':
      return [reduce(node, ctx, x(), axesOf(node, inputs, 1), Infinity, Math.min, (a) => a)];
    case 'ReduceL2':
      return [reduce(node, ctx, x(), axesOf(node, inputs, 1), 0, (a, v) => a + v * v, (a) => Math.sqrt(a))];
    case 'ReduceSumSquare':
      return [reduce(node, ctx, x(), axesOf(node, inputs, 1), 0, (a, v) => a + v * v, (a) => a)];
    case 'Slice':
      return [slice(node, ctx, inputs)];
    case 'ConstantOfShape': {
      const shape = [...x().data];
      const v = at.tensor('value');
      const fillT = v ? decodeTensor(v, `value of node '${nodeLabel(node)}'`) : undefined;
      const fill = fillT ? fillT.data[0] ?? 0 : 0;
      return [{ dims: shape, data: new Float64Array(numel(shape)).fill(fill), isInt: fillT?.isInt ?? false }];
    }
    case 'Expand': {
      const t = x();
      const shape = [...y().data];
      const dims = broadcastShape(t.dims, shape) ?? fail(node, ctx, 'shape does not broadcast');
      return [{ dims, data: broadcastTo(t, dims), isInt: t.isInt }];
    }
    case 'Range': {
      const [s, l, d] = [x().data[0]!, y().data[0]!, need(node, ctx, inputs, 2).data[0]!];
      const n = Math.max(Math.ceil((l - s) / d), 0);
      return [{ dims: [n], data: Float64Array.from({ length: n }, (_, i) => s + i * d), isInt: x().isInt }];
    }
    case 'Equal':
      return bin((a, b) => (a === b ? 1 : 0), true);
    case 'Where': {
      const c = x();
      const a = y();
      const b = need(node, ctx, inputs, 2);
      const dims = broadcastShape(broadcastShape(c.dims, a.dims) ?? fail(node, ctx, 'shapes'), b.dims) ?? fail(node, ctx, 'shapes');
      const C = broadcastTo(c, dims);
      const A = broadcastTo(a, dims);
      const B = broadcastTo(b, dims);
      return [{ dims, data: C.map((v, i) => (v !== 0 ? A[i]! : B[i]!)), isInt: a.isInt && b.isInt }];
    }
    default:
      return fail(node, ctx, 'op not supported in constant subgraphs');
  }
}

/** What folding one node will allocate and compute, found from the input shapes alone. */
export interface FoldCost {
  /** Float64 elements of the outputs and of the temporaries the op builds (broadcast copies). */
  readonly elements: number;
  /** Multiply-adds (MatMul/Gemm); 0 for the linear-time ops. */
  readonly multiplyAdds: number;
}

function shapeFromData(node: NodeProto, ctx: FoldContext, t: ConstTensor, what: string): number[] {
  const dims = [...t.data];
  if (dims.length > 64 || dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new LipdpError('MALFORMED_MODEL', `node '${nodeLabel(node)}' (${node.opType}): ${what} [${dims.slice(0, 8).join(',')}${dims.length > 8 ? ',…' : ''}] is not a valid shape (${ctx.source})`);
  }
  return dims;
}

/**
 * The cost of foldNode(node, inputs) before running it, so the memory plan can refuse a
 * ConstantOfShape([2^31]) or a Range(0, 1e9) before a byte is allocated. Errs on the generous side
 * (every broadcast copy counted); ops that only relabel shapes cost nothing.
 */
export function foldCost(node: NodeProto, inputs: readonly In[], ctx: FoldContext): FoldCost {
  const op = node.opType ?? '';
  const size = (t: In) => (t ? t.data.length : 0);
  const lin = (elements: number): FoldCost => ({ elements, multiplyAdds: 0 });
  switch (op) {
    case 'Identity': case 'Dropout': case 'Reshape': case 'Squeeze': case 'Unsqueeze': case 'Flatten':
      return lin(0);
    case 'Shape': case 'Size':
      return lin(64);
    case 'Constant': {
      const at = new Attrs(node);
      const t = at.tensor('value');
      if (t) return lin(numel((t.dims ?? []).map(toNumber)));
      return lin(1 + (at.has('value_floats') ? at.floats('value_floats')!.length : 0) + (at.has('value_ints') ? at.ints('value_ints')!.length : 0));
    }
    case 'ConstantOfShape':
      return lin(numel(shapeFromData(node, ctx, need(node, ctx, inputs, 0), 'shape')));
    case 'Expand': {
      const t = need(node, ctx, inputs, 0);
      const dims = broadcastShape(t.dims, shapeFromData(node, ctx, need(node, ctx, inputs, 1), 'shape')) ?? fail(node, ctx, 'shape does not broadcast');
      return lin(numel(dims));
    }
    case 'Range': {
      const [s, l, d] = [0, 1, 2].map((i) => need(node, ctx, inputs, i).data[0]);
      if (![s, l, d].every((v) => v !== undefined && Number.isFinite(v)) || d === 0) {
        fail(node, ctx, `start ${s}, limit ${l}, delta ${d} do not define a finite range`);
      }
      return lin(Math.max(Math.ceil((l! - s!) / d!), 0));
    }
    case 'MatMul': case 'Gemm': {
      const a = need(node, ctx, inputs, 0);
      const b = need(node, ctx, inputs, 1);
      const ad = a.dims.length === 1 ? [1, a.dims[0]!] : [...a.dims];
      const bd = b.dims.length === 1 ? [b.dims[0]!, 1] : [...b.dims];
      if (ad.length < 2 || bd.length < 2) return lin(size(a) + size(b));
      const batch = broadcastShape(ad.slice(0, -2), bd.slice(0, -2)) ?? [];
      const nb = numel(batch);
      const [m, k, n] = [ad[ad.length - 2]!, ad[ad.length - 1]!, bd[bd.length - 1]!];
      const out = nb * m * n;
      return { elements: 2 * size(a) + 2 * size(b) + nb * (m * k + k * n) + 3 * out + size(inputs[2]), multiplyAdds: nb * m * k * n };
    }
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Pow': case 'Max': case 'Min': case 'Equal': case 'Where': {
      const present = inputs.filter((t): t is ConstTensor => t !== undefined);
      let dims: number[] | undefined = present[0] ? [...present[0].dims] : [];
      for (const t of present.slice(1)) dims = dims && broadcastShape(dims, t.dims);
      if (!dims) return lin(0); // foldNode reports the mismatch
      // One broadcast copy per operand plus the result, for each pairwise step.
      return lin(numel(dims) * (present.length + 1) * Math.max(1, present.length - 1));
    }
    case 'Concat':
      return lin(inputs.reduce((s, t) => s + size(t), 0));
    case 'Gather': {
      const x = need(node, ctx, inputs, 0);
      const ind = need(node, ctx, inputs, 1);
      const axisDim = x.dims[normAxis(new Attrs(node).int('axis', 0), x.dims.length)] ?? 1;
      return lin(axisDim > 0 ? (size(x) / axisDim) * size(ind) : 0);
    }
    default:
      // Unary maps, Transpose, Cast, Slice, reductions, Clip: at most the size of the first input.
      return lin(2 * size(inputs[0]));
  }
}
