/**
 * Shapes of the values between layers of a Network. A value is either a CHW feature map
 * ([C, H, W]) or a flat vector ([n]); the batch dimension is never present.
 */
import { LipdpError } from './errors.js';
import type { Layer, Network } from './ir.js';

export type MapShape = readonly [number, number, number];
export type VecShape = readonly [number];
/** A 1-D signal [C, T] (channel-major); only networks flagged `signal` produce one. */
export type SignalShape = readonly [number, number];
export type ValueShape = MapShape | VecShape | SignalShape;

export function isSignal(s: ValueShape): s is SignalShape {
  return s.length === 2;
}

export function isMap(s: ValueShape): s is MapShape {
  return s.length === 3;
}

export function sizeOf(s: ValueShape | readonly number[]): number {
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

/**
 * Shape the first layer sees. A rank-3 input is a CHW map; any other rank is a flat vector
 * (e.g. the [784, 1] inputs of some MNIST nets). NHWC graphs record their transposed CHW shape.
 */
export function layerInputShape(net: Network): ValueShape {
  if (net.inputPermutation) return net.inputPermutation.chwShape;
  const s = net.inputShape;
  if (net.signal && s.length === 2) return [s[0]!, s[1]!];
  if (s.length === 3) return [s[0]!, s[1]!, s[2]!];
  return [sizeOf(s)];
}

/** Output extent of a conv/pool window along one axis (floor mode). */
export function windowOut(n: number, padBefore: number, padAfter: number, k: number, stride: number, dilation = 1): number {
  return Math.floor((n + padBefore + padAfter - dilation * (k - 1) - 1) / stride) + 1;
}

function bad(layer: Layer, why: string): never {
  throw new LipdpError('UNSUPPORTED_STRUCTURE', `layer '${layer.name}' (${layer.kind}): ${why}`);
}

function needSignal(layer: Layer, s: ValueShape): SignalShape {
  if (!isSignal(s)) bad(layer, `needs a [C, T] signal, got [${s}]`);
  return s;
}

function needMap(layer: Layer, s: ValueShape): MapShape {
  if (!isMap(s)) bad(layer, `needs a CHW feature map, got a vector of ${s[0]}`);
  return s;
}

/** Shape after `layer` given its input shape; throws if they do not fit together. */
export function layerOutputShape(layer: Layer, s: ValueShape): ValueShape {
  switch (layer.kind) {
    case 'conv1d': {
      const [c, t] = needSignal(layer, s);
      if (c !== layer.cin) bad(layer, `expects ${layer.cin} channels, gets ${c}`);
      const to = windowOut(t, layer.pads[0], layer.pads[1], layer.l, layer.stride, layer.dilation);
      if (to < 1) bad(layer, `output would be empty for input [${s}]`);
      return [layer.cout, to];
    }
    case 'ssm': {
      const [c, t] = needSignal(layer, s);
      if (c !== layer.B.cols) bad(layer, `expects ${layer.B.cols} channels, gets ${c}`);
      return [layer.C.rows, t];
    }
    case 'dense':
      if (layer.W.cols !== sizeOf(s)) bad(layer, `expects ${layer.W.cols} inputs, gets ${sizeOf(s)}`);
      return [layer.W.rows];
    case 'activation':
      return s;
    case 'scaleshift': {
      const want = layer.broadcast === 'channel' ? needMap(layer, s)[0] : sizeOf(s);
      if (layer.scale.length !== want || layer.shift.length !== want) {
        bad(layer, `has ${layer.scale.length} entries, the value needs ${want}`);
      }
      return s;
    }
    case 'flatten': {
      const m = needMap(layer, s);
      if (m[0] !== layer.inShape[0] || m[1] !== layer.inShape[1] || m[2] !== layer.inShape[2]) {
        bad(layer, `recorded shape [${layer.inShape}] but gets [${m}]`);
      }
      return [sizeOf(m)];
    }
    case 'conv2d': {
      const [c, h, w] = needMap(layer, s);
      if (c !== layer.cin * layer.groups) bad(layer, `expects ${layer.cin * layer.groups} channels, gets ${c}`);
      const ho = windowOut(h, layer.pads[0], layer.pads[2], layer.kh, layer.stride[0], layer.dilation[0]);
      const wo = windowOut(w, layer.pads[1], layer.pads[3], layer.kw, layer.stride[1], layer.dilation[1]);
      if (ho < 1 || wo < 1) bad(layer, `output would be empty for input [${s}]`);
      return [layer.cout, ho, wo];
    }
    case 'maxpool':
    case 'avgpool': {
      const [c, h, w] = needMap(layer, s);
      const ho = windowOut(h, layer.pads[0], layer.pads[2], layer.kernel[0], layer.stride[0]);
      const wo = windowOut(w, layer.pads[1], layer.pads[3], layer.kernel[1], layer.stride[1]);
      if (ho < 1 || wo < 1) bad(layer, `output would be empty for input [${s}]`);
      return [c, ho, wo];
    }
    case 'globalavgpool':
      return [needMap(layer, s)[0], 1, 1];
    case 'pad': {
      const [c, h, w] = needMap(layer, s);
      return [c, h + layer.pads[0] + layer.pads[2], w + layer.pads[1] + layer.pads[3]];
    }
    case 'residual': {
      const a = chainOutputShape(layer.branch, s);
      const b = chainOutputShape(layer.shortcut, s);
      if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
        bad(layer, `branch gives [${a}] but shortcut gives [${b}]`);
      }
      return a;
    }
  }
}

export function chainOutputShape(layers: readonly Layer[], s: ValueShape): ValueShape {
  let cur = s;
  for (const l of layers) cur = layerOutputShape(l, cur);
  return cur;
}

/** shapes[k] is the input of layers[k]; shapes[layers.length] is the output. */
export function chainShapes(layers: readonly Layer[], s: ValueShape): ValueShape[] {
  const out: ValueShape[] = [s];
  for (const l of layers) out.push(layerOutputShape(l, out[out.length - 1]!));
  return out;
}

export function networkShapes(net: Network): ValueShape[] {
  return chainShapes(net.layers, layerInputShape(net));
}
