/**
 * A long synchronous computation (a certificate's recursions and verification, a naive bound, a
 * power iteration) written as a generator that yields wherever it may pause: between recursions,
 * stages, layers and iterations. Driven by `runSteps` (solver/budget.ts) it gives the event loop
 * a turn at those points, so a timer-fired abort is seen within one step; driven by
 * `runStepsSync` it runs straight through. What it computes does not depend on where it pauses.
 */
export type Steps<T> = Generator<void, T, undefined>;

/** Run steps to the end without pausing. */
export function runStepsSync<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** A value already known, as steps (for callers of a stepped search with nothing to pause). */
// eslint-disable-next-line require-yield
export function* stepsOf<T>(value: T): Steps<T> {
  return value;
}
