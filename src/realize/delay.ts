/**
 * Index alignment between a PyTorch conv (padding, stride, dilation) and its Roesser realization,
 * and the pure-delay Roesser systems needed to align skip connections (docs/method.md §5.2).
 *
 * Per axis (both axes are independent), 0-based indices. PyTorch with kernel l, dilation d,
 * stride s, leading pad p (top or left; trailing pads only set the output length):
 *
 *   out(o) = Σ_{a<l} K(a) · X(o·s − p + d·a),            o = 0 .. ⌊(N + p + p_end − l_e)/s⌋
 *
 * where l_e = d(l−1)+1 and X = 0 outside 0..N−1. The Roesser system realizes the expanded kernel
 * Ke (extent L = max(l_e, s), Ke(d·a) = K(a), see kernel.ts) with the bottom-right anchor rule
 *
 *   y(i) = Σ_{a'<L} Ke(a') · z(i·s + s − L + a').
 *
 * Feed it the input embedded with e leading zeros, z(t) = X(t − e). Substituting,
 *   y(i) = Σ_a K(a) · X(i·s + s − L − e + d·a),
 * which equals out(o) iff i·s + s − L − e = o·s − p, i.e.
 *
 *   i = o + δ,   δ = (L − s + e − p) / s,   valid iff (L + e − p) ≡ 0 (mod s).
 *
 * So: PyTorch out(o1, o2) = Roesser y(o1 + δ1, o2 + δ2) for every PyTorch output pixel; the
 * Roesser grid holds additional ("full-convolution" boundary) outputs around that window, which
 * the LMI may ignore because cropping only lowers Σ Δyᵀ Q Δy for Q ⪰ 0 (docs/method.md §3.2.3).
 *
 * - The phase condition (L + e − p) ≡ 0 mod s is vacuous for s = 1. For s > 1 the minimal
 *   embedding is e = (p − L) mod s; with p = 0 that is the (s − L mod s) mod s of docs/method.md §3.2.1, and then
 *   δ = ceil(L/s) − 1 = the number of x1 queue slots.
 * - Stride 1: e = 0 and δ = l_e − 1 − p (docs/method.md §5.2: "p" for a "same" conv with odd l).
 * - δ < 0 happens only when p > L − s + e, i.e. the leading pad exceeds what the kernel can
 *   reach: then PyTorch's first −δ outputs read nothing but padding (zero up to the bias) and are
 *   simply not on the Roesser grid. Pure-delay systems cannot realize a negative delay, so
 *   `roesserOfDelay` rejects it; the skip-alignment caller must delay the other path instead.
 * - Chains: a layer's input arrives with the offset e = δ of the layer before it (its output grid
 *   is this layer's pixel grid). If that violates the phase condition of a strided layer, the
 *   Roesser chain computes the strided conv on the wrong sub-grid; insert a pure delay of
 *   `extraInputDelay(...)` pixels in front of it. (For a pure chain on the infinite grid this is a
 *   shift and does not change the Lipschitz bound; for exact simulation and for skips it matters.)
 * - Residual blocks: the branch output arrives at offset δ_branch (chain rule above, starting from
 *   the block input's offset), the shortcut at δ_skip (0 for an identity skip). The two must be
 *   equal before the addition; delay the smaller path by the difference with `roesserOfDelay`.
 */
import { checkPositiveInt, effectiveExtent } from './kernel.js';
import { roesserOfConv, type ConvRoesser } from './roesser.js';

/** Alignment of one axis. */
export interface AxisDelay {
  /** Realized kernel extent L = max(d(l−1)+1, s). */
  readonly extent: number;
  /** Leading zeros the input carries (chosen minimal if not given). */
  readonly inputOffset: number;
  /** Roesser output index − PyTorch output index (in output-grid steps); may be negative. */
  readonly delay: number;
}

const mod = (a: number, m: number): number => ((a % m) + m) % m;

/**
 * Extra leading zeros (a pure delay, in input pixels) to put in front of a layer whose input
 * arrives with offset `inputOffset`, so that its stride grid lines up with PyTorch's. 0 for s = 1.
 */
export function extraInputDelay(
  l: number,
  padBefore: number,
  stride: number,
  dilation: number,
  inputOffset: number,
): number {
  const L = effectiveExtent(l, dilation, stride);
  return mod(padBefore - L - inputOffset, stride);
}

