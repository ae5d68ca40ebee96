/**
 * The progress line and bar for a ProgressEvent. Phases are named for what runs: on a dense
 * chain, ADMM and then the f64 refinement of its multipliers; on conv / pooling / residual /
 * 1-D nets, the f64 multiplier optimiser alone (no ADMM, no residuals). Whether a certified
 * bound exists yet is always said, since the optimiser's estimates are not certified.
 *
 * The bar shows the larger of the iteration fraction and the fraction of the phase's time limit
 * used: solvers stop at whichever comes first, so this never promises more work than is left
 * and does not jump from 10 / 200 to done when the time limit ends ADMM. The lower-bound search
 * fills it against its time cap; phases with no known length (import, build, certify) leave the
 * bar indeterminate.
 */
import type { ProgressEvent } from '../../src/report/types.js';
import type { DemoBackend } from './protocol.js';
import type { SolverKind } from './trace.js';

export interface ProgressView {
  readonly text: string;
  /** 0..1, or null when indeterminate. */
  readonly fraction: number | null;
}

export interface ProgressContext {
  readonly backend: DemoBackend;
  /** What the trace has seen so far (null before the solver starts). */
  readonly solverKind: SolverKind | null;
  /** Dense chain or not, when known from inspecting the model. */
  readonly denseChain: boolean | null;
  readonly bestCertified: number | null;
  /** Seconds spent in the current phase. */
  readonly phaseElapsed: number;
  /** Time limits in seconds. */
  readonly admmLimit: number;
  readonly optimiserLimit: number;
  /** Cap of the lower-bound search, seconds. */
  readonly boundsLimit: number;
}

export function describeProgress(e: ProgressEvent, ctx: ProgressContext): ProgressView {
  const est = e.bestBound !== undefined && e.bestBound !== null && Number.isFinite(e.bestBound) ? e.bestBound.toPrecision(6) : null;
  const certified = ctx.bestCertified !== null ? `best certified L ${ctx.bestCertified.toPrecision(6)}` : 'no certified bound yet';
  const optimiserName = optimiserPhaseName(ctx);
  switch (e.phase) {
    case 'import':
      return { text: 'Importing the ONNX model…', fraction: null };
    case 'bounds':
      return { text: `Naive bound and empirical lower bound (random search, at most ${fmtS(ctx.boundsLimit)})…`, fraction: clamp01(ctx.phaseElapsed / ctx.boundsLimit) };
    case 'build':
      return { text: ctx.denseChain === false ? 'Building the stage LMIs and the closed-form starting point…' : 'Building the layered SDP…', fraction: null };
    case 'solve': {
      const it = e.iteration ?? 0;
      const max = e.maxIterations;
      const res =
        e.primalResidual !== undefined && e.dualResidual !== undefined && Number.isFinite(e.primalResidual) && Number.isFinite(e.dualResidual)
          ? `, residuals primal ${e.primalResidual.toExponential(1)} / dual ${e.dualResidual.toExponential(1)}`
          : '';
      const arith = ctx.backend === 'webgpu' ? 'f32 on WebGPU' : 'f64 on the CPU';
      const f = Math.max(max ? it / max : 0, ctx.phaseElapsed / ctx.admmLimit);
      return { text: `ADMM (${arith}) iteration ${it}${max ? ` of at most ${max}` : ''}, limit ${fmtS(ctx.admmLimit)}${res}; ${certified}`, fraction: clamp01(f) };
    }
    case 'refine':
      return {
        text: `${optimiserName}, iteration ${e.iteration ?? 0}${est ? `, estimate ${est} (not certified)` : ''}, limit ${fmtS(ctx.optimiserLimit)}; ${certified}`,
        fraction: clamp01(ctx.phaseElapsed / ctx.optimiserLimit),
      };
    case 'certify':
      return { text: `Certifying in f64 (bisection on L²)…; ${certified}`, fraction: null };
    case 'done':
      return { text: est ? `Done: certified L ${est}` : 'Done: no certified bound', fraction: 1 };
  }
}

/** The optimiser that runs in the 'refine' phase, named for what it is. */
export function optimiserPhaseName(ctx: Pick<ProgressContext, 'solverKind' | 'denseChain'>): string {
  if (ctx.solverKind === 'admm' || ctx.denseChain === true) return 'f64 refinement of the ADMM multipliers';
  return 'f64 multiplier optimiser';
}

function clamp01(v: number): number {
  return Number.isFinite(v) ? Math.min(Math.max(v, 0), 1) : 0;
}

function fmtS(s: number): string {
  return `${Number(s.toPrecision(3))} s`;
}
