/** The charts' data model and axis helpers (demo/src/trace.ts) and the progress line, without a DOM. */
import { describe, expect, it } from 'vitest';
import { ConvergenceTrace, extent, linearTicks, logTicks, logTicks125, pathData, scale } from '../../demo/src/trace.js';
import { describeProgress, type ProgressContext } from '../../demo/src/progress-text.js';

describe('ConvergenceTrace', () => {
  it('separates certified bounds (solve, done) from optimiser estimates, against time', () => {
    const t = new ConvergenceTrace();
    t.add({ phase: 'import' }, 0);
    t.add({ phase: 'solve', iteration: 10, maxIterations: 200, primalResidual: 0.5, dualResidual: 2, bestBound: null }, 1);
    t.add({ phase: 'solve', iteration: 20, maxIterations: 200, primalResidual: 0.1, dualResidual: 0.4, bestBound: 25 }, 2);
    t.add({ phase: 'refine', iteration: 1, bestBound: 24.9 }, 3);
    t.add({ phase: 'refine', iteration: 2, bestBound: 24.5 }, 4);
    t.add({ phase: 'done', bestBound: 24.4 }, 5);
    expect(t.solverKind).toBe('admm');
    expect(t.primal.map((p) => p.x)).toEqual([1, 2]);
    expect(t.dual.map((p) => p.y)).toEqual([2, 0.4]);
    expect(t.certified).toEqual([
      { x: 2, y: 25 },
      { x: 5, y: 24.4 },
    ]);
    expect(t.estimates).toEqual([
      { x: 3, y: 24.9 },
      { x: 4, y: 24.5 },
    ]);
    expect(t.final).toBe(24.4);
    expect(t.phases.map((p) => p.phase)).toEqual(['import', 'solve', 'refine', 'done']);
    // Relative distance to the final bound; the final point itself has no place on a log axis.
    const gaps = t.relativeGap(t.certified);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]!.y).toBeCloseTo(0.6 / 24.4, 12);
    const csv = t.toCsv().trim().split('\n');
    expect(csv[0]).toBe('t_s,phase,iteration,primal_residual,dual_residual,bound,bound_certified');
    expect(csv).toHaveLength(7);
    expect(csv[4]).toBe('3.000,refine,1,,,24.9,false');
    expect(t.toCsv()).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('knows an optimiser-only run (conv nets) and has no certified bound until done', () => {
    const t = new ConvergenceTrace();
    t.add({ phase: 'build' }, 0.5);
    t.add({ phase: 'refine', iteration: 1, bestBound: 16 }, 1);
    expect(t.solverKind).toBe('optimiser');
    expect(t.bestCertified).toBeNull();
    expect(t.reference).toBe(16);
    t.add({ phase: 'done', bestBound: 15 }, 2);
    expect(t.bestCertified).toBe(15);
  });

  it('drops non-positive and non-finite values (log scale)', () => {
    const t = new ConvergenceTrace();
    t.add({ phase: 'solve', iteration: 10, primalResidual: 0, dualResidual: Number.NaN, bestBound: Infinity }, 1);
    expect(t.empty).toBe(true);
    expect(t.toCsv()).not.toMatch(/NaN|Infinity/);
  });
});

describe('axis helpers', () => {
  it('scales linearly and logarithmically', () => {
    expect(scale([0, 10], [100, 200])(5)).toBe(150);
    expect(scale([1e-3, 1e1], [0, 4], true)(1e-1)).toBeCloseTo(2, 12);
  });

  it('extent widens a single value and ignores nulls', () => {
    expect(extent([[{ x: 0, y: 2 }]], [null])).toEqual([1.9, 2.1]);
    expect(extent([], [null])).toBeNull();
    expect(extent([[{ x: 0, y: 3 }]], [1, null])).toEqual([1, 3]);
  });

  it('makes round ticks', () => {
    expect(logTicks(0.003, 2)).toEqual([0.001, 0.01, 0.1, 1, 10]);
    expect(logTicks125(15, 35)).toEqual([20]);
    expect(logTicks125(1.5, 35)).toEqual([2, 5, 10, 20]);
    expect(linearTicks(0, 200, 4)).toEqual([0, 50, 100, 150, 200]);
    expect(linearTicks(17.2, 26.9, 4)).toEqual([18, 20, 22, 24, 26]);
    expect(linearTicks(3, 3)).toEqual([3]);
  });

  it('writes path data', () => {
    const id = (v: number) => v;
    expect(pathData([{ x: 1, y: 2 }, { x: 3, y: 4 }], id, id)).toBe('M1.0,2.0L3.0,4.0');
  });
});

describe('progress text', () => {
  const ctx: ProgressContext = { backend: 'cpu', solverKind: 'admm', denseChain: true, bestCertified: 24.5, phaseElapsed: 1, admmLimit: 15, optimiserLimit: 60, boundsLimit: 20 };

  it('names the phase for what runs and says whether a certified bound exists', () => {
    const admm = describeProgress({ phase: 'solve', iteration: 50, maxIterations: 200, primalResidual: 0.01, dualResidual: 0.02, bestBound: 24.5 }, ctx);
    expect(admm.text).toBe('ADMM (f64 on the CPU) iteration 50 of at most 200, limit 15 s, residuals primal 1.0e-2 / dual 2.0e-2; best certified L 24.5000');
    expect(admm.fraction).toBe(0.25);
    expect(describeProgress({ phase: 'refine', iteration: 3, bestBound: 24.4 }, ctx).text).toMatch(/^f64 refinement of the ADMM multipliers, iteration 3, estimate 24.4000 \(not certified\)/);
    const conv = describeProgress({ phase: 'refine', iteration: 3, bestBound: 16 }, { ...ctx, solverKind: 'optimiser', denseChain: false, bestCertified: null });
    expect(conv.text).toMatch(/^f64 multiplier optimiser, iteration 3, estimate 16.0000 \(not certified\), limit 60 s; no certified bound yet$/);
    expect(describeProgress({ phase: 'import' }, ctx).fraction).toBeNull();
    expect(describeProgress({ phase: 'bounds' }, { ...ctx, phaseElapsed: 5 }).fraction).toBe(0.25);
  });

  it('fills the bar by time when the time limit comes before the iteration limit', () => {
    expect(describeProgress({ phase: 'solve', iteration: 10, maxIterations: 200 }, { ...ctx, phaseElapsed: 7.5 }).fraction).toBe(0.5);
    expect(describeProgress({ phase: 'refine', iteration: 10 }, { ...ctx, phaseElapsed: 90 }).fraction).toBe(1);
  });
});
