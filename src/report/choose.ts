/**
 * Which certified bound a run reports, and its status — one rule for every network kind:
 *  - 'certified' when the optimiser's multipliers verified and gave the smallest bound,
 *  - 'fallback' when only a start point's multipliers (the closed-form start) or the naive product
 *    verified, or gave a smaller bound (the source says which),
 *  - 'failed' when nothing verified.
 * Multipliers count as the optimiser's only if it ran at least one iteration: with none (an
 * iteration budget of 0, a time limit that ended the run first) they are the start point.
 * Ties go to the optimiser, then to the closed form.
 */
import type { CertificationStatus } from './types.js';

export type BoundSource = 'optimised' | 'closed-form' | 'naive';

export interface BoundCandidate {
  readonly source: BoundSource;
  /** A certified bound (non-finite or absent candidates are ignored). */
  readonly L: number;
  readonly rhoInterval: readonly [number, number] | null;
}

export interface ChosenBound {
  readonly upperBound: number | null;
  readonly status: CertificationStatus;
  readonly source: BoundSource | null;
  readonly rhoInterval: [number, number] | null;
}

const ORDER: readonly BoundSource[] = ['optimised', 'closed-form', 'naive'];

export function chooseBound(candidates: readonly (BoundCandidate | null | undefined)[]): ChosenBound {
  let best: BoundCandidate | null = null;
  for (const source of ORDER) {
    for (const c of candidates) {
      if (!c || c.source !== source || !(c.L >= 0) || !Number.isFinite(c.L)) continue;
      if (!best || c.L < best.L) best = c;
    }
  }
  if (!best) return { upperBound: null, status: 'failed', source: null, rhoInterval: null };
  return {
    upperBound: best.L,
    status: best.source === 'optimised' ? 'certified' : 'fallback',
    source: best.source,
    rhoInterval: best.rhoInterval ? [best.rhoInterval[0], best.rhoInterval[1]] : null,
  };
}