/** Per-axis alignment; see the module comment for the derivation. */
export function axisDelay(
  l: number,
  padBefore: number,
  stride: number,
  dilation = 1,
  inputOffset?: number,
): AxisDelay {
  checkPositiveInt('kernel size', l);
  checkPositiveInt('stride', stride);
  checkPositiveInt('dilation', dilation);
  if (!Number.isInteger(padBefore) || padBefore < 0) throw new Error(`pad must be a non-negative integer, got ${padBefore}`);
  const L = effectiveExtent(l, dilation, stride);
  const e = inputOffset ?? mod(padBefore - L, stride);
  if (!Number.isInteger(e) || e < 0) throw new Error(`inputOffset must be a non-negative integer, got ${e}`);
  const num = L - stride + e - padBefore;
  if (mod(num, stride) !== 0) {
    throw new Error(
      `stride grid misaligned: input offset ${e} with kernel extent ${L}, pad ${padBefore}, stride ${stride}; ` +
        `delay the input by ${extraInputDelay(l, padBefore, stride, dilation, e)} more pixel(s) first`,
    );
  }
  return { extent: L, inputOffset: e, delay: num / stride };
}

export interface ConvDelay {
  /** [rows, cols]: Roesser output index − PyTorch output index. */
  readonly delay: readonly [number, number];
  /** [rows, cols]: leading zero rows / columns the input is embedded with. */
  readonly inputOffset: readonly [number, number];
  /** [rows, cols]: realized kernel extent. */
  readonly extent: readonly [number, number];
}

/**
 * 2-D delay of the Roesser realization of a PyTorch conv with pads [top, left, bottom, right]:
 * PyTorch out(c, o1, o2) = Roesser y(c, o1 + delay[0], o2 + delay[1]) when the input is fed with
 * `inputOffset` leading zero rows/cols (minimal phase if not given; pass the previous layer's
 * delay when chaining).
 */
export function convDelay(
  kh: number,
  kw: number,
  pads: readonly [number, number, number, number],
  stride: number,
  dilation: readonly [number, number] = [1, 1],
  inputOffset?: readonly [number, number],
): ConvDelay {
  const r = axisDelay(kh, pads[0], stride, dilation[0], inputOffset?.[0]);
  const c = axisDelay(kw, pads[1], stride, dilation[1], inputOffset?.[1]);
  return {
    delay: [r.delay, c.delay],
    inputOffset: [r.inputOffset, c.inputOffset],
    extent: [r.extent, c.extent],
  };
}

/** Geometry of one conv in a chain, for `chainDelay`. */
export interface ConvGeometry {
  readonly kh: number;
  readonly kw: number;
  readonly pads: readonly [number, number, number, number];
  readonly stride: number;
  readonly dilation?: readonly [number, number];
}

/**
 * Offset of a chain of convs (elementwise layers in between do not move pixels): each layer's
 * input offset is the previous layer's delay. Throws (via axisDelay) if a strided layer is
 * misaligned; use `extraInputDelay` to fix that. For stride-1 chains this is the plain sum
 * Σ (l_e,k − 1 − p_k) per axis (+ the initial offset).
 */
export function chainDelay(
  convs: readonly ConvGeometry[],
  inputOffset: readonly [number, number] = [0, 0],
): readonly [number, number] {
  let off: readonly [number, number] = inputOffset;
  for (const g of convs) {
    off = convDelay(g.kh, g.kw, g.pads, g.stride, g.dilation ?? [1, 1], off).delay;
  }
  return off;
}

/**
 * Pure delay by (d1, d2) on c channels: y(i, j) = x(i − d1, j − d2). In the getRoesser
 * convention this is the conv whose (d1+1)×(d2+1) kernel is the identity at tap (0, 0) (tap (1,1)
 * 1-based) and zero elsewhere: the bottom-right anchor then reads x(i − d1, j − d2).
 * States: nx1 = c·d1 (queue of d1 rows), nx2 = c·d2 (shift register of d2 columns).
 */
export function roesserOfDelay(c: number, d1: number, d2: number): ConvRoesser {
  checkPositiveInt('channels', c);
  if (!Number.isInteger(d1) || !Number.isInteger(d2) || d1 < 0 || d2 < 0) {
    throw new Error(`delay must be non-negative integers, got (${d1}, ${d2})`);
  }
  const kh = d1 + 1;
  const kw = d2 + 1;
  const kernel = new Float64Array(c * c * kh * kw);
  for (let o = 0; o < c; o++) kernel[((o * c + o) * kh + 0) * kw + 0] = 1;
  return roesserOfConv(kernel, c, c, kh, kw, 1);
}
