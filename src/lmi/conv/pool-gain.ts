/**
 * Squared incremental gains μ of pooling maps in the per-pixel Q-weighted norm (docs/method.md §4):
 * Σ_out ΔpᵀQΔp ≤ μ · Σ_in ΔwᵀQΔw.
 *
 * - Max pooling: |max_S a − max_S b| ≤ max_{i∈S} |a_i − b_i| ≤ (Σ_{i∈S} |a_i − b_i|²)^{1/2}, and an
 *   input pixel lies in at most ceil(r/t) windows per axis, so μ = Π_axes ceil(r/t). Valid only for
 *   DIAGONAL Q ⪰ 0 (the bound is per channel); padding (−∞, or zeros from a Pad layer) only
 *   removes or adds constant entries, which keeps the inequality.
 * - Average pooling is linear and acts identically on every channel: p = (T ⊗ I_c) w with T a
 *   nonnegative matrix, so Σ pᵀQp ≤ ‖T‖² Σ wᵀQw for any Q ⪰ 0. T is separable (the ONNX divisor,
 *   with or without count_include_pad, is the product of per-axis in-bounds counts), T = T_h ⊗ T_w,
 *   and ‖T‖² = ‖T_h‖²‖T_w‖². Per axis, ‖T_a‖² = ‖T_a T_aᵀ‖ ≤ max row sum of T_a T_aᵀ (nonnegative
 *   symmetric matrix: the ∞-norm bounds the spectral norm). For the uniform interior filter this
 *   is exact (the Fourier symbol of T_aT_aᵀ has nonnegative coefficients, so its maximum is at
 *   ω = 0, which equals the row sum); for r = t it is 1/r. Computed on the ACTUAL finite axis with
 *   its pads, because the true pooled map only reads the (cropped) true feature map.
 *   The float result is inflated by a relative 1e-12 to cover rounding of the small sums.
 */

/** Per-axis squared gain bound of an average pool along an axis of length n. */
export function avgPoolAxisGain(n: number, r: number, t: number, padBefore: number, padAfter: number, countIncludePad: boolean): number {
  const nOut = Math.floor((n + padBefore + padAfter - r) / t) + 1;
  if (nOut < 1) throw new Error(`average pool: empty output (n=${n}, r=${r}, t=${t})`);
  // weights w(o, i) for in-bounds input i
  const rows: { i0: number; i1: number; w: number }[] = [];
  for (let o = 0; o < nOut; o++) {
    const lo = o * t - padBefore;
    const i0 = Math.max(0, lo);
    const i1 = Math.min(n, lo + r); // exclusive
    const cnt = Math.max(0, i1 - i0);
    const div = countIncludePad ? r : cnt;
    rows.push({ i0, i1, w: cnt > 0 ? 1 / div : 0 });
  }
  let best = 0;
  for (let o = 0; o < nOut; o++) {
    const ro = rows[o]!;
    let s = 0;
    for (let o2 = 0; o2 < nOut; o2++) {
      const r2 = rows[o2]!;
      const overlap = Math.max(0, Math.min(ro.i1, r2.i1) - Math.max(ro.i0, r2.i0));
      s += overlap * ro.w * r2.w;
    }
    best = Math.max(best, s);
  }
  return best * (1 + 1e-12);
}

/** μ of a 2-D average pool on an H×W map (kernel, stride, pads = [top, left, bottom, right]). */
export function avgPoolGain(
  hw: readonly [number, number],
  kernel: readonly [number, number],
  stride: readonly [number, number],
  pads: readonly [number, number, number, number],
  countIncludePad: boolean,
): number {
  const gh = avgPoolAxisGain(hw[0], kernel[0], stride[0], pads[0], pads[2], countIncludePad);
  const gw = avgPoolAxisGain(hw[1], kernel[1], stride[1], pads[1], pads[3], countIncludePad);
  return gh * gw * (1 + 1e-12);
}

/** μ of a max pool: Π ceil(r/t) (number of windows an input pixel can lie in). Exact integer. */
export function maxPoolGain(kernel: readonly [number, number], stride: readonly [number, number]): number {
  return Math.ceil(kernel[0] / stride[0]) * Math.ceil(kernel[1] / stride[1]);
}
