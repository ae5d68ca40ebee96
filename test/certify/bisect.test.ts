/**
 * The shared ρ search (src/certify/bisect.ts): brackets and bisects a monotone feasibility test
 * to the requested width, gives up at the growth limit, and does not retry larger margins when
 * nothing was feasible with the smallest one.
 */
import { describe, expect, it } from 'vitest';
import { bisectAndVerify, findBracket, MARGINS, type BisectionOptions } from '../../src/certify/bisect.js';
import { runStepsSync, stepsOf } from '../../src/util/steps.js';

/** The stepped search run straight through on plain functions. */
function bisect<T>(feasible: (rho: number, margin: number) => T | null, verify: (rho: number, data: T) => boolean, opts: BisectionOptions) {
  return runStepsSync(bisectAndVerify((r, m) => stepsOf(feasible(r, m)), (r, d: T) => stepsOf(verify(r, d)), opts));
}
function bracket(ok: (rho: number) => boolean, guess: number, maxGrowth: number) {
  return runStepsSync(findBracket((r) => stepsOf(ok(r)), guess, maxGrowth));
}

describe('bisectAndVerify', () => {
  it('finds the threshold of a monotone test from guesses on either side, to relTol', () => {
    for (let trial = 0; trial < 20; trial++) {
      const threshold = 10 ** (Math.random() * 20 - 10);
      const guess = threshold * 10 ** (Math.random() * 8 - 4);
      const res = bisect((rho) => (rho >= threshold ? rho : null), () => true, { rhoGuess: guess, relTol: 1e-9 });
      expect(res.status).toBe('certified');
      expect(res.rho).toBeGreaterThanOrEqual(threshold);
      expect(res.rho / threshold - 1).toBeLessThan(1e-8);
      expect(res.rhoInterval[0]).toBeLessThan(threshold);
    }
  });

  it('gives up at rhoGuess·maxGrowth and does not retry the larger margins', () => {
    let calls = 0;
    const threshold = 1e9;
    const res = bisect(
      (rho) => {
        calls++;
        return rho >= threshold ? rho : null;
      },
      () => true,
      { rhoGuess: 1, maxGrowth: 1e6 },
    );
    expect(res.status).toBe('failed');
    // Geometric growth with a squared factor: a few dozen tests, for one margin only.
    expect(calls).toBeLessThan(25);
    const unlimited = bisect((rho) => (rho >= threshold ? rho : null), () => true, { rhoGuess: 1, maxGrowth: Infinity });
    expect(unlimited.status).toBe('certified');
  });

  it('tries the next margin when verification fails at the smallest', () => {
    const seen: number[] = [];
    const res = bisect(
      (rho, margin) => {
        seen.push(margin);
        return rho >= 3 ? margin : null;
      },
      (_rho, margin) => margin >= MARGINS[2],
      { rhoGuess: 1 },
    );
    expect(res.status).toBe('certified');
    expect(res.margin).toBe(MARGINS[2]);
    expect(new Set(seen)).toEqual(new Set(MARGINS.slice(0, 3)));
  });
});

describe('findBracket', () => {
  it('returns null when nothing up to the limit is feasible, a bracket when the threshold is inside', () => {
    expect(bracket((r) => r >= 1e7, 1, 1e6)).toBeNull();
    const b = bracket((r) => r >= 5e5, 1, 1e6)!;
    expect(b[0]).toBeLessThan(5e5);
    expect(b[1]).toBeGreaterThanOrEqual(5e5);
    expect(b[1]).toBeLessThanOrEqual(1e6);
  });
});
