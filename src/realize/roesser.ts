/**
 * 2-D Roesser realization of a strided, possibly dilated, multi-channel convolution
 * (docs/method.md §3.2.1: PyTorch's cross-correlation, kernel NOT flipped).
 *
 * System, on the grid of s×s input pixel blocks (block (i, j) = pixel rows i·s..i·s+s−1,
 * columns j·s..j·s+s−1, 0-based here):
 *
 *   x1(i+1, j) = A11 x1(i,j) + A12 x2(i,j) + B1 u(i,j)     x1 travels down  (row-to-row)
 *   x2(i, j+1) = A21 x1(i,j) + A22 x2(i,j) + B2 u(i,j)     x2 travels right (column-to-column)
 *   y(i, j)    = C1  x1(i,j) + C2  x2(i,j) + D  u(i,j)
 *
 * with A21 = 0 for convolutions (stored explicitly so generic code can treat any Roesser system).
 *
 * Signals and their flat orderings (all 0-based; L1 × L2 = expanded kernel extent, see kernel.ts):
 *   u  ∈ R^{nu},  nu  = cin·s²      u[(aa·s + bb)·cin + c]  = pixel (aa, bb) of the block, channel c
 *                                    (pixel-major row-major, channel-minor; so the stride kron is I_{s²}⊗Q)
 *   y  ∈ R^{ny},  ny  = cout        one output pixel per block
 *   x2 ∈ R^{nx2}, nx2 = s·cin·m2,  m2 = L2 − s
 *                                    x2[(aa·m2 + b)·cin + c] = input row aa of the block row, the
 *                                    b-th of the last m2 input columns (b = 0 oldest), channel c
 *   x1 ∈ R^{nx1}, nx1 = cout·n,    n = ceil((L1 − s)/s)
 *                                    x1[q·cout + o] = pending partial output sum in queue slot q
 *                                    (q = 0 newest; slot n−1 is completed and read by C1)
 *
 * Semantics (zero initial states on the top/left boundary, input zero outside the image):
 *
 *   y(i, j) = Σ_{a<L1, b<L2} K(a, b) · x(i·s + s − L1 + a,  j·s + s − L2 + b)
 *
 * i.e. PyTorch cross-correlation whose window's bottom-right pixel is the block's bottom-right
 * pixel (1-based: anchor (is, js): y(i,j) = Σ K(a,b) x(is − l1 + a, js − l2 + b), docs/method.md §3.2.1).
 *
 * Why the construction gives that (per axis):
 *  - Columns: the window of block column j spans input columns j·s+s−L2 .. j·s+s−1. The last s
 *    are the block's own pixels (u); the m2 = L2 − s before them are exactly what x2 remembers
 *    ("append the s new columns, keep the last m2"). Hence C2/D hold kernel columns < m2 / ≥ m2.
 *  - Rows: the bottom s kernel rows meet the current block row, giving C2 and D. The top L1 − s
 *    rows meet earlier block rows. Prepend r = n·s − (L1 − s) zero rows so they split into n
 *    chunks of s rows; chunk q (q = 0 top) meets block row i − (n − q), so its contribution is
 *    computed then and must wait n − q steps: it enters queue slot q, the queue shifts one slot
 *    per block row (A11), and C1 reads slot n − 1. A12 / B1 hold chunk q's taps on the x2 part
 *    and the new-pixel part of each of its s rows, respectively (same split as C2 / D).
 *
 * Dimensions: nx1 = cout·ceil((L1−s)/s), nx2 = s·cin·(L2−s); for s = 1 this is the
 * cout·(l1−1) + cin·(l2−1) of arXiv 2403.11938. A = [[A11, A12], [0, A22]] is nilpotent.
 */
import type { Matrix } from '../model/ir.js';
import { blockMatrix, zeros } from './mat.js';
import { checkPositiveInt, expandKernel2d } from './kernel.js';

/** A 2-D Roesser system (see the module comment for shapes and orderings). */
export interface RoesserSystem {
  /** Row-to-row (vertical) state size. */
  readonly nx1: number;
  /** Column-to-column (horizontal) state size. */
  readonly nx2: number;
  /** Input size per block (cin·s² for a conv). */
  readonly nu: number;
  /** Output size per block (cout for a conv). */
  readonly ny: number;
  /** nx1 × nx1 */
  readonly A11: Matrix;
  /** nx1 × nx2 */
  readonly A12: Matrix;
  /** nx2 × nx1 (zero for convolutions) */
  readonly A21: Matrix;
  /** nx2 × nx2 */
  readonly A22: Matrix;
  /** nx1 × nu */
  readonly B1: Matrix;
  /** nx2 × nu */
  readonly B2: Matrix;
  /** ny × nx1 */
  readonly C1: Matrix;
  /** ny × nx2 */
  readonly C2: Matrix;
  /** ny × nu */
  readonly D: Matrix;
}

/** Conv-specific metadata kept beside the system, for LMI assembly and diagnostics. */
export interface ConvRoesser extends RoesserSystem {
  readonly cin: number;
  readonly cout: number;
  readonly stride: number;
  /** Expanded kernel extent actually realized (after dilation and padding to s). */
  readonly kh: number;
  readonly kw: number;
  /** Number of x1 queue slots, ceil((L1 − s)/s). */
  readonly queue: number;
}

