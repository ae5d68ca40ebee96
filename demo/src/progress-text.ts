/**
 * The progress line and bar for a ProgressEvent. Every network kind (dense chains, conv /
 * pooling / residual nets, 1-D nets) goes through the same phases: import, the naive and
 * lower bounds, building the stage LMIs, the f64 multiplier optimiser ('refine'), the f64
 * certificate. Whether a certified bound exists yet is always said, since the optimiser's
 * estimates are not certified.
 *
 * The run's time limit (the library's `timeLimitMs`) is counted from the start of the run, and
 * the optimiser stops when it passes: the optimiser's bar shows the larger of the iteration
 * fraction (when the event gives an iteration limit) and the fraction of the time limit used so
 * far, so it never promises more work than is left. The lower-bound search fills the bar against
 * its own time cap; phases with no known length (import, build, certify) leave it indeterminate.
 */
import type { ProgressEvent } from '../../src/report/types.js';

export interface ProgressView {
  readonly text: string;
  /** 0..1, or null when indeterminate. */
  readonly fraction: number | null;
}

export interface ProgressContext {
  readonly bestCertified: number | null;
  /** Seconds spent in the current phase. */
  readonly phaseElapsed: number;
  /** Seconds since the run started. */
  readonly runElapsed: number;
  /** The run's time limit, seconds. */
  readonly timeLimit: number;
  /** Cap of the lower-bound search, seconds. */
  readonly boundsLimit: number;
}

/** What the 'refine' phase runs, for every network kind. */
export const OPTIMISER_NAME = 'f64 multiplier optimiser';

export function describeProgress(e: ProgressEvent, ctx: ProgressContext): ProgressView {
  const est = e.bestBound !== undefined && e.bestBound !== null && Number.isFinite(e.bestBound) ? e.bestBound.toPrecision(6) : null;
  const certified = ctx.bestCertified !== null ? `best certified L ${ctx.bestCertified.toPrecision(6)}` : 'no certified bound yet';
  // A phase this page does not name (the library's type allows more than it emits) is shown as is.
  const phase: string = e.phase;
  switch (e.phase) {
    case 'import':
      return { text: 'Importing the ONNX model…', fraction: null };
    case 'bounds':
      return { text: `Naive bound and empirical lower bound (random search, at most ${fmtS(ctx.boundsLimit)})…`, fraction: clamp01(ctx.phaseElapsed / ctx.boundsLimit) };
    case 'build':
      return { text: 'Building the stage LMIs and the closed-form starting point…', fraction: null };
    case 'refine': {
      const it = e.iteration ?? 0;
      const max = e.maxIterations;
      const f = Math.max(max ? it / max : 0, ctx.runElapsed / ctx.timeLimit);
      const bound = est === null ? '' : e.bestBoundCertified ? `, certified L ${est}` : `, estimate ${est} (not certified)`;
      return {
        text: `${OPTIMISER_NAME}, iteration ${it}${max ? ` of at most ${max}` : ''}${bound}, time limit ${fmtS(ctx.timeLimit)}; ${certified}`,
        fraction: clamp01(f),
      };
    }
    case 'certify':
      return { text: `Certifying in f64 (bisection on L²)…; ${certified}`, fraction: null };
    case 'done':
      return { text: est ? `Done: certified L ${est}` : 'Done: no certified bound', fraction: 1 };
    default:
      return { text: `${phase}…; ${certified}`, fraction: null };
  }
}

function clamp01(v: number): number {
  return Number.isFinite(v) ? Math.min(Math.max(v, 0), 1) : 0;
}

function fmtS(s: number): string {
  return `${Number(s.toPrecision(3))} s`;
}
