/** Dense layers, scale/shift and flatten (an index permutation for NHWC order). */
import type { DenseLayer, FlattenLayer, Matrix, ScaleShiftLayer } from '../ir.js';
import type { ValueShape } from '../shapes.js';

export function matVec(W: Matrix, x: Float64Array): Float64Array {
  const y = new Float64Array(W.rows);
  const { cols, data } = W;
  for (let i = 0; i < W.rows; i++) {
    let acc = 0;
    const o = i * cols;
    for (let j = 0; j < cols; j++) acc += data[o + j]! * x[j]!;
    y[i] = acc;
  }
  return y;
}

export function matTVec(W: Matrix, g: Float64Array): Float64Array {
  const x = new Float64Array(W.cols);
  const { cols, data } = W;
  for (let i = 0; i < W.rows; i++) {
    const gi = g[i]!;
    if (gi === 0) continue;
    const o = i * cols;
    for (let j = 0; j < cols; j++) x[j] += data[o + j]! * gi;
  }
  return x;
}

export function denseForward(l: DenseLayer, x: Float64Array): Float64Array {
  const y = matVec(l.W, x);
  for (let i = 0; i < y.length; i++) y[i] += l.bias[i]!;
  return y;
}

/** Per-element scale of a scaleshift layer for a value of shape s (channel → element). */
function entryIndex(l: ScaleShiftLayer, s: ValueShape): (k: number) => number {
  if (l.broadcast === 'element') return (k) => k;
  const hw = s.length === 3 ? s[1] * s[2] : 1;
  return (k) => Math.floor(k / hw);
}

export function scaleShiftForward(l: ScaleShiftLayer, s: ValueShape, x: Float64Array): Float64Array {
  const at = entryIndex(l, s);
  const y = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) {
    const j = at(k);
    y[k] = l.scale[j]! * x[k]! + l.shift[j]!;
  }
  return y;
}

/** Linear part of scaleshift; it is diagonal, so also its own adjoint. */
export function scaleShiftLinear(l: ScaleShiftLayer, s: ValueShape, t: Float64Array): Float64Array {
  const at = entryIndex(l, s);
  const y = new Float64Array(t.length);
  for (let k = 0; k < t.length; k++) y[k] = l.scale[at(k)]! * t[k]!;
  return y;
}

/**
 * Flat output position of each CHW input element: NCHW keeps the order, NHWC moves channel to
 * the fastest axis: (c, h, w) → (h·W + w)·C + c.
 */
export function flattenIndex(l: FlattenLayer): Int32Array {
  const [C, H, W] = l.inShape;
  const idx = new Int32Array(C * H * W);
  for (let c = 0; c < C; c++) {
    for (let p = 0; p < H * W; p++) idx[c * H * W + p] = l.order === 'NCHW' ? c * H * W + p : p * C + c;
  }
  return idx;
}

export function flattenForward(l: FlattenLayer, x: Float64Array): Float64Array {
  if (l.order === 'NCHW') return x.slice();
  const idx = flattenIndex(l);
  const y = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) y[idx[k]!] = x[k]!;
  return y;
}

export function flattenAdjoint(l: FlattenLayer, g: Float64Array): Float64Array {
  if (l.order === 'NCHW') return g.slice();
  const idx = flattenIndex(l);
  const x = new Float64Array(g.length);
  for (let k = 0; k < g.length; k++) x[k] = g[idx[k]!]!;
  return x;
}
