/**
 * Max and average pooling on CHW maps, global average pooling and zero padding, with the
 * derivative maps the forward/backward passes need. Max pooling's derivative picks the first
 * maximal element of each window (the convention of common frameworks).
 */
import type { GlobalAvgPoolLayer, PadLayer, PoolLayer } from '../ir.js';
import type { MapShape } from '../shapes.js';
import { windowOut } from '../shapes.js';

export function poolOutShape(l: PoolLayer, s: MapShape): MapShape {
  return [
    s[0],
    windowOut(s[1], l.pads[0], l.pads[2], l.kernel[0], l.stride[0]),
    windowOut(s[2], l.pads[1], l.pads[3], l.kernel[1], l.stride[1]),
  ];
}

/** For each output element, the in-bounds input indices of its window. */
function forEachWindow(l: PoolLayer, s: MapShape, visit: (outIdx: number, inIdx: number[]) => void): void {
  const [C, H, W] = s;
  const [, Ho, Wo] = poolOutShape(l, s);
  const [kh, kw] = l.kernel;
  const [sh, sw] = l.stride;
  const idx: number[] = [];
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < Ho; y++) {
      for (let x = 0; x < Wo; x++) {
        idx.length = 0;
        for (let a = 0; a < kh; a++) {
          const iy = y * sh - l.pads[0] + a;
          if (iy < 0 || iy >= H) continue;
          for (let b = 0; b < kw; b++) {
            const ix = x * sw - l.pads[1] + b;
            if (ix < 0 || ix >= W) continue;
            idx.push((c * H + iy) * W + ix);
          }
        }
        visit((c * Ho + y) * Wo + x, idx);
      }
    }
  }
}

/** Divisor of each average-pool window: the full kernel, or only its in-bounds part. */
function avgDivisor(l: PoolLayer, inBounds: number): number {
  return l.countIncludePad ? l.kernel[0] * l.kernel[1] : inBounds;
}

/** Index of the (first) maximal input element of every output window; -1 for an all-padding window. */
export function maxPoolArgmax(l: PoolLayer, s: MapShape, x: Float64Array): Int32Array {
  const [c, ho, wo] = poolOutShape(l, s);
  const arg = new Int32Array(c * ho * wo).fill(-1);
  forEachWindow(l, s, (oi, ids) => {
    let best = -Infinity;
    for (const i of ids) {
      if (x[i]! > best) {
        best = x[i]!;
        arg[oi] = i;
      }
    }
  });
  return arg;
}

export function poolForward(l: PoolLayer, s: MapShape, x: Float64Array): Float64Array {
  const [c, ho, wo] = poolOutShape(l, s);
  const y = new Float64Array(c * ho * wo);
  forEachWindow(l, s, (oi, ids) => {
    if (l.kind === 'maxpool') {
      let m = -Infinity;
      for (const i of ids) if (x[i]! > m) m = x[i]!;
      y[oi] = m;
    } else {
      let acc = 0;
      for (const i of ids) acc += x[i]!;
      y[oi] = ids.length ? acc / avgDivisor(l, ids.length) : 0;
    }
  });
  return y;
}

/** Average pooling is linear: forward of a tangent. */
export function avgPoolAdjoint(l: PoolLayer, s: MapShape, g: Float64Array): Float64Array {
  const out = new Float64Array(s[0] * s[1] * s[2]);
  forEachWindow(l, s, (oi, ids) => {
    if (!ids.length) return;
    const w = g[oi]! / avgDivisor(l, ids.length);
    for (const i of ids) out[i] += w;
  });
  return out;
}

export function globalAvgPoolForward(_l: GlobalAvgPoolLayer, s: MapShape, x: Float64Array): Float64Array {
  const [C, H, W] = s;
  const hw = H * W;
  const y = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let acc = 0;
    for (let p = 0; p < hw; p++) acc += x[c * hw + p]!;
    y[c] = acc / hw;
  }
  return y;
}

export function globalAvgPoolAdjoint(_l: GlobalAvgPoolLayer, s: MapShape, g: Float64Array): Float64Array {
  const [C, H, W] = s;
  const hw = H * W;
  const out = new Float64Array(C * hw);
  for (let c = 0; c < C; c++) out.fill(g[c]! / hw, c * hw, (c + 1) * hw);
  return out;
}

export function padOutShape(l: PadLayer, s: MapShape): MapShape {
  return [s[0], s[1] + l.pads[0] + l.pads[2], s[2] + l.pads[1] + l.pads[3]];
}

export function padForward(l: PadLayer, s: MapShape, x: Float64Array): Float64Array {
  const [C, H, W] = s;
  const [, Ho, Wo] = padOutShape(l, s);
  const y = new Float64Array(C * Ho * Wo);
  for (let c = 0; c < C; c++) {
    for (let h = 0; h < H; h++) {
      const src = (c * H + h) * W;
      y.set(x.subarray(src, src + W), (c * Ho + h + l.pads[0]) * Wo + l.pads[1]);
    }
  }
  return y;
}

/** Adjoint of zero padding: crop. */
export function padAdjoint(l: PadLayer, s: MapShape, g: Float64Array): Float64Array {
  const [C, H, W] = s;
  const [, Ho, Wo] = padOutShape(l, s);
  const x = new Float64Array(C * H * W);
  for (let c = 0; c < C; c++) {
    for (let h = 0; h < H; h++) {
      const src = (c * Ho + h + l.pads[0]) * Wo + l.pads[1];
      x.set(g.subarray(src, src + W), (c * H + h) * W);
    }
  }
  return x;
}
