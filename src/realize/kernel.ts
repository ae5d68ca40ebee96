/**
 * Kernel preprocessing shared by the 2-D (Roesser) and 1-D realizations: turn a dilated and/or
 * "short" kernel into a plain dense kernel that the stride-s block construction can consume.
 *
 * 1. Dilation d: PyTorch's dilated cross-correlation with taps K(a), a = 0..l−1, reads input
 *    offsets d·a. That is exactly an undilated correlation with the zero-inserted kernel
 *    Kd(d·a) = K(a), Kd = 0 elsewhere, of extent l_eff = d·(l−1)+1. We realize Kd; the inserted
 *    zeros cost states (nx grows with l_eff), which is the price of a structure-agnostic
 *    realization (arXiv 2403.11938 has leaner dilated ones; not needed for correctness).
 *
 * 2. Stride larger than the (effective) kernel, s > l_eff: the conv skips input pixels, but the map
 *    is still linear and block-wise: output pixel i reads only pixels i·s .. i·s + l_eff − 1 of the
 *    s-block it starts in. We append s − l_eff zero taps at the END (bottom / right), so the extent
 *    becomes L = s. The window top-left then coincides with the block top-left, the realization has
 *    no states in that axis (n = 0, l−s = 0) and is a pure feed-through D; the extra taps never
 *    change the output because they are zero. Appending (not prepending) keeps the PyTorch ↔
 *    Roesser index map of delay.ts uniform: it is written in terms of L for every case.
 *
 * Axis-wise: both operations act per spatial axis independently, so non-square kernels,
 * dilations and (after padding) L1 ≠ L2 are fine.
 */

/** Dense OIHW kernel after dilation zero-insertion and end-padding to the stride. */
export interface ExpandedKernel2d {
  readonly kernel: Float64Array;
  /** Extents after expansion: L = max(d·(l−1)+1, s) per axis. */
  readonly kh: number;
  readonly kw: number;
}

/** Effective extent of one axis: zero-inserted length, then padded up to the stride. */
export function effectiveExtent(l: number, dilation: number, stride: number): number {
  return Math.max(dilation * (l - 1) + 1, stride);
}

export function expandKernel2d(
  kernel: Float64Array,
  cout: number,
  cin: number,
  kh: number,
  kw: number,
  dilation: readonly [number, number],
  stride: number,
): ExpandedKernel2d {
  checkPositiveInt('kh', kh);
  checkPositiveInt('kw', kw);
  checkPositiveInt('cout', cout);
  checkPositiveInt('cin', cin);
  checkPositiveInt('dilation[0]', dilation[0]);
  checkPositiveInt('dilation[1]', dilation[1]);
  checkPositiveInt('stride', stride);
  if (kernel.length !== cout * cin * kh * kw) {
    throw new Error(`kernel has ${kernel.length} entries, expected cout·cin·kh·kw = ${cout * cin * kh * kw}`);
  }
  const [d1, d2] = dilation;
  const L1 = effectiveExtent(kh, d1, stride);
  const L2 = effectiveExtent(kw, d2, stride);
  if (L1 === kh && L2 === kw) return { kernel, kh, kw };
  const out = new Float64Array(cout * cin * L1 * L2);
  for (let oc = 0; oc < cout * cin; oc++) {
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        out[(oc * L1 + d1 * a) * L2 + d2 * b] = kernel[(oc * kh + a) * kw + b]!;
      }
    }
  }
  return { kernel: out, kh: L1, kw: L2 };
}

/** 1-D analogue (kernel cout × cin × l, flat). */
export function expandKernel1d(
  kernel: Float64Array,
  cout: number,
  cin: number,
  l: number,
  dilation: number,
  stride: number,
): { readonly kernel: Float64Array; readonly l: number } {
  const e = expandKernel2d(kernel, cout, cin, 1, l, [1, dilation], stride);
  // With kh = 1 the height axis was padded to max(1, s); keep only its first row, which holds
  // the taps (the padding rows are zero and would otherwise inflate the kernel).
  if (e.kh === 1) return { kernel: e.kernel, l: e.kw };
  const out = new Float64Array(cout * cin * e.kw);
  for (let oc = 0; oc < cout * cin; oc++) {
    out.set(e.kernel.subarray(oc * e.kh * e.kw, oc * e.kh * e.kw + e.kw), oc * e.kw);
  }
  return { kernel: out, l: e.kw };
}

export function checkPositiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
}
