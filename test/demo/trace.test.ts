/** The plot's data model and axis helpers (demo/src/trace.ts), without a DOM. */
import { describe, expect, it } from 'vitest';
import { ConvergenceTrace, extent, linearTicks, logTicks, pathData, scale } from '../../demo/src/trace.js';
import { describeProgress } from '../../demo/src/progress-text.js';

describe('ConvergenceTrace', () => {
  it('separates certified bounds (solve, done) from refinement estimates', () => {
    const t = new ConvergenceTrace();
    t.add({ phase: 'import' });
    t.add({ phase: 'solve', iteration: 10, maxIterations: 200, primalResidual: 0.5, dualResidual: 2, bestBound: null });
    t.add({ phase: 'solve', iteration: 20, maxIterations: 200, primalResidual: 0.1, dualResidual: 0.4, bestBound: 25 });
    t.add({ phase: 'refine', iteration: 1, bestBound: 24.9 });
    t.add({ phase: 'refine', iteration: 2, bestBound: 24.5 });
    t.add({ phase: 'done', bestBound: 24.4 });
    expect(t.primal.map((p) => p.x)).toEqual([10, 20]);
    expect(t.dual.map((p) => p.y)).toEqual([2, 0.4]);
    expect(t.certified).toEqual([
      { x: 20, y: 25 },
      { x: 22, y: 24.4 },
    ]);
    expect(t.estimates).toEqual([
      { x: 21, y: 24.9 },
      { x: 22, y: 24.5 },
    ]);
    expect(t.final).toBe(24.4);
    expect(t.empty).toBe(false);
  });

  it('drops non-positive and non-finite values (log scale)', () => {
    const t = new ConvergenceTrace();
    t.add({ phase: 'solve', iteration: 10, primalResidual: 0, dualResidual: Number.NaN, bestBound: Infinity });
    expect(t.empty).toBe(true);
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
  it('says which bound is certified', () => {
    expect(describeProgress({ phase: 'solve', iteration: 50, maxIterations: 200, primalResidual: 0.01, dualResidual: 0.02, bestBound: 24.5 })).toEqual({
      text: 'ADMM iteration 50 / 200, primal 1.0e-2, dual 2.0e-2, best certified L 24.5000',
      fraction: 0.25,
    });
    expect(describeProgress({ phase: 'refine', iteration: 3, bestBound: 24.4 }).text).toContain('not yet certified');
    expect(describeProgress({ phase: 'bounds' }).fraction).toBeNull();
  });
});
