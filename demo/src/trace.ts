/**
 * The convergence history of one run, collected from ProgressEvents with the time each arrived,
 * in the shape the plots draw and the trace download writes. Kept free of the DOM so it can be
 * unit-tested.
 *
 * What is certified: the library flags each ProgressEvent.bestBound (bestBoundCertified). In the
 * 'refine' phase it is the f64 multiplier optimiser's objective (an estimate of where the final
 * certified bound will land), not a certified value; in 'done' it is the bound that passed the
 * f64 certificate.
 */
import type { ProgressEvent } from '../../src/report/types.js';

export interface Point {
  /** Seconds since the run started. */
  readonly x: number;
  readonly y: number;
}

/** One progress event as the trace download records it. */
export interface TraceSample {
  readonly t: number;
  readonly phase: ProgressEvent['phase'];
  readonly iteration: number | null;
  /** The event's bound: an estimate in 'refine', certified in 'done' (see `certified`). */
  readonly bound: number | null;
  readonly certified: boolean;
}

export class ConvergenceTrace {
  readonly samples: TraceSample[] = [];
  /** Certified bounds when they were reported (the final certificate, and any the library flags as certified). */
  readonly certified: Point[] = [];
  /** Optimiser bound estimates (not certified). */
  readonly estimates: Point[] = [];
  /** When each phase began (seconds), in order. */
  readonly phases: { readonly phase: ProgressEvent['phase']; readonly t: number }[] = [];
  /** Final certified bound (from the 'done' event), if any. */
  final: number | null = null;
  /** Reference values from the report, for the interval chart. */
  lowerBound: number | null = null;
  naiveBound: number | null = null;
  closedFormBound: number | null = null;

  /** Record an event that arrived `t` seconds after the run started. */
  add(e: ProgressEvent, t: number): void {
    const bound = isPositive(e.bestBound) ? e.bestBound : null;
    // The library's flag when it gives one; the 'done' event's bound is the certified result.
    const certified = bound !== null && (e.bestBoundCertified ?? e.phase === 'done');
    this.samples.push({ t, phase: e.phase, iteration: e.iteration ?? null, bound, certified });
    if (this.phases[this.phases.length - 1]?.phase !== e.phase) this.phases.push({ phase: e.phase, t });
    if (bound === null) return;
    if (certified) {
      this.certified.push({ x: t, y: bound });
      if (e.phase === 'done') this.final = bound;
    } else if (e.phase === 'refine') this.estimates.push({ x: t, y: bound });
  }

  /** The best certified bound so far, or null while there is none. */
  get bestCertified(): number | null {
    let best: number | null = null;
    for (const p of this.certified) if (best === null || p.y < best) best = p.y;
    return best;
  }

  /** The latest uncertified estimate, if any. */
  get lastEstimate(): number | null {
    return this.estimates[this.estimates.length - 1]?.y ?? null;
  }

  get lastT(): number {
    return this.samples[this.samples.length - 1]?.t ?? 0;
  }

  get empty(): boolean {
    return this.certified.length === 0 && this.estimates.length === 0;
  }

  /** The value gaps are measured against: the final bound, else the best certified, else the last estimate. */
  get reference(): number | null {
    return this.final ?? this.bestCertified ?? this.lastEstimate;
  }

  /**
   * |y − ref| / ref for each point: how far a bound was from where the run ended. Points equal to
   * the reference have no place on a log scale and are left out (the chart says so).
   */
  relativeGap(points: readonly Point[]): Point[] {
    const ref = this.reference;
    if (ref === null) return [];
    const out: Point[] = [];
    for (const p of points) {
      const g = Math.abs(p.y - ref) / ref;
      if (g > 0 && Number.isFinite(g)) out.push({ x: p.x, y: g });
    }
    return out;
  }

  /** The trace as CSV (one row per progress event; empty cells where a value does not apply). */
  toCsv(): string {
    const rows = ['t_s,phase,iteration,bound,bound_certified'];
    for (const s of this.samples) rows.push([s.t.toFixed(3), s.phase, s.iteration ?? '', s.bound ?? '', s.bound === null ? '' : s.certified].join(','));
    return rows.join('\n') + '\n';
  }
}

function isPositive(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

/** Affine or log10 map of a data interval onto a pixel interval. */
export function scale(domain: readonly [number, number], range: readonly [number, number], log = false): (v: number) => number {
  const f = log ? Math.log10 : (v: number) => v;
  const d0 = f(domain[0]);
  const d1 = f(domain[1]);
  const span = d1 - d0 || 1;
  return (v) => range[0] + ((f(v) - d0) / span) * (range[1] - range[0]);
}

/** Min and max over several series, widened when degenerate; null when there is no data. */
export function extent(series: readonly (readonly Point[])[], extra: readonly (number | null)[] = []): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  const values = [...series.flatMap((s) => s.map((p) => p.y)), ...extra.filter((v): v is number => v !== null && Number.isFinite(v))];
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (!Number.isFinite(lo)) return null;
  if (hi === lo) return [lo * 0.95 || -1, hi * 1.05 || 1];
  return [lo, hi];
}

/** Powers of ten covering [lo, hi] (log axis ticks). */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) out.push(10 ** k);
  return out;
}

/**
 * Ticks for a log axis over a narrow range (less than a decade or two): 1, 2 and 5 times powers
 * of ten inside [lo, hi], so that an interval like [18, 32] still gets labelled ticks.
 */
export function logTicks125(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++)
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** k;
      if (v >= lo && v <= hi) out.push(Number(v.toPrecision(12)));
    }
  return out;
}

/** About `count` round-valued ticks spanning [lo, hi] (linear axis). */
export function linearTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo) || !Number.isFinite(hi - lo)) return Number.isFinite(lo) ? [lo] : [];
  const raw = (hi - lo) / Math.max(count, 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  // The round step (1, 2 or 5 times a power of ten) giving the tick count closest to `count`.
  const steps = [1, 2, 5, 10].map((m) => m * mag);
  const step = steps.reduce((best, s) => (Math.abs((hi - lo) / s - count) < Math.abs((hi - lo) / best - count) ? s : best));
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** SVG path data through the points (M then L segments). */
export function pathData(points: readonly Point[], sx: (v: number) => number, sy: (v: number) => number): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join('');
}

/** A best-so-far series drawn as steps: the bound holds until the next improvement. */
export function stepped(points: readonly Point[]): Point[] {
  const out: Point[] = [];
  for (const p of points) {
    const prev = out[out.length - 1];
    if (prev && prev.y !== p.y) out.push({ x: p.x, y: prev.y });
    out.push(p);
  }
  return out;
}
