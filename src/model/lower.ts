/**
 * Lowering of a fully connected Network to the FcChain the LMIs use:
 * y = W_ℓ φ(… φ(W_1 x + b_1) …) + b_ℓ. Every run of linear layers between two activations is
 * multiplied out into one affine map (dense·dense, scale/shift, flatten permutations), exactly in
 * f64. Conv, pooling and residual layers are not chains of this form: they are rejected here and
 * handled by src/realize.
 */
import { LipdpError, isLipdpError } from './errors.js';
import type { FcChain, FcChainLayer, Layer, Matrix, Network } from './ir.js';
import { activationValue as activationOf } from './kernels/activation.js';
import { flattenIndex } from './kernels/affine.js';
import { type ValueShape, layerInputShape, layerOutputShape, sizeOf } from './shapes.js';

/** Affine map x ↦ A x + c; A undefined means the identity (kept implicit to avoid n×n work). */
interface Affine {
  A: Matrix | undefined;
  c: Float64Array;
  /** Input dimension of the map (columns of A). */
  readonly n: number;
}

function identityMatrix(n: number): Matrix {
  const data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) data[i * n + i] = 1;
  return { rows: n, cols: n, data };
}

/** W · A for W (r × m), A (m × n). */
function matMul(W: Matrix, A: Matrix): Matrix {
  const { rows: r, cols: m } = W;
  const n = A.cols;
  const out = new Float64Array(r * n);
  for (let i = 0; i < r; i++) {
    for (let k = 0; k < m; k++) {
      const w = W.data[i * m + k]!;
      if (w === 0) continue;
      const ao = k * n;
      const oo = i * n;
      for (let j = 0; j < n; j++) out[oo + j] += w * A.data[ao + j]!;
    }
  }
  return { rows: r, cols: n, data: out };
}

function matVecAdd(W: Matrix, x: Float64Array, b: Float64Array): Float64Array {
  const y = Float64Array.from(b);
  for (let i = 0; i < W.rows; i++) {
    let acc = 0;
    for (let j = 0; j < W.cols; j++) acc += W.data[i * W.cols + j]! * x[j]!;
    y[i] += acc;
  }
  return y;
}

/** Apply y ↦ D y + t (D diagonal) after the map. */
function scaleRows(f: Affine, d: Float64Array, t: Float64Array): void {
  const m = d.length;
  const A = f.A ?? identityMatrix(f.n);
  const data = new Float64Array(A.data);
  for (let i = 0; i < m; i++) for (let j = 0; j < A.cols; j++) data[i * A.cols + j]! *= d[i]!;
  f.A = { rows: A.rows, cols: A.cols, data };
  f.c = f.c.map((v, i) => d[i]! * v + t[i]!);
}

/** Apply the permutation y[perm[k]] = x[k] after the map. */
function permuteRows(f: Affine, perm: Int32Array): void {
  const A = f.A ?? identityMatrix(f.n);
  const data = new Float64Array(A.data.length);
  const c = new Float64Array(f.c.length);
  for (let k = 0; k < perm.length; k++) {
    const p = perm[k]!;
    data.set(A.data.subarray(k * A.cols, (k + 1) * A.cols), p * A.cols);
    c[p] = f.c[k]!;
  }
  f.A = { rows: A.rows, cols: A.cols, data };
  f.c = c;
}

function reject(layer: Layer, net: Network): never {
  throw new LipdpError(
    'UNSUPPORTED_STRUCTURE',
    `layer '${layer.name}' (${layer.kind}) of '${net.source}' is not part of a fully connected chain; convolutional and residual networks go through src/realize`,
  );
}

export function toFcChain(net: Network): FcChain {
  let shape: ValueShape = layerInputShape(net);
  const inputSize = sizeOf(shape);
  const out: FcChainLayer[] = [];
  let f: Affine = { A: undefined, c: new Float64Array(inputSize), n: inputSize };

  const emit = (activation?: FcChainLayer['activation']) => {
    const W = f.A ?? identityMatrix(f.n);
    out.push(activation ? { W, bias: f.c, activation } : { W, bias: f.c });
    const n = W.rows;
    f = { A: undefined, c: new Float64Array(n), n };
  };

  for (const layer of net.layers) {
    const next = layerOutputShape(layer, shape);
    switch (layer.kind) {
      case 'dense': {
        const A = f.A ? matMul(layer.W, f.A) : layer.W;
        f = { A, c: matVecAdd(layer.W, f.c, layer.bias), n: f.n };
        break;
      }
      case 'scaleshift': {
        // Expand per-channel entries to per-element ones in CHW order.
        const n = sizeOf(shape);
        const per = layer.broadcast === 'channel' ? n / layer.scale.length : 1;
        const d = Float64Array.from({ length: n }, (_, k) => layer.scale[Math.floor(k / per)]!);
        const t = Float64Array.from({ length: n }, (_, k) => layer.shift[Math.floor(k / per)]!);
        scaleRows(f, d, t);
        break;
      }
      case 'flatten':
        // NCHW flatten keeps the flat order; NHWC is a permutation, the identity when C = 1.
        if (layer.order === 'NHWC' && layer.inShape[0] !== 1) permuteRows(f, flattenIndex(layer));
        break;
      case 'activation':
        emit({ fn: layer.fn, slope: layer.slope, ...(layer.param !== undefined ? { param: layer.param } : {}) });
        break;
      default:
        reject(layer, net);
    }
    shape = next;
  }
  // The last layer carries no activation; after a trailing activation this appends identity.
  emit();
  return { inputSize, layers: out };
}

/** The fully connected chain of `net`, or null when it is not one (convolutions, pooling, residual blocks). */
export function fcChainOrNull(net: Network): FcChain | null {
  try {
    return toFcChain(net);
  } catch (e) {
    if (isLipdpError(e) && e.code === 'UNSUPPORTED_STRUCTURE') return null;
    throw e;
  }
}

/**
 * The chain as a network of dense and activation layers (the stage chain's input: each dense
 * layer with the activation after it becomes one dense stage). Biases are kept for evaluation;
 * they do not enter any bound.
 */
export function chainNetwork(chain: FcChain, source: string): Network {
  const layers: Layer[] = [];
  chain.layers.forEach((l, k) => {
    layers.push({ kind: 'dense', W: l.W, bias: l.bias, name: `dense_${k}` });
    const a = l.activation;
    if (a) layers.push({ kind: 'activation', fn: a.fn, slope: a.slope, name: `activation_${k}`, ...(a.param !== undefined ? { param: a.param } : {}) });
  });
  return { inputShape: [chain.inputSize], layers, outputSize: chain.layers[chain.layers.length - 1]!.W.rows, source };
}

/** Evaluate an FcChain (for tests and quick checks). */
export function fcChainForward(chain: FcChain, x: Float64Array): Float64Array {
  let cur = x;
  for (const l of chain.layers) {
    cur = matVecAdd(l.W, cur, l.bias);
    if (l.activation) {
      const a = l.activation;
      cur = cur.map((v) => activationOf(a.fn, a.param, v));
    }
  }
  return cur;
}
