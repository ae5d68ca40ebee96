/**
 * Exact algebraic clean-up of a layer chain after import: drops identity scale/shift layers and
 * folds scale/shift layers (input normalisation, exporter gains, BatchNorm) into the adjacent
 * dense or conv layer wherever the composed map is mathematically the same function. Fewer,
 * larger linear layers give the LMIs fewer couplings; nothing here changes what the network
 * computes beyond floating-point rounding of the folded products.
 */
import type { Conv2dLayer, DenseLayer, FlattenLayer, Layer, ScaleShiftLayer } from './ir.js';
import { flattenIndex } from './kernels/affine.js';

function isIdentity(l: ScaleShiftLayer): boolean {
  return l.scale.every((v) => v === 1) && l.shift.every((v) => v === 0);
}

function mergeScaleShift(a: ScaleShiftLayer, b: ScaleShiftLayer): ScaleShiftLayer | undefined {
  if (a.broadcast !== b.broadcast || a.scale.length !== b.scale.length) return undefined;
  const scale = a.scale.map((s, i) => b.scale[i]! * s);
  const shift = a.shift.map((t, i) => b.scale[i]! * t + b.shift[i]!);
  return { kind: 'scaleshift', scale, shift, broadcast: a.broadcast, name: `${a.name}+${b.name}` };
}

/** diag(s)·(Wx + b) + t */
function denseThenScale(d: DenseLayer, s: ScaleShiftLayer): DenseLayer | undefined {
  if (s.broadcast !== 'element' || s.scale.length !== d.W.rows) return undefined;
  const { rows, cols } = d.W;
  const W = new Float64Array(d.W.data);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) W[i * cols + j]! *= s.scale[i]!;
  const bias = d.bias.map((b, i) => s.scale[i]! * b + s.shift[i]!);
  return { kind: 'dense', W: { rows, cols, data: W }, bias, name: d.name };
}

/** W(diag(s)x + t) + b */
function scaleThenDense(s: ScaleShiftLayer, d: DenseLayer): DenseLayer | undefined {
  if (s.broadcast !== 'element' || s.scale.length !== d.W.cols) return undefined;
  const { rows, cols } = d.W;
  const W = new Float64Array(d.W.data);
  const bias = new Float64Array(d.bias);
  for (let i = 0; i < rows; i++) {
    let acc = 0;
    for (let j = 0; j < cols; j++) {
      acc += d.W.data[i * cols + j]! * s.shift[j]!;
      W[i * cols + j]! *= s.scale[j]!;
    }
    bias[i] += acc;
  }
  return { kind: 'dense', W: { rows, cols, data: W }, bias, name: d.name };
}

function convThenScale(c: Conv2dLayer, s: ScaleShiftLayer): Conv2dLayer | undefined {
  if (s.broadcast !== 'channel' || s.scale.length !== c.cout) return undefined;
  const per = c.cin * c.kh * c.kw;
  const kernel = c.kernel.map((v, k) => v * s.scale[Math.floor(k / per)]!);
  const bias = c.bias.map((b, o) => s.scale[o]! * b + s.shift[o]!);
  return { ...c, kernel, bias };
}

/**
 * conv(diag(s)x + t): exact when t = 0 (zero padding stays zero) or when the conv has no padding
 * (then every tap reads a real pixel, so the shift contributes a constant per output channel).
 */
function scaleThenConv(s: ScaleShiftLayer, c: Conv2dLayer): Conv2dLayer | undefined {
  if (s.broadcast !== 'channel' || s.scale.length !== c.cin * c.groups) return undefined;
  const hasShift = s.shift.some((v) => v !== 0);
  if (hasShift && c.pads.some((p) => p !== 0)) return undefined;
  const coutPerG = c.cout / c.groups;
  const khw = c.kh * c.kw;
  const kernel = new Float64Array(c.kernel);
  const bias = new Float64Array(c.bias);
  for (let o = 0; o < c.cout; o++) {
    const g = Math.floor(o / coutPerG);
    for (let i = 0; i < c.cin; i++) {
      const ci = g * c.cin + i;
      for (let p = 0; p < khw; p++) {
        const k = (o * c.cin + i) * khw + p;
        bias[o] += c.kernel[k]! * s.shift[ci]!;
        kernel[k] = c.kernel[k]! * s.scale[ci]!;
      }
    }
  }
  return { ...c, kernel, bias };
}

