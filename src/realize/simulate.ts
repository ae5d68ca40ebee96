/**
 * Reference simulators: run a 2-D Roesser system over an image, and a direct PyTorch-semantics
 * conv2d to test it against. These exist for verification (tests, debugging a realization of a
 * loaded network), not for speed: plain loops, Float64 throughout.
 *
 * Maps are CHW Float64Arrays (index c·H·W + h·W + w), batch dimension dropped, as in the IR.
 */
import type { RoesserSystem } from './roesser.js';
import { matVecAcc } from './mat.js';
import { checkPositiveInt } from './kernel.js';

/** A CHW feature map. */
export interface FeatureMap {
  readonly data: Float64Array;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/**
 * Run `sys` over the s×s block grid of a CHW input (channels = nu / s²) with zero initial
 * states on the top and left boundary. The input is zero-extended to the right and bottom, so the
 * grid may be larger than the image: by default ceil(H/s) × ceil(W/s) blocks, or
 * gridRows × gridCols to let the pending states drain (the "full" boundary outputs).
 * Returns the output map, ny × gridRows × gridCols, y(i, j) at block (i, j).
 */
export function simulateRoesser(
  sys: RoesserSystem,
  input: Float64Array,
  H: number,
  W: number,
  s: number,
  gridRows = Math.ceil(H / s),
  gridCols = Math.ceil(W / s),
): FeatureMap {
  checkPositiveInt('s', s);
  if (sys.nu % (s * s) !== 0) throw new Error(`system input size ${sys.nu} is not a multiple of s² = ${s * s}`);
  const cin = sys.nu / (s * s);
  if (input.length !== cin * H * W) throw new Error(`input has ${input.length} entries, expected ${cin}·${H}·${W}`);
  const { nx1, nx2, nu, ny } = sys;

  // x1 flows down, so one x1 per block column survives between block rows.
  const x1Rows = new Float64Array(gridCols * nx1);
  const x1New = new Float64Array(nx1);
  let x2 = new Float64Array(nx2);
  let x2New = new Float64Array(nx2);
  const u = new Float64Array(nu);
  const y = new Float64Array(ny);
  const out = new Float64Array(ny * gridRows * gridCols);

  for (let i = 0; i < gridRows; i++) {
    x2.fill(0); // left boundary
    for (let j = 0; j < gridCols; j++) {
      gatherBlock(input, cin, H, W, s, i, j, u);
      const x1 = x1Rows.subarray(j * nx1, (j + 1) * nx1);

      y.fill(0);
      matVecAcc(sys.C1, x1, 0, y, 0);
      matVecAcc(sys.C2, x2, 0, y, 0);
      matVecAcc(sys.D, u, 0, y, 0);
      for (let o = 0; o < ny; o++) out[(o * gridRows + i) * gridCols + j] = y[o]!;

      x1New.fill(0);
      matVecAcc(sys.A11, x1, 0, x1New, 0);
      matVecAcc(sys.A12, x2, 0, x1New, 0);
      matVecAcc(sys.B1, u, 0, x1New, 0);
      x2New.fill(0);
      matVecAcc(sys.A21, x1, 0, x2New, 0);
      matVecAcc(sys.A22, x2, 0, x2New, 0);
      matVecAcc(sys.B2, u, 0, x2New, 0);

      x1.set(x1New);
      [x2, x2New] = [x2New, x2];
    }
  }
  return { data: out, channels: ny, height: gridRows, width: gridCols };
}

/** u(i, j) in pixel-major, channel-minor order: u[(aa·s + bb)·cin + c]; zero outside the image. */
function gatherBlock(
  input: Float64Array,
  cin: number,
  H: number,
  W: number,
  s: number,
  i: number,
  j: number,
  u: Float64Array,
): void {
  for (let aa = 0; aa < s; aa++) {
    const h = i * s + aa;
    for (let bb = 0; bb < s; bb++) {
      const w = j * s + bb;
      const inside = h < H && w < W;
      for (let c = 0; c < cin; c++) {
        u[(aa * s + bb) * cin + c] = inside ? input[(c * H + h) * W + w]! : 0;
      }
    }
  }
}

/** PyTorch conv output length along one axis. */
export function convOutputLength(
  n: number,
  l: number,
  padBefore: number,
  padAfter: number,
  stride: number,
  dilation = 1,
): number {
  const le = dilation * (l - 1) + 1;
  return Math.floor((n + padBefore + padAfter - le) / stride) + 1;
}

/**
 * Direct 2-D conv with PyTorch semantics (cross-correlation, zero padding, groups = 1):
 * out(o, p, q) = bias(o) + Σ_{c,a,b} K(o,c,a,b) · x(c, p·s1 − top + d1·a, q·s2 − left + d2·b).
 * pads = [top, left, bottom, right] (IR convention); stride may be non-square here.
 */
export function conv2dDirect(
  kernel: Float64Array,
  cout: number,
  cin: number,
  kh: number,
  kw: number,
  input: Float64Array,
  H: number,
  W: number,
  stride: number | readonly [number, number],
  pads: readonly [number, number, number, number] = [0, 0, 0, 0],
  dilation: readonly [number, number] = [1, 1],
  bias?: Float64Array,
): FeatureMap {
  const [s1, s2] = typeof stride === 'number' ? [stride, stride] : stride;
  const [pt, pl, pb, pr] = pads;
  const [d1, d2] = dilation;
  if (kernel.length !== cout * cin * kh * kw) throw new Error('conv2dDirect: kernel size mismatch');
  if (input.length !== cin * H * W) throw new Error('conv2dDirect: input size mismatch');
  const Ho = convOutputLength(H, kh, pt, pb, s1, d1);
  const Wo = convOutputLength(W, kw, pl, pr, s2, d2);
  if (Ho <= 0 || Wo <= 0) throw new Error(`conv2dDirect: empty output ${Ho}×${Wo}`);
  const out = new Float64Array(cout * Ho * Wo);
  for (let o = 0; o < cout; o++) {
    for (let p = 0; p < Ho; p++) {
      for (let q = 0; q < Wo; q++) {
        let acc = bias ? bias[o]! : 0;
        for (let c = 0; c < cin; c++) {
          for (let a = 0; a < kh; a++) {
            const h = p * s1 - pt + d1 * a;
            if (h < 0 || h >= H) continue;
            for (let b = 0; b < kw; b++) {
              const w = q * s2 - pl + d2 * b;
              if (w < 0 || w >= W) continue;
              acc += kernel[((o * cin + c) * kh + a) * kw + b]! * input[(c * H + h) * W + w]!;
            }
          }
        }
        out[(o * Ho + p) * Wo + q] = acc;
      }
    }
  }
  return { data: out, channels: cout, height: Ho, width: Wo };
}

/**
 * Place a CHW map inside a larger zero map at (top, left): the "zero embedding" that applies an
 * input offset (leading zero rows/cols) or re-pads a cropped layer output.
 */
export function embedMap(m: FeatureMap, top: number, left: number, height: number, width: number): FeatureMap {
  if (top < 0 || left < 0 || top + m.height > height || left + m.width > width) {
    throw new Error(`embedMap: ${m.height}×${m.width} at (${top},${left}) does not fit in ${height}×${width}`);
  }
  const out = new Float64Array(m.channels * height * width);
  for (let c = 0; c < m.channels; c++) {
    for (let h = 0; h < m.height; h++) {
      const src = (c * m.height + h) * m.width;
      out.set(m.data.subarray(src, src + m.width), (c * height + top + h) * width + left);
    }
  }
  return { data: out, channels: m.channels, height, width };
}

/** The window [top, top+height) × [left, left+width) of a CHW map (zero where it leaves the map). */
export function cropMap(m: FeatureMap, top: number, left: number, height: number, width: number): FeatureMap {
  const out = new Float64Array(m.channels * height * width);
  for (let c = 0; c < m.channels; c++) {
    for (let h = 0; h < height; h++) {
      const sh = top + h;
      if (sh < 0 || sh >= m.height) continue;
      for (let w = 0; w < width; w++) {
        const sw = left + w;
        if (sw < 0 || sw >= m.width) continue;
        out[(c * height + h) * width + w] = m.data[(c * m.height + sh) * m.width + sw]!;
      }
    }
  }
  return { data: out, channels: m.channels, height, width };
}
