/**
 * Empirical lower bound of a 1-D signal network: the largest difference quotient found on random
 * input sequences of a fixed length T (the network re-shaped to [C, T]). The certified bound holds
 * for every length, so any T gives a valid lower bound on it; longer sequences let slow modes of
 * the network show (default T = 512).
 */
import type { Network } from '../model/ir.js';
import { forward, jvp, vjp } from '../model/forward.js';
import { empiricalLowerBoundSteps } from './lower.js';
import { runSteps, type RunBudget } from '../solver/budget.js';

export interface OneDLowerBoundOptions {
  /** Sequence length (default 512). */
  readonly length?: number;
  /** Random starts of the search (default 6). */
  readonly samples?: number;
  readonly seed?: number;
  readonly budget?: RunBudget;
}

export async function lowerBoundOneD(net: Network, opts: OneDLowerBoundOptions = {}): Promise<number> {
  const C = net.inputShape[0]!;
  const T = opts.length ?? 512;
  const long: Network = { ...net, inputShape: [C, T] };
  const probe = forward(long, new Float64Array(C * T));
  const longNet: Network = { ...long, outputSize: probe.length };
  const lb = await runSteps(empiricalLowerBoundSteps(
    {
      inputSize: C * T,
      f: (x) => forward(longNet, x),
      jvp: (x, t) => jvp(longNet, x, t),
      vjp: (x, v) => vjp(longNet, x, v),
    },
    { samples: opts.samples ?? 6, powerIters: 40, seed: opts.seed ?? 7, ...(opts.budget?.signal ? { signal: opts.budget.signal } : {}) },
  ), opts.budget);
  return lb.bound;
}