/** A per-channel scale/shift commutes with flatten, becoming per-element in the flat order. */
function swapScaleFlatten(s: ScaleShiftLayer, f: FlattenLayer): [FlattenLayer, ScaleShiftLayer] | undefined {
  if (s.broadcast !== 'channel' || s.scale.length !== f.inShape[0]) return undefined;
  const [C, H, W] = f.inShape;
  const idx = flattenIndex(f);
  const scale = new Float64Array(C * H * W);
  const shift = new Float64Array(C * H * W);
  for (let k = 0; k < idx.length; k++) {
    const c = Math.floor(k / (H * W));
    scale[idx[k]!] = s.scale[c]!;
    shift[idx[k]!] = s.shift[c]!;
  }
  return [f, { kind: 'scaleshift', scale, shift, broadcast: 'element', name: s.name }];
}

/**
 * A 1×1, stride-1, unpadded conv in which every output channel reads only its own input channel
 * (depthwise, or 1→1) is a per-channel scale/shift; e.g. the normalisation conv of ERAN's ConvSmall.
 */
function convAsScaleShift(c: Conv2dLayer): ScaleShiftLayer | undefined {
  const oneByOne = c.kh === 1 && c.kw === 1 && c.stride[0] === 1 && c.stride[1] === 1 && c.pads.every((p) => p === 0);
  const perChannel = c.cin === 1 && c.groups === c.cout;
  if (!oneByOne || !perChannel) return undefined;
  return { kind: 'scaleshift', scale: Float64Array.from(c.kernel), shift: Float64Array.from(c.bias), broadcast: 'channel', name: c.name };
}

function combine(a: Layer, b: Layer): Layer[] | undefined {
  if (a.kind === 'scaleshift' && b.kind === 'scaleshift') {
    const m = mergeScaleShift(a, b);
    return m && [m];
  }
  if (a.kind === 'dense' && b.kind === 'scaleshift') {
    const m = denseThenScale(a, b);
    return m && [m];
  }
  if (a.kind === 'conv2d' && b.kind === 'scaleshift') {
    const m = convThenScale(a, b);
    return m && [m];
  }
  if (a.kind === 'scaleshift' && b.kind === 'dense') {
    const m = scaleThenDense(a, b);
    return m && [m];
  }
  if (a.kind === 'scaleshift' && b.kind === 'conv2d') {
    const m = scaleThenConv(a, b);
    return m && [m];
  }
  if (a.kind === 'scaleshift' && b.kind === 'flatten') return swapScaleFlatten(a, b);
  return undefined;
}

/** Simplify a chain (recursively inside residual blocks). */
export function simplifyChain(layers: readonly Layer[]): Layer[] {
  let cur: Layer[] = layers.map((l) => {
    if (l.kind === 'residual') return { ...l, branch: simplifyChain(l.branch), shortcut: simplifyChain(l.shortcut) };
    if (l.kind === 'conv2d') return convAsScaleShift(l) ?? l;
    return l;
  });
  for (let changed = true; changed; ) {
    changed = false;
    const next: Layer[] = [];
    for (const l of cur) {
      if (l.kind === 'scaleshift' && isIdentity(l)) {
        changed = true;
        continue;
      }
      const prev = next[next.length - 1];
      const merged = prev ? combine(prev, l) : undefined;
      if (merged) {
        next.pop();
        next.push(...merged);
        // A swap (scaleshift past flatten) is progress only if it enables a later fold; the
        // outer loop stops once nothing but swaps happen because swaps move scaleshifts forward.
        changed = true;
      } else {
        next.push(l);
      }
    }
    cur = next;
  }
  return cur;
}
