/**
 * Empirical lower bound on the Lipschitz constant: max over sampled inputs of ‖J(x)‖₂, found by
 * power iteration on JᵀJ (forward- and reverse-mode products), followed by an ascent that moves x
 * along the current top right-singular vector (where the Jacobian stretches most) with a step
 * search, and for smooth activations a finite-difference gradient step on ‖J(x)v‖.
 *
 * Every value reported is a difference quotient ‖f(x + h v) − f(x)‖ / ‖h v‖, which is ≤ L by
 * definition for any x, v, h — so the lower bound never depends on differentiability.
 *
 * estimateLipschitz now uses the stronger, iteration-budgeted search of search.ts on image and
 * vector networks; this simpler search remains for the 1-D signal networks (bounds/lower-oned.ts,
 * whose long random sequences need no pattern search) and as the "before" of bench/lower-bound.ts.
 */
import { runStepsSync, type Steps } from '../util/steps.js';
import { gaussian, mulberry32 } from '../util/random.js';

export interface DifferentiableMap {
  readonly inputSize: number;
  f(x: Float64Array): Float64Array;
  jvp(x: Float64Array, t: Float64Array): Float64Array;
  vjp(x: Float64Array, v: Float64Array): Float64Array;
}

export interface LowerBoundOptions {
  /** Random starting points. */
  readonly samples?: number;
  readonly powerIters?: number;
  /** Power iterations when warm-started from a nearby point's singular vector (ascent trials). */
  readonly warmPowerIters?: number;
  /** Ascent rounds per start. */
  readonly ascentSteps?: number;
  /** Standard deviation of the Gaussian starting points (the input scale). */
  readonly inputScale?: number;
  /** Centre of the starting points (defaults to 0). */
  readonly center?: Float64Array;
  readonly seed?: number;
  readonly signal?: AbortSignal;
  /** Wall-clock budget in ms. */
  readonly timeBudgetMs?: number;
}

export interface LowerBound {
  readonly bound: number;
  /** Input and direction realising it. */
  readonly x: Float64Array;
  readonly direction: Float64Array;
}

export function empiricalLowerBound(map: DifferentiableMap, opts: LowerBoundOptions = {}): LowerBound {
  return runStepsSync(empiricalLowerBoundSteps(map, opts));
}

/** The search, pausing after every power iteration (run under the run's budget by the 1-D pipeline). */
export function* empiricalLowerBoundSteps(map: DifferentiableMap, opts: LowerBoundOptions = {}): Steps<LowerBound> {
  const n = map.inputSize;
  const samples = opts.samples ?? 8;
  const powerIters = opts.powerIters ?? 30;
  // A trial point near x starts from x's top singular vector, which is already close: a few
  // iterations suffice (the quotient reported is exact whatever the direction's quality).
  const warmPowerIters = opts.warmPowerIters ?? 8;
  const ascentSteps = opts.ascentSteps ?? 6;
  const scale = opts.inputScale ?? 1;
  const gauss = gaussian(mulberry32(opts.seed ?? 12345));
  const deadline = opts.timeBudgetMs !== undefined ? Date.now() + opts.timeBudgetMs : Infinity;
  let best: LowerBound = { bound: 0, x: new Float64Array(n), direction: new Float64Array(n) };

  const topSingular = function* (x: Float64Array, v0?: Float64Array): Steps<Float64Array> {
    let v: Float64Array = v0 ? Float64Array.from(v0) : Float64Array.from({ length: n }, gauss);
    normalise(v);
    const iters = v0 ? warmPowerIters : powerIters;
    for (let i = 0; i < iters; i++) {
      yield;
      const w = map.vjp(x, map.jvp(x, v));
      if (!normalise(w)) break;
      v = w;
    }
    return v;
  };
  const quotient = (x: Float64Array, v: Float64Array): number => {
    const h = 1e-6 * Math.max(1, norm(x));
    const xp = x.map((xi, i) => xi + h * v[i]);
    const d = map.f(xp);
    const f0 = map.f(x);
    let s = 0;
    for (let i = 0; i < d.length; i++) s += (d[i] - f0[i]) ** 2;
    return Math.sqrt(s) / (h * norm(v));
  };
  const consider = (x: Float64Array, v: Float64Array): number => {
    const q = quotient(x, v);
    if (q > best.bound) best = { bound: q, x: Float64Array.from(x), direction: Float64Array.from(v) };
    return q;
  };

  for (let sIdx = 0; sIdx < samples; sIdx++) {
    if (opts.signal?.aborted || Date.now() > deadline) break;
    let x = Float64Array.from({ length: n }, (_, i) => (opts.center ? opts.center[i] : 0) + scale * gauss());
    let v = yield* topSingular(x);
    let cur = consider(x, v);
    for (let step = 0; step < ascentSteps; step++) {
      if (Date.now() > deadline) break;
      let improved = false;
      // Move along ±v by a range of step lengths; keep the best point.
      for (const eta of [0.02, 0.1, 0.5, 2]) {
        for (const sign of [1, -1]) {
          if (Date.now() > deadline) break;
          const xt = x.map((xi, i) => xi + sign * eta * scale * v[i]);
          const vt = yield* topSingular(xt, v);
          const q = consider(xt, vt);
          if (q > cur * (1 + 1e-9)) {
            cur = q;
            x = xt;
            v = vt;
            improved = true;
          }
        }
      }
      if (!improved) break;
    }
  }
  return best;
}

function norm(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

function normalise(v: Float64Array): boolean {
  const s = norm(v);
  if (!(s > 0) || !Number.isFinite(s)) return false;
  for (let i = 0; i < v.length; i++) v[i] /= s;
  return true;
}
