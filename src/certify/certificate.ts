/**
 * What every certifier returns (one rule per stage kind, one result): a verified ρ = (L/outerGain)²
 * and L, or a failure with its reason. Only `status: 'certified'` is a bound; 'provisional' is a
 * bisection result that was not verified (used to decide whether verifying is worth it).
 */
export interface Certificate {
  readonly status: 'certified' | 'provisional' | 'failed';
  /** Certified ρ (the squared bound before the input gain); +∞ when failed. */
  readonly rho: number;
  /** Certified L (√ρ·outerGain rounded up); +∞ when failed. */
  readonly L: number;
  /** [lo, hi]: at lo the fast recursion fails for these multipliers (not verified); hi is the verified ρ. */
  readonly rhoInterval: readonly [number, number];
  /** Forward recursions run. */
  readonly evaluations: number;
  /** Relative margin ε_k/‖Q*_k‖ on the outgoing weights that verification succeeded with (NaN when failed). */
  readonly margin: number;
  readonly reason?: string;
}

export function failedCertificate(reason: string, evaluations: number): Certificate {
  return { status: 'failed', rho: Infinity, L: Infinity, rhoInterval: [0, Infinity], evaluations, margin: NaN, reason };
}
