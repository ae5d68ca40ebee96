/**
 * Float64 evaluation of a Network: forward pass, Jacobian-vector products (jvp) and
 * vector-Jacobian products (vjp, the gradient of ⟨v, f(x)⟩). The empirical lower bound on the
 * Lipschitz constant (power iteration on JᵀJ) is built from these, and the importer regression
 * tests use `forward` against reference logits.
 *
 * Inputs and input gradients are in the graph's input layout (HWC when the network records an
 * NHWC input permutation); the layers themselves see CHW maps.
 */
import { LipdpError } from './errors.js';
import type { Layer, Network } from './ir.js';
import { activationDerivative, activationValue } from './kernels/activation.js';
import { denseForward, flattenAdjoint, flattenForward, matTVec, matVec, scaleShiftForward, scaleShiftLinear } from './kernels/affine.js';
import { convAdjoint, convForward, convLinear } from './kernels/conv.js';
import { conv1dAdjoint, conv1dForward, conv1dLinear, ssmAdjoint, ssmForward, ssmLinear } from './kernels/oned.js';
import {
  avgPoolAdjoint,
  globalAvgPoolAdjoint,
  globalAvgPoolForward,
  maxPoolArgmax,
  padAdjoint,
  padForward,
  poolForward,
} from './kernels/pool.js';
import { type MapShape, type SignalShape, type ValueShape, chainShapes, layerInputShape, sizeOf } from './shapes.js';

function asMap(s: ValueShape): MapShape {
  return s as MapShape;
}

function asSignal(s: ValueShape): SignalShape {
  return s as SignalShape;
}

/** One layer's forward map on a value of shape s. */
export function layerForward(layer: Layer, s: ValueShape, x: Float64Array): Float64Array {
  switch (layer.kind) {
    case 'conv1d':
      return conv1dForward(layer, asSignal(s), x);
    case 'ssm':
      return ssmForward(layer, asSignal(s), x);
    case 'dense':
      return denseForward(layer, x);
    case 'activation': {
      const y = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) y[i] = activationValue(layer.fn, layer.param, x[i]!);
      return y;
    }
    case 'scaleshift':
      return scaleShiftForward(layer, s, x);
    case 'flatten':
      return flattenForward(layer, x);
    case 'conv2d':
      return convForward(layer, asMap(s), x);
    case 'maxpool':
    case 'avgpool':
      return poolForward(layer, asMap(s), x);
    case 'globalavgpool':
      return globalAvgPoolForward(layer, asMap(s), x);
    case 'pad':
      return padForward(layer, asMap(s), x);
    case 'residual': {
      const a = chainForward(layer.branch, s, x);
      const b = chainForward(layer.shortcut, s, x);
      for (let i = 0; i < a.length; i++) a[i] += b[i]!;
      return a;
    }
  }
}

/** Directional derivative of one layer at input x along t. */
export function layerJvp(layer: Layer, s: ValueShape, x: Float64Array, t: Float64Array): Float64Array {
  switch (layer.kind) {
    case 'conv1d':
      return conv1dLinear(layer, asSignal(s), t);
    case 'ssm':
      return ssmLinear(layer, asSignal(s), t);
    case 'dense':
      return matVec(layer.W, t);
    case 'activation': {
      const y = new Float64Array(t.length);
      for (let i = 0; i < t.length; i++) y[i] = activationDerivative(layer.fn, layer.param, x[i]!) * t[i]!;
      return y;
    }
    case 'scaleshift':
      return scaleShiftLinear(layer, s, t);
    case 'flatten':
      return flattenForward(layer, t);
    case 'conv2d':
      return convLinear(layer, asMap(s), t);
    case 'maxpool': {
      const arg = maxPoolArgmax(layer, asMap(s), x);
      return Float64Array.from(arg, (i) => (i >= 0 ? t[i]! : 0));
    }
    case 'avgpool':
      return poolForward(layer, asMap(s), t);
    case 'globalavgpool':
      return globalAvgPoolForward(layer, asMap(s), t);
    case 'pad':
      return padForward(layer, asMap(s), t);
    case 'residual': {
      const a = chainJvp(layer.branch, s, x, t).dy;
      const b = chainJvp(layer.shortcut, s, x, t).dy;
      for (let i = 0; i < a.length; i++) a[i] += b[i]!;
      return a;
    }
  }
}