/** Full-state form with x = [x1; x2]: A (nx × nx), B (nx × nu), C (ny × nx), D (ny × nu). */
export interface RoesserFull {
  readonly A: Matrix;
  readonly B: Matrix;
  readonly C: Matrix;
  readonly D: Matrix;
}

export function roesserFull(sys: RoesserSystem): RoesserFull {
  return {
    A: blockMatrix([
      [sys.A11, sys.A12],
      [sys.A21, sys.A22],
    ]),
    B: blockMatrix([[sys.B1], [sys.B2]]),
    C: blockMatrix([[sys.C1, sys.C2]]),
    D: sys.D,
  };
}

/**
 * Roesser realization of the conv with OIHW kernel (cout × cin × kh × kw), equal stride s in
 * both axes and the given dilation. Any s ≥ 1 is accepted; when s exceeds an axis' dilated
 * extent the kernel is end-padded with zero taps up to s (see kernel.ts for why that is exact).
 * The stride is a single number, so non-square strides cannot be expressed; `roesserOfConvLayer`
 * (layer.ts) rejects IR layers with stride[0] ≠ stride[1] by name and expands groups. Padding
 * does not enter the realization; the PyTorch ↔ Roesser index map is `convDelay` (delay.ts).
 */
export function roesserOfConv(
  kernel: Float64Array,
  cout: number,
  cin: number,
  kh: number,
  kw: number,
  stride: number,
  dilation: readonly [number, number] = [1, 1],
): ConvRoesser {
  checkPositiveInt('stride', stride);
  const s = stride;
  const ek = expandKernel2d(kernel, cout, cin, kh, kw, dilation, s);
  const K = ek.kernel;
  const L1 = ek.kh;
  const L2 = ek.kw;
  const tap = (o: number, c: number, a: number, b: number): number => K[((o * cin + c) * L1 + a) * L2 + b]!;

  const n = Math.ceil((L1 - s) / s);
  const r = n * s - (L1 - s); // virtual zero rows on top so the upper rows form n chunks of s
  const m2 = L2 - s;
  const nx1 = cout * n;
  const nx2 = s * cin * m2;
  const nu = cin * s * s;
  const ny = cout;

  const iu = (aa: number, bb: number, c: number): number => (aa * s + bb) * cin + c;
  const ix2 = (aa: number, b: number, c: number): number => (aa * m2 + b) * cin + c;
  const ix1 = (q: number, o: number): number => q * cout + o;

  const A11 = zeros(nx1, nx1);
  const A12 = zeros(nx1, nx2);
  const A21 = zeros(nx2, nx1);
  const A22 = zeros(nx2, nx2);
  const B1 = zeros(nx1, nu);
  const B2 = zeros(nx2, nu);
  const C1 = zeros(ny, nx1);
  const C2 = zeros(ny, nx2);
  const D = zeros(ny, nu);
  const put = (M: Matrix, i: number, j: number, v: number): void => {
    M.data[i * M.cols + j] = v;
  };

  // Output map: bottom s kernel rows; the first m2 columns act on x2, the last s on u.
  for (let o = 0; o < cout; o++) {
    for (let c = 0; c < cin; c++) {
      for (let aa = 0; aa < s; aa++) {
        const a = L1 - s + aa;
        for (let b = 0; b < m2; b++) put(C2, o, ix2(aa, b, c), tap(o, c, a, b));
        for (let bb = 0; bb < s; bb++) put(D, o, iu(aa, bb, c), tap(o, c, a, m2 + bb));
      }
    }
  }

  // x2 update, per block row aa: z = [old m2 columns ; s new columns]; keep the last m2 of z.
  // New slot b takes z column b + s: an old column when b + s < m2 (shift, A22), otherwise the
  // new pixel b + s − m2 of that row (selector, B2). When m2 < s only new pixels survive.
  for (let aa = 0; aa < s; aa++) {
    for (let b = 0; b < m2; b++) {
      const src = b + s;
      for (let c = 0; c < cin; c++) {
        if (src < m2) put(A22, ix2(aa, b, c), ix2(aa, src, c), 1);
        else put(B2, ix2(aa, b, c), iu(aa, src - m2, c), 1);
      }
    }
  }

  // x1 queue: shift one slot per block row; the last slot is the completed output.
  for (let q = 1; q < n; q++) {
    for (let o = 0; o < cout; o++) put(A11, ix1(q, o), ix1(q - 1, o), 1);
  }
  if (n > 0) for (let o = 0; o < cout; o++) put(C1, o, ix1(n - 1, o), 1);

  // Upper kernel rows (padded row index p = 0..n·s−1, true row p − r) in chunks of s: chunk q
  // goes into queue slot q; within the chunk, row aa meets block-row aa of x2 and of u.
  for (let p = r; p < n * s; p++) {
    const a = p - r;
    const q = Math.floor(p / s);
    const aa = p % s;
    for (let o = 0; o < cout; o++) {
      for (let c = 0; c < cin; c++) {
        for (let b = 0; b < m2; b++) put(A12, ix1(q, o), ix2(aa, b, c), tap(o, c, a, b));
        for (let bb = 0; bb < s; bb++) put(B1, ix1(q, o), iu(aa, bb, c), tap(o, c, a, m2 + bb));
      }
    }
  }

  return {
    nx1,
    nx2,
    nu,
    ny,
    A11,
    A12,
    A21,
    A22,
    B1,
    B2,
    C1,
    C2,
    D,
    cin,
    cout,
    stride: s,
    kh: L1,
    kw: L2,
    queue: n,
  };
}
