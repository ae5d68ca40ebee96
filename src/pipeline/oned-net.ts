/**
 * Entry point for 1-D signal networks (conv1d / LTI SSM / per-step dense layers with elementwise
 * activations): lower to stages (lmi/oned/stages.ts), hand them to the solver core as a stage
 * chain (conv-net.ts solveStagePlan: the same start, Newton / L-BFGS optimiser, certificate and
 * naive bound as every other network kind), and report with an empirical lower bound from long
 * random sequences.
 *
 * What the bound means: ‖f(x) − f(x')‖₂ ≤ L ‖x − x'‖₂ with ℓ2 over time AND channels, for input
 * sequences of ANY length T (no LMI block depends on T; zero initial state). Supported heads are
 * per-time-step ones (a kernel-1 conv1d / JSON "dense", an SSM, or a final activation). Heads that
 * mix time steps are rejected: flatten + dense depends on T by construction, and the mean over T
 * steps has ℓ2 gain exactly 1/√T (the sum √T), so no length-independent bound exists for them;
 * for a fixed T one may multiply our bound by that head's gain by hand.
 */
import type { Network } from '../model/ir.js';
import type { Backend } from '../backend/backend.js';
import { forward, jvp, vjp } from '../model/forward.js';
import { lowerOneD, oneDStagePlan, schurStable } from '../lmi/oned/stages.js';
import { lmiSize } from '../lmi/stage/stages.js';
import type { BoundSource } from '../report/choose.js';
import { empiricalLowerBoundSteps } from '../bounds/lower.js';
import { runSteps, type RunBudget } from '../solver/budget.js';
import { solveStagePlan } from './conv-net.js';

export interface SolveOneDOptions {
  /** Optimiser iterations (default: the core's). */
  readonly maxIter?: number;
  /** The run's time limit and abort signal (default: none). */
  readonly budget?: RunBudget;
  /** Sequence length for the empirical lower bound (default 512). */
  readonly lowerBoundLength?: number;
  /** Random starts of the lower-bound search (default 6); 0 skips it. */
  readonly lowerBoundSamples?: number;
  readonly seed?: number;
  /** Skip the naive (product of certified stage gains) bound. */
  readonly noNaive?: boolean;
  /** Backend for the realisation products (default: f64 on the CPU). */
  readonly backend?: Backend;
  readonly onProgress?: (p: { phase: 'build' | 'solve' | 'certify'; iteration?: number; boundEstimate?: number }) => void;
}

export interface SolveOneDResult {
  readonly upperBound: number | null;
  readonly status: 'certified' | 'fallback' | 'failed';
  /** Max difference quotient found on random sequences of length `lowerBoundLength`. */
  readonly lowerBound: number;
  readonly lowerBoundLength: number;
  /** Certified product of per-stage gains (each stage proved on its own) × activation slopes. */
  readonly naiveBound?: number;
  readonly lmiSizes: number[];
  readonly stages: number;
  readonly iterations: number;
  readonly rhoInterval: readonly [number, number] | null;
  /** Where the reported bound came from (report/choose.ts). */
  readonly source: BoundSource | null;
  readonly timings: { build: number; solve: number; certify: number; lower: number };
  /** Always 'any': the bound holds for every sequence length. */
  readonly lengths: 'any';
  /** Where the optimiser's products ran ('cpu-f64', or e.g. 'webgpu-products+cpu-f64'). */
  readonly backend: string;
  readonly reason?: string;
}

export async function solveOneDNetwork(net: Network, opts: SolveOneDOptions = {}): Promise<SolveOneDResult> {
  const t0 = performance.now();
  const stages = lowerOneD(net);
  const plan = oneDStagePlan(stages);
  const lmiSizes = plan.stages.map(lmiSize);
  opts.budget?.throwIfAborted();
  const T = opts.lowerBoundLength ?? 512;
  const backend = opts.backend && opts.backend.precision !== 'f64' ? `${opts.backend.name}-products+cpu-f64` : 'cpu-f64';
  const unstable = stages.findIndex((st) => !schurStable(st.sys.A));
  if (unstable >= 0) {
    const reason = `stage ${unstable} ('${stages[unstable]!.name}') has no feasible start: its A is not Schur stable (spectral radius ≥ 1), so its ℓ2 gain over unbounded sequences is infinite`;
    return { upperBound: null, status: 'failed', source: null, rhoInterval: null, lowerBound: 0, lowerBoundLength: T, lmiSizes, stages: stages.length, iterations: 0, timings: { build: performance.now() - t0, solve: 0, certify: 0, lower: 0 }, lengths: 'any', backend, reason };
  }
  const res = await solveStagePlan(plan, {
    ...(opts.maxIter !== undefined ? { maxIter: opts.maxIter } : {}),
    ...(opts.budget ? { budget: opts.budget } : {}),
    ...(opts.backend ? { backend: opts.backend } : {}),
    ...(opts.noNaive ? { noNaive: true } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  }, t0);
  const tl = performance.now();
  const lowerBound = (opts.lowerBoundSamples ?? 6) > 0 ? await lowerBoundOneD(net, T, opts) : 0;
  return {
    upperBound: res.upperBound,
    status: res.status,
    source: res.source,
    rhoInterval: res.rhoInterval,
    lowerBound,
    lowerBoundLength: T,
    ...(res.naiveBound !== undefined && Number.isFinite(res.naiveBound) ? { naiveBound: res.naiveBound } : {}),
    lmiSizes,
    stages: stages.length,
    iterations: res.iterations,
    timings: { ...res.timings, lower: performance.now() - tl },
    lengths: 'any',
    backend,
    ...(res.status === 'failed' ? { reason: 'no multipliers could be certified' } : {}),
  };
}

/** Empirical lower bound on sequences of length T (the network re-shaped to [C, T]). */
export async function lowerBoundOneD(net: Network, T: number, opts: SolveOneDOptions = {}): Promise<number> {
  const C = net.inputShape[0]!;
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
    { samples: opts.lowerBoundSamples ?? 6, powerIters: 40, seed: opts.seed ?? 7, ...(opts.budget?.signal ? { signal: opts.budget.signal } : {}) },
  ), opts.budget);
  return lb.bound;
}