/** Transposed derivative of one layer at input x applied to an output cotangent g. */
export function layerVjp(layer: Layer, s: ValueShape, x: Float64Array, g: Float64Array): Float64Array {
  switch (layer.kind) {
    case 'conv1d':
      return conv1dAdjoint(layer, asSignal(s), g);
    case 'ssm':
      return ssmAdjoint(layer, asSignal(s), g);
    case 'dense':
      return matTVec(layer.W, g);
    case 'activation':
      return layerJvp(layer, s, x, g); // diagonal
    case 'scaleshift':
      return scaleShiftLinear(layer, s, g); // diagonal
    case 'flatten':
      return flattenAdjoint(layer, g);
    case 'conv2d':
      return convAdjoint(layer, asMap(s), g);
    case 'maxpool': {
      const arg = maxPoolArgmax(layer, asMap(s), x);
      const out = new Float64Array(sizeOf(s));
      arg.forEach((i, o) => {
        if (i >= 0) out[i] += g[o]!;
      });
      return out;
    }
    case 'avgpool':
      return avgPoolAdjoint(layer, asMap(s), g);
    case 'globalavgpool':
      return globalAvgPoolAdjoint(layer, asMap(s), g);
    case 'pad':
      return padAdjoint(layer, asMap(s), g);
    case 'residual': {
      const a = chainVjp(layer.branch, s, x, g);
      const b = chainVjp(layer.shortcut, s, x, g);
      for (let i = 0; i < a.length; i++) a[i] += b[i]!;
      return a;
    }
  }
}

export function chainForward(layers: readonly Layer[], s: ValueShape, x: Float64Array): Float64Array {
  const shapes = chainShapes(layers, s);
  let cur = x;
  layers.forEach((l, k) => {
    cur = layerForward(l, shapes[k]!, cur);
  });
  return layers.length ? cur : x.slice();
}

export function chainJvp(layers: readonly Layer[], s: ValueShape, x: Float64Array, t: Float64Array): { y: Float64Array; dy: Float64Array } {
  const shapes = chainShapes(layers, s);
  let cx = x;
  let ct = t;
  layers.forEach((l, k) => {
    const sk = shapes[k]!;
    ct = layerJvp(l, sk, cx, ct);
    cx = layerForward(l, sk, cx);
  });
  return { y: layers.length ? cx : x.slice(), dy: layers.length ? ct : t.slice() };
}

export function chainVjp(layers: readonly Layer[], s: ValueShape, x: Float64Array, g: Float64Array): Float64Array {
  const shapes = chainShapes(layers, s);
  const inputs: Float64Array[] = [];
  let cx = x;
  layers.forEach((l, k) => {
    inputs.push(cx);
    cx = layerForward(l, shapes[k]!, cx);
  });
  let cg = g;
  for (let k = layers.length - 1; k >= 0; k--) cg = layerVjp(layers[k]!, shapes[k]!, inputs[k]!, cg);
  return layers.length ? cg : g.slice();
}

/** Graph-layout input → the CHW values the layers see (and back, for gradients). */
function toLayerLayout(net: Network, x: Float64Array): Float64Array {
  const want = sizeOf(net.inputShape);
  if (x.length !== want) {
    throw new LipdpError('INVALID_ARGUMENT', `input has ${x.length} values, '${net.source}' expects ${want} ([${net.inputShape}])`);
  }
  if (!net.inputPermutation) return x;
  const [C, H, W] = net.inputPermutation.chwShape;
  const y = new Float64Array(x.length);
  for (let c = 0; c < C; c++) for (let p = 0; p < H * W; p++) y[c * H * W + p] = x[p * C + c]!;
  return y;
}

function fromLayerLayout(net: Network, g: Float64Array): Float64Array {
  if (!net.inputPermutation) return g;
  const [C, H, W] = net.inputPermutation.chwShape;
  const y = new Float64Array(g.length);
  for (let c = 0; c < C; c++) for (let p = 0; p < H * W; p++) y[p * C + c] = g[c * H * W + p]!;
  return y;
}

/** f(x), in f64. x is in the graph's input layout. */
export function forward(net: Network, x: Float64Array): Float64Array {
  return chainForward(net.layers, layerInputShape(net), toLayerLayout(net, x));
}

/** J(x)·t (t in the graph's input layout). */
export function jvp(net: Network, x: Float64Array, t: Float64Array): Float64Array {
  return chainJvp(net.layers, layerInputShape(net), toLayerLayout(net, x), toLayerLayout(net, t)).dy;
}

/** J(x)ᵀ·v = ∇ₓ⟨v, f(x)⟩, in the graph's input layout. */
export function vjp(net: Network, x: Float64Array, v: Float64Array): Float64Array {
  if (v.length !== net.outputSize) {
    throw new LipdpError('INVALID_ARGUMENT', `cotangent has ${v.length} values, '${net.source}' has ${net.outputSize} outputs`);
  }
  return fromLayerLayout(net, chainVjp(net.layers, layerInputShape(net), toLayerLayout(net, x), v));
}
