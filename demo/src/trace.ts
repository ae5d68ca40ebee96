/**
 * The convergence history of one run, collected from ProgressEvents, in the shape the plot
 * draws. Kept free of the DOM so it can be unit-tested.
 *
 * What is certified: ProgressEvent.bestBound in the 'solve' phase and in 'done' is a bound that
 * passed the f64 certificate; in the 'refine' phase it is the refinement's objective (an
 * estimate of where the final certified bound will land), not a certified value.
 */
import type { ProgressEvent } from '../../src/report/types.js';

export interface Point {
  readonly x: number;
  readonly y: number;
}

export class ConvergenceTrace {
  readonly primal: Point[] = [];
  readonly dual: Point[] = [];
  /** Best certified bound after each ADMM iteration where one existed, and the final one. */
  readonly certified: Point[] = [];
  /** Refinement-phase bound estimates (not certified). */
  readonly estimates: Point[] = [];
  /** Last ADMM iteration seen: refinement steps are drawn after it. */
  admmEnd = 0;
  /** Final certified bound (from the 'done' event), if any. */
  final: number | null = null;
  /** Reference lines added from the report. */
  lowerBound: number | null = null;

  add(e: ProgressEvent): void {
    if (e.phase === 'solve' && e.iteration !== undefined) {
      const x = e.iteration;
      this.admmEnd = Math.max(this.admmEnd, x);
      if (isPositive(e.primalResidual)) this.primal.push({ x, y: e.primalResidual });
      if (isPositive(e.dualResidual)) this.dual.push({ x, y: e.dualResidual });
      if (isPositive(e.bestBound)) this.certified.push({ x, y: e.bestBound });
    } else if (e.phase === 'refine' && e.iteration !== undefined && isPositive(e.bestBound)) {
      this.estimates.push({ x: this.admmEnd + e.iteration, y: e.bestBound });
    } else if (e.phase === 'done' && isPositive(e.bestBound)) {
      this.final = e.bestBound;
      this.certified.push({ x: this.lastX(), y: e.bestBound });
    }
  }

  lastX(): number {
    const last = this.estimates[this.estimates.length - 1];
    return Math.max(this.admmEnd, last ? last.x : 0);
  }

  get empty(): boolean {
    return this.primal.length === 0 && this.certified.length === 0 && this.estimates.length === 0;
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
