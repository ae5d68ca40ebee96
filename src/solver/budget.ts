import type { Steps } from '../util/steps.js';

/**
 * The run-wide limits every phase of a solve checks: the caller's time limit (`timeLimitMs`) and
 * AbortSignal. Nothing inside the algorithms is capped by wall clock — they stop on convergence
 * tests and iteration counts, so the same model gives the same bound on an idle and a loaded
 * machine. Only the user's limit is wall clock, and when it ends a phase early the report says
 * so (`timeLimitHit`, reported as `solver.status: 'time_limit'`).
 */
export class RunBudget {
  private readonly deadline: number;
  private hit = false;
  private lastYield = performance.now();

  constructor(
    timeLimitMs?: number,
    readonly signal?: AbortSignal,
  ) {
    this.deadline = timeLimitMs !== undefined && Number.isFinite(timeLimitMs) ? performance.now() + timeLimitMs : Infinity;
  }

  /** Whether the time limit has ended some phase early. */
  get timeLimitHit(): boolean {
    return this.hit;
  }

  /**
   * True when the current phase must stop because the time limit passed (remembered for the
   * report). Throws the signal's reason when aborted, so an abort never looks like a result.
   */
  expired(): boolean {
    this.throwIfAborted();
    if (performance.now() > this.deadline) this.hit = true;
    return this.hit;
  }

  throwIfAborted(): void {
    if (this.signal?.aborted) throw this.signal.reason ?? new Error('aborted');
  }

  /**
   * Let the event loop run (timers, abort events) if it has not for a while. The solver loops
   * are synchronous arithmetic; without this an AbortSignal fired by a timer is only seen after
   * the whole solve. Yielding does not change any result.
   */
  async yield(): Promise<void> {
    const now = performance.now();
    if (now - this.lastYield < YIELD_EVERY_MS) return;
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    this.lastYield = performance.now();
    this.throwIfAborted();
  }
}

/** How often the solver loops give the event loop a turn (an abort is seen within about this). */
const YIELD_EVERY_MS = 25;

/** A budget with no time limit and no signal (tests, sub-solves that must run to their own end). */
export const UNLIMITED = new RunBudget();


/** Drive stepped work (src/util/steps.ts), giving the event loop a turn and checking the signal between steps. */
export async function runSteps<T>(steps: Steps<T>, budget: RunBudget = UNLIMITED): Promise<T> {
  budget.throwIfAborted();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await budget.yield();
  }
}
