/** The charts' data model and axis helpers (demo/src/trace.ts) and the progress line, without a DOM. */
import { describe, expect, it } from 'vitest';
import { ConvergenceTrace, extent, linearTicks, logTicks, logTicks125, pathData, scale } from '../../demo/src/trace.js';
import { describeProgress, type ProgressContext } from '../../demo/src/progress-text.js';

describe('ConvergenceTrace', () => {
  it('separates optimiser estimates (refine) from the certified bound (done), against time', () => {
    // The events of any network kind, dense chains included: build, refine, certify, done.
    const t = new ConvergenceTrace();
    t.add({ phase: 'import' }, 0);
    t.add({ phase: 'bounds' }, 0.5);
    t.add({ phase: 'build' }, 1);
    t.add({ phase: 'refine', iteration: 1, bestBound: 25, bestBoundCertified: false }, 2);
    t.add({ phase: 'refine', iteration: 2, bestBound: 24.9, bestBoundCertified: false }, 3);
    t.add({ phase: 'refine', iteration: 3, bestBound: 24.5, bestBoundCertified: false }, 4);
    t.add({ phase: 'certify' }, 4.5);
    t.add({ phase: 'done', bestBound: 24.6, bestBoundCertified: true }, 5);
    expect(t.certified).toEqual([{ x: 5, y: 24.6 }]);
    expect(t.estimates).toEqual([
      { x: 2, y: 25 },
      { x: 3, y: 24.9 },
      { x: 4, y: 24.5 },
    ]);
    expect(t.final).toBe(24.6);
    expect(t.bestCertified).toBe(24.6);
    expect(t.phases.map((p) => p.phase)).toEqual(['import', 'bounds', 'build', 'refine', 'certify', 'done']);
    // Relative distance to the final bound (the estimates may lie on either side of it).
    const gaps = t.relativeGap(t.estimates);
    expect(gaps.map((g) => g.x)).toEqual([2, 3, 4]);
    expect(gaps[0]!.y).toBeCloseTo(0.4 / 24.6, 12);
    expect(gaps[2]!.y).toBeCloseTo(0.1 / 24.6, 12);
    // The final point itself has no place on a log axis.
    expect(t.relativeGap(t.certified)).toEqual([]);
    const csv = t.toCsv().trim().split('\n');
    expect(csv[0]).toBe('t_s,phase,iteration,bound,bound_certified');
    expect(csv).toHaveLength(9);
    expect(csv[1]).toBe('0.000,import,,,');
    expect(csv[4]).toBe('2.000,refine,1,25,false');
    expect(csv[8]).toBe('5.000,done,,24.6,true');
    expect(t.toCsv()).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('has no certified bound until done, and follows the library\'s certified flag', () => {
    const t = new ConvergenceTrace();
    t.add({ phase: 'build' }, 0.5);
    t.add({ phase: 'refine', iteration: 1, bestBound: 16, bestBoundCertified: false }, 1);
    expect(t.bestCertified).toBeNull();
    expect(t.reference).toBe(16);
    expect(t.lastEstimate).toBe(16);
    // A bound the library flags as certified counts as one in any phase.
    t.add({ phase: 'refine', iteration: 2, bestBound: 15.5, bestBoundCertified: true }, 1.5);
    expect(t.bestCertified).toBe(15.5);
    expect(t.lastEstimate).toBe(16);
    expect(t.final).toBeNull();
    // Without the flag, only the 'done' event's bound is certified.
    t.add({ phase: 'done', bestBound: 15 }, 2);
    expect(t.bestCertified).toBe(15);
    expect(t.final).toBe(15);
  });

  it('drops non-positive and non-finite values (log scale)', () => {
    const t = new ConvergenceTrace();
    t.add({ phase: 'refine', iteration: 10, bestBound: Infinity }, 1);
    t.add({ phase: 'refine', iteration: 11, bestBound: 0 }, 1.5);
    t.add({ phase: 'done', bestBound: Number.NaN }, 2);
    expect(t.empty).toBe(true);
    expect(t.final).toBeNull();
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
  const ctx: ProgressContext = { bestCertified: null, phaseElapsed: 1, runElapsed: 15, timeLimit: 60, boundsLimit: 20 };

  it('names the phase for what runs and says whether a certified bound exists', () => {
    const refine = describeProgress({ phase: 'refine', iteration: 3, bestBound: 16, bestBoundCertified: false }, ctx);
    expect(refine.text).toBe('f64 multiplier optimiser, iteration 3, estimate 16.0000 (not certified), time limit 60 s; no certified bound yet');
    expect(refine.fraction).toBe(0.25);
    expect(describeProgress({ phase: 'refine', iteration: 4, bestBound: 24.4, bestBoundCertified: true }, { ...ctx, bestCertified: 24.4 }).text).toBe(
      'f64 multiplier optimiser, iteration 4, certified L 24.4000, time limit 60 s; best certified L 24.4000',
    );
    expect(describeProgress({ phase: 'build' }, ctx)).toEqual({ text: 'Building the stage LMIs and the closed-form starting point…', fraction: null });
    expect(describeProgress({ phase: 'certify' }, { ...ctx, bestCertified: 24.5 }).text).toBe('Certifying in f64 (bisection on L²)…; best certified L 24.5000');
    expect(describeProgress({ phase: 'done', bestBound: 24.5, bestBoundCertified: true }, ctx)).toEqual({ text: 'Done: certified L 24.5000', fraction: 1 });
    expect(describeProgress({ phase: 'done', bestBound: null }, ctx).text).toBe('Done: no certified bound');
    expect(describeProgress({ phase: 'import' }, ctx).fraction).toBeNull();
    expect(describeProgress({ phase: 'bounds' }, { ...ctx, phaseElapsed: 5 }).fraction).toBe(0.25);
    for (const phase of ['import', 'bounds', 'build', 'refine', 'certify', 'done'] as const) expect(describeProgress({ phase, iteration: 1, bestBound: 20 }, ctx).text).not.toMatch(/ADMM|residual|undefined/);
  });

  it("fills the optimiser's bar by the run's time, or by iterations when they come first", () => {
    // The time limit counts from the start of the run, not of the optimiser.
    expect(describeProgress({ phase: 'refine', iteration: 10 }, { ...ctx, phaseElapsed: 1, runElapsed: 30 }).fraction).toBe(0.5);
    expect(describeProgress({ phase: 'refine', iteration: 10 }, { ...ctx, runElapsed: 90 }).fraction).toBe(1);
    const byIterations = describeProgress({ phase: 'refine', iteration: 150, maxIterations: 200 }, { ...ctx, runElapsed: 6 });
    expect(byIterations.fraction).toBe(0.75);
    expect(byIterations.text).toMatch(/^f64 multiplier optimiser, iteration 150 of at most 200, time limit 60 s;/);
  });
});
