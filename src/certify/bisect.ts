/**
 * The search of the dense certifier (fc-certify.ts; the stage-chain certifier, chain-certify.ts,
 * scales the output instead): for fixed multipliers, feasibility of the forward
 * recursion is monotone in ρ, so bracket the smallest feasible ρ geometrically, bisect (in log
 * scale) to `relTol`, then prove the final ρ with the certifier's rigorous verification — nudging ρ
 * up a little if rounding bites, and retrying with larger margins ε_k on the outgoing Q_k.
 */
import type { Steps } from '../util/steps.js';

export interface BisectionOptions {
  /** Starting point for the bracket (e.g. the solver's ρ). */
  readonly rhoGuess?: number;
  /** Relative width of the final interval. */
  readonly relTol?: number;
  /** false: stop after the bisection ('provisional', never to be reported as a bound). */
  readonly verify?: boolean;
  /**
   * Give up when no ρ ≤ rhoGuess·maxGrowth is feasible (default 1e6 with a guess, unbounded
   * without). Multipliers that need ρ a million times the solver's own value certify nothing
   * useful, and on long residual chains whose recursion saturates in ρ the search otherwise
   * climbs to overflow: ~50 recursions per margin, minutes each on the CIFAR-10 ResNets.
   */
  readonly maxGrowth?: number;
}

export interface BisectionResult<T> {
  readonly status: 'certified' | 'provisional' | 'failed';
  /** Verified (or provisional) ρ; +∞ when failed. */
  readonly rho: number;
  /** [lo, hi]: lo infeasible for these multipliers (fast test), hi the returned ρ. */
  readonly rhoInterval: readonly [number, number];
  readonly evaluations: number;
  /** Relative margin the result was obtained with (NaN when failed). */
  readonly margin: number;
  /** What `feasible` returned at the final ρ (the recursion's Q_k), when certified or provisional. */
  readonly data?: T;
}

export const MARGINS = [1e-10, 1e-8, 1e-6, 1e-4] as const;

/**
 * @param feasible the fast recursion at (ρ, margin), stepped: its data (e.g. the Q_k) or null if infeasible
 * @param verify   the rigorous check of every block at ρ with that data, stepped
 */
export function* bisectAndVerify<T>(
  feasible: (rho: number, margin: number) => Steps<T | null>,
  verify: (rho: number, data: T) => Steps<boolean>,
  opts: BisectionOptions = {},
): Steps<BisectionResult<T>> {
  let evaluations = 0;
  const ok = (rho: number, margin: number): Steps<T | null> => {
    evaluations++;
    return feasible(rho, margin);
  };
  const relTol = opts.relTol ?? 1e-7;
  const limit = opts.maxGrowth ?? (opts.rhoGuess !== undefined ? 1e6 : Infinity);
  for (const margin of MARGINS) {
    const bracket = yield* findBracket(function* (r) {
      return (yield* ok(r, margin)) !== null;
    }, opts.rhoGuess ?? 1, limit);
    // A larger margin only shrinks every Q_k: if no ρ is feasible with this one, none will be
    // with the next (the margins are for rounding in the verification, which was not reached).
    if (!bracket) break;
    let [lo, hi] = bracket;
    while (lo > 0 && hi / lo - 1 > relTol) {
      const mid = Math.sqrt(lo * hi);
      if (yield* ok(mid, margin)) hi = mid;
      else lo = mid;
    }
    if (opts.verify === false) {
      const data = (yield* ok(hi, margin)) ?? undefined;
      return { status: 'provisional', rho: hi, rhoInterval: [lo, hi], evaluations, margin, ...(data !== undefined ? { data } : {}) };
    }
    for (let t = 0; t < 4; t++) {
      const rho = hi * (1 + 1e-9 * 10 ** t);
      const data = yield* ok(rho, margin);
      if (data !== null && (yield* verify(rho, data))) return { status: 'certified', rho, rhoInterval: [lo, rho], evaluations, margin, data };
    }
  }
  return { status: 'failed', rho: Infinity, rhoInterval: [0, Infinity], evaluations, margin: NaN };
}

/**
 * [lo, hi] with lo infeasible (or 0) and hi feasible, by geometric expansion from a guess; null
 * when nothing up to guess·maxGrowth (or up to overflow) is feasible.
 */
export function* findBracket(ok: (rho: number) => Steps<boolean>, guess: number, maxGrowth = Infinity): Steps<[number, number] | null> {
  const g = guess > 0 && Number.isFinite(guess) ? guess : 1;
  let f = 1.001;
  if (yield* ok(g)) {
    let hi = g;
    for (let i = 0; i < 80; i++) {
      const lo = hi / f;
      if (lo < 1e-300) return [0, hi];
      if (!(yield* ok(lo))) return [lo, hi];
      hi = lo;
      f = Math.min(f * f, 1e8);
    }
    return [0, hi];
  }
  let lo = g;
  for (let i = 0; i < 80; i++) {
    const hi = Math.min(lo * f, g * maxGrowth);
    if (!Number.isFinite(hi) || hi <= lo) return null;
    if (yield* ok(hi)) return [lo, hi];
    lo = hi;
    f = Math.min(f * f, 1e8);
  }
  return null;
}
