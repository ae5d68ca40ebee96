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
  // Either test succeeding proves M ≻ 0; neither dominates the other (the shift is relative to
  // the trace, which the scaling changes), so the scaled one is the fallback.
  const plain = checkShifted(m, n, absM, opsPerEntry);
  if (plain.ok) return plain;
  const scaled = equilibrate(m, n, absM);
  return scaled ? checkShifted(scaled.m, n, scaled.absM, opsPerEntry) : plain;
}

/**
 * D·M·D and D·|M|·D with D = diag(2^k_i) making the diagonal ≈ 1, or null when not needed or not
 * exact. Powers of two scale every entry (and every rounding error bound) exactly, and D·M·D ≻ 0 ⇔
 * M ≻ 0, so the test is unchanged in meaning; but the shift c ∝ tr is now relative to a unit
 * diagonal. Without it, stage LMIs whose variables live on scales 10¹³ apart (a long residual
 * chain's storage matrices next to ρ·I) failed the test with a smallest eigenvalue of 10⁻¹⁴·tr.
 * Null (use M as is) if a scaled nonzero entry would leave the normal range, where scaling
 * stops being exact.
 */
function equilibrate(m: Float64Array, n: number, absM?: Float64Array): { m: Float64Array; absM?: Float64Array } | null {
  const d = new Float64Array(n);
  let spread = false;
  for (let i = 0; i < n; i++) {
    const v = m[i * n + i]!;
    if (!(v > 0) || !Number.isFinite(v)) return null;
    const k = Math.max(-500, Math.min(500, -Math.round(Math.log2(v) / 2)));
    d[i] = 2 ** k;
    if (k !== 0) spread = true;
  }
  if (!spread) return null;
  const out = new Float64Array(n * n);
  const outAbs = absM ? new Float64Array(n * n) : undefined;
  const MIN_NORMAL = 2 ** -1022;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const f = d[i]! * d[j]!;
      const v = m[i * n + j]! * f;
      if (v !== 0 && (Math.abs(v) < MIN_NORMAL || !Number.isFinite(v))) return null;
      out[i * n + j] = v;
      if (outAbs) {
        const a = absM![i * n + j]! * f;
        if (a !== 0 && (a < MIN_NORMAL || !Number.isFinite(a))) return null;
        outAbs[i * n + j] = a;
      }
    }
  return outAbs ? { m: out, absM: outAbs } : { m: out };
}

function checkShifted(m: Float64Array, n: number, absM: Float64Array | undefined, opsPerEntry: number): PsdCheck {
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
