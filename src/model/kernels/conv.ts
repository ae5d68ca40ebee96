/**
 * 2-D convolution (cross-correlation, PyTorch/ONNX semantics) on CHW maps: the affine forward map
 * and the adjoint of its linear part (for vector-Jacobian products).
 */
import type { Conv2dLayer } from '../ir.js';
import type { MapShape } from '../shapes.js';
import { windowOut } from '../shapes.js';

export function convOutShape(l: Conv2dLayer, s: MapShape): MapShape {
  return [
    l.cout,
    windowOut(s[1], l.pads[0], l.pads[2], l.kh, l.stride[0], l.dilation[0]),
    windowOut(s[2], l.pads[1], l.pads[3], l.kw, l.stride[1], l.dilation[1]),
  ];
}

/**
 * Visit every (output index, input index, kernel index) triple that contributes. Shared by the
 * forward map and its adjoint so that they are exact transposes of each other.
 */
function forEachTap(
  l: Conv2dLayer,
  s: MapShape,
  visit: (outIdx: number, inIdx: number, kIdx: number) => void,
): void {
  const [, H, W] = s;
  const [, Ho, Wo] = convOutShape(l, s);
  const coutPerG = l.cout / l.groups;
  const [sh, sw] = l.stride;
  const [dh, dw] = l.dilation;
  const pt = l.pads[0];
  const pl = l.pads[1];
  for (let o = 0; o < l.cout; o++) {
    const g = Math.floor(o / coutPerG);
    for (let i = 0; i < l.cin; i++) {
      const ci = g * l.cin + i;
      for (let a = 0; a < l.kh; a++) {
        for (let b = 0; b < l.kw; b++) {
          const kIdx = ((o * l.cin + i) * l.kh + a) * l.kw + b;
          for (let y = 0; y < Ho; y++) {
            const iy = y * sh - pt + a * dh;
            if (iy < 0 || iy >= H) continue;
            for (let x = 0; x < Wo; x++) {
              const ix = x * sw - pl + b * dw;
              if (ix < 0 || ix >= W) continue;
              visit((o * Ho + y) * Wo + x, (ci * H + iy) * W + ix, kIdx);
            }
          }
        }
      }
    }
  }
}

/** Linear part (no bias). */
export function convLinear(l: Conv2dLayer, s: MapShape, x: Float64Array): Float64Array {
  const [co, ho, wo] = convOutShape(l, s);
  const y = new Float64Array(co * ho * wo);
  const K = l.kernel;
  forEachTap(l, s, (oi, ii, k) => {
    y[oi] += K[k]! * x[ii]!;
  });
  return y;
}

export function convForward(l: Conv2dLayer, s: MapShape, x: Float64Array): Float64Array {
  const y = convLinear(l, s, x);
  const hw = y.length / l.cout;
  for (let o = 0; o < l.cout; o++) {
    const b = l.bias[o] ?? 0;
    for (let p = 0; p < hw; p++) y[o * hw + p] += b;
  }
  return y;
}

/** Adjoint of the linear part: g (output-sized) → input-sized. */
export function convAdjoint(l: Conv2dLayer, s: MapShape, g: Float64Array): Float64Array {
  const x = new Float64Array(s[0] * s[1] * s[2]);
  const K = l.kernel;
  forEachTap(l, s, (oi, ii, k) => {
    x[ii] += K[k]! * g[oi]!;
  });
  return x;
}
