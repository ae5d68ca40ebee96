/**
 * Constant tensors as the importer handles them: every element widened to Float64 (int64 shape
 * values are exact up to 2^53, far beyond any shape), plus whether the ONNX type was integral so
 * that integer Div/Cast behave as ONNX says.
 */
export interface ConstTensor {
  readonly dims: readonly number[];
  readonly data: Float64Array;
  readonly isInt: boolean;
}

export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function makeTensor(dims: readonly number[], data: Float64Array, isInt = false): ConstTensor {
  if (numel(dims) !== data.length) {
    throw new Error(`tensor data length ${data.length} does not match shape [${dims.join(',')}]`);
  }
  return { dims: [...dims], data, isInt };
}

export function scalar(v: number, isInt = false): ConstTensor {
  return { dims: [], data: Float64Array.of(v), isInt };
}

/** Row-major strides of a shape. */
export function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

/** Numpy broadcast of two shapes; undefined if they are incompatible. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | undefined {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Expand a tensor to a (broadcast-compatible, not smaller) shape. */
export function broadcastTo(t: ConstTensor, dims: readonly number[]): Float64Array {
  const n = numel(dims);
  const out = new Float64Array(n);
  const r = dims.length;
  const tStr = strides(t.dims);
  // Stride 0 along broadcast axes.
  const src = new Array<number>(r).fill(0);
  for (let i = 0; i < r; i++) {
    const k = t.dims.length - r + i;
    if (k >= 0 && t.dims[k] !== 1) src[i] = tStr[k]!;
  }
  const idx = new Array<number>(r).fill(0);
  let off = 0;
  for (let lin = 0; lin < n; lin++) {
    out[lin] = t.data[off]!;
    for (let i = r - 1; i >= 0; i--) {
      idx[i]!++;
      off += src[i]!;
      if (idx[i]! < dims[i]!) break;
      off -= src[i]! * dims[i]!;
      idx[i] = 0;
    }
  }
  return out;
}

/** Elementwise binary op with numpy broadcasting. */
export function binaryOp(
  a: ConstTensor,
  b: ConstTensor,
  f: (x: number, y: number) => number,
  isInt: boolean,
): ConstTensor | undefined {
  const dims = broadcastShape(a.dims, b.dims);
  if (!dims) return undefined;
  const x = broadcastTo(a, dims);
  const y = broadcastTo(b, dims);
  const out = new Float64Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = f(x[i]!, y[i]!);
  return { dims, data: out, isInt };
}

/** Transpose by a permutation of axes. */
export function transpose(t: ConstTensor, perm: readonly number[]): ConstTensor {
  const r = t.dims.length;
  const outDims = perm.map((p) => t.dims[p]!);
  const inStr = strides(t.dims);
  const src = perm.map((p) => inStr[p]!);
  const n = t.data.length;
  const out = new Float64Array(n);
  const idx = new Array<number>(r).fill(0);
  let off = 0;
  for (let lin = 0; lin < n; lin++) {
    out[lin] = t.data[off]!;
    for (let i = r - 1; i >= 0; i--) {
      idx[i]!++;
      off += src[i]!;
      if (idx[i]! < outDims[i]!) break;
      off -= src[i]! * outDims[i]!;
      idx[i] = 0;
    }
  }
  return { dims: outDims, data: out, isInt: t.isInt };
}

export function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}

/** First non-finite entry, for messages. */
export function firstNonFinite(a: ArrayLike<number>): number | undefined {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return a[i];
  return undefined;
}
