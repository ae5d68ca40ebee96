/**
 * Rigorous positive-semidefiniteness test in floating point.
 *
 * A matrix M is formed in f64 from stored data; its computed version M̂ differs from the exact M by
 * E with |E_ij| ≤ γ_K · |M|_ij, where |M| is the same formula evaluated on absolute values and K
 * bounds the number of rounded operations per entry (γ_K = K·u / (1 − K·u), u = 2⁻⁵³). So
 * ‖E‖₂ ≤ γ_K ‖|M|‖_F.
 *
 * Rump ("Verification of positive definiteness", BIT 46, 2006, Thm. 2.3 / Cor. 2.4): if the
 * floating-point Cholesky decomposition of Ã = M̂ − cI runs to completion with
 *   c ≥ γ_{n+1}/(1 − γ_{n+1}) · tr(M̂) + 4·(n + 2·max_i M̂_ii)·η  (η = 2⁻¹⁰⁷⁴, the underflow unit),
 * then M̂ is positive definite. We use c = 2·(that + ‖E‖ bound): the factor 2 covers the rounding
 * of computing c itself and of subtracting it from the diagonal. Success ⇒ M ≻ 0 exactly.
 */
import { choleskyInPlace } from '../linalg/cholesky.js';

const U = 2 ** -53;
const ETA = 2 ** -1074;

export function gamma(k: number): number {
  return (k * U) / (1 - k * U);
}

export interface PsdCheck {
  readonly ok: boolean;
  /** The shift c that was subtracted before the Cholesky test. */
  readonly shift: number;
}

/**
 * Is the exact matrix behind `m` (n×n, row-major, symmetric) positive definite, given that each
 * entry was computed with at most `opsPerEntry` rounded operations and `absM` (same layout) bounds
 * the absolute values of the terms summed in each entry? Pass absM = undefined for data stored
 * exactly (then only the Cholesky rounding is accounted for).
 */
export function verifyPositiveDefinite(m: Float64Array, n: number, absM?: Float64Array, opsPerEntry = 0): PsdCheck {
  let tr = 0;
  let maxDiag = 0;
  for (let i = 0; i < n; i++) {
    const v = m[i * n + i];
    if (!(v > 0)) return { ok: false, shift: 0 };
    tr += v;
    if (v > maxDiag) maxDiag = v;
  }
  let formation = 0;
  if (absM && opsPerEntry > 0) {
    let f2 = 0;
    for (let i = 0; i < n * n; i++) f2 += absM[i] * absM[i];
    formation = gamma(opsPerEntry) * Math.sqrt(f2) * (1 + 4 * n * U);
  }
  const g = gamma(n + 1);
  const shift = 2 * ((g / (1 - g)) * tr + 4 * (n + 2 * maxDiag) * ETA + formation);
  const a = Float64Array.from(m.subarray(0, n * n));
  for (let i = 0; i < n; i++) a[i * n + i] -= shift;
  return { ok: choleskyInPlace(a, n), shift };
}

/** Smallest double strictly greater than x (x finite, ≥ 0). */
export function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  buf.setBigUint64(0, buf.getBigUint64(0) + 1n);
  return buf.getFloat64(0);
}

/** An upper bound on √ρ: sqrt is correctly rounded, one step up covers it. */
export function sqrtUp(rho: number): number {
  return nextUp(Math.sqrt(rho));
}

/** An upper bound on a·b for a, b ≥ 0. */
export function mulUp(a: number, b: number): number {
  return nextUp(a * b);
}
