/**
 * One line of text and a progress fraction (null: indeterminate) for a ProgressEvent. ADMM stops
 * at maxIterations or earlier (tolerance, time budget, stalled certified bound), so the fraction
 * is an upper estimate of the work left; the other phases have no known length.
 */
import type { ProgressEvent } from '../../src/report/types.js';

export interface ProgressView {
  readonly text: string;
  readonly fraction: number | null;
}

export function describeProgress(e: ProgressEvent): ProgressView {
  const bound = e.bestBound !== undefined && e.bestBound !== null && Number.isFinite(e.bestBound) ? e.bestBound.toPrecision(6) : null;
  switch (e.phase) {
    case 'import':
      return { text: 'importing the ONNX model…', fraction: null };
    case 'bounds':
      return { text: 'naive bound and empirical lower bound…', fraction: null };
    case 'build':
      return { text: 'building the layered SDP…', fraction: null };
    case 'solve': {
      const it = e.iteration ?? 0;
      const max = e.maxIterations;
      const res =
        e.primalResidual !== undefined && e.dualResidual !== undefined
          ? `, primal ${e.primalResidual.toExponential(1)}, dual ${e.dualResidual.toExponential(1)}`
          : '';
      const best = bound ? `, best certified L ${bound}` : '';
      return { text: `ADMM iteration ${it}${max ? ` / ${max}` : ''}${res}${best}`, fraction: max ? Math.min(it / max, 1) : null };
    }
    case 'refine':
      return { text: `f64 refinement, iteration ${e.iteration ?? 0}${bound ? `, estimate ${bound} (not yet certified)` : ''}`, fraction: null };
    case 'certify':
      return { text: 'f64 certificate…', fraction: null };
    case 'done':
      return { text: bound ? `done: certified L ${bound}` : 'done', fraction: 1 };
  }
}
