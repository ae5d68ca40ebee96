/**
 * Entry point for 1-D signal networks (conv1d / LTI SSM / per-step dense layers with elementwise
 * activations): lower to stages (lmi/oned/stages.ts), find a start, optimise (Λ, P) on the
 * eliminated problem (solver/refine-oned.ts), certify in f64 (certify/oned-certify.ts), and
 * report with an empirical lower bound from long random sequences.
 *
 * What the bound means: ‖f(x) − f(x')‖₂ ≤ L ‖x − x'‖₂ with ℓ2 over time AND channels, for input
 * sequences of ANY length T (no LMI block depends on T; zero initial state). Supported heads are
 * per-time-step ones (a kernel-1 conv1d / JSON "dense", an SSM, or a final activation). Heads that
 * mix time steps are rejected: flatten + dense depends on T by construction, and the mean over T
 * steps has ℓ2 gain exactly 1/√T (the sum √T), so no length-independent bound exists for them;
 * for a fixed T one may multiply our bound by that head's gain by hand.
 *
 * Backends: the realisation products of the optimiser's gradient iterations (−[A B]ᵀP[A B] and
 * its adjoint) run on the given backend (WebGPU: f32 batched GEMMs for the coarse levels); the
 * final levels and the certificate are f64 on the CPU.
 */
import type { Network } from '../model/ir.js';
import type { Backend } from '../backend/backend.js';
import { LipdpError } from '../model/errors.js';
import { forward, jvp, vjp } from '../model/forward.js';
import { lowerOneD, oneDLmiSizes, type OneDStage } from '../lmi/oned/stages.js';
import { certifyOneD } from '../certify/oned-certify.js';
import type { Certificate } from '../certify/certificate.js';
import { chooseBound, type BoundSource } from '../report/choose.js';
import { evaluateOneD, oneDProblem, packParams, refineOneD, scaleOneDParams, startParams } from '../solver/refine-oned.js';
import { empiricalLowerBoundSteps } from '../bounds/lower.js';
import { mulUp } from '../certify/psd-check.js';
import { runSteps, type RunBudget } from '../solver/budget.js';

export interface SolveOneDOptions {
  /** Optimiser iterations (default 5000). */
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
  /** Backend for the realisation products (default: f64 on the CPU, in-line). */
  readonly backend?: Backend;
  /** Optimiser iterations of the main solve (not of the per-stage naive bound), and the certify phase. */
  readonly onProgress?: (p: { phase: 'solve' | 'certify'; iteration?: number; boundEstimate?: number }) => void;
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

/** Optimise and certify one stage list; returns the certificate (possibly failed). */
export async function certifyStagesOneD(
  stages: readonly OneDStage[],
  opts: SolveOneDOptions = {},
): Promise<{ cert: Certificate; source: 'optimised' | 'start'; iterations: number; reason?: string; solveMs: number; certifyMs: number }> {
  const t0 = Date.now();
  const start = startParams(stages);
  if ('unstable' in start) {
    const reason = `stage ${start.unstable} ('${stages[start.unstable]!.name}') has no feasible start: its A is not Schur stable (spectral radius ≥ 1), so its ℓ2 gain over unbounded sequences is infinite`;
    return { cert: { status: 'failed', rho: Infinity, L: Infinity, rhoInterval: [0, Infinity], evaluations: 0, margin: NaN, reason }, source: 'start', iterations: 0, reason, solveMs: Date.now() - t0, certifyMs: 0 };
  }
  const prob = oneDProblem(stages, start.pScale);
  const products = opts.backend ? await opts.backend.roesserProducts(prob.systems) : undefined;
  let ref: Awaited<ReturnType<typeof refineOneD>>;
  try {
    ref = await refineOneD(
      prob,
      start.params,
      {
        maxIter: opts.maxIter ?? 5000,
        ...(opts.budget ? { budget: opts.budget } : {}),
        ...(opts.onProgress ? { onIteration: (it: number, g: number) => opts.onProgress!({ phase: 'solve', iteration: it, boundEstimate: Math.sqrt(g) }) } : {}),
      },
      products,
    );
  } finally {
    products?.dispose();
  }
  const t1 = Date.now();
  opts.onProgress?.({ phase: 'certify' });
  const certBudget = opts.budget ? { budget: opts.budget } : {};
  let cert = await certifyOneD(stages, scaleOneDParams(ref.params, ref.g), { rhoGuess: ref.g, ...certBudget });
  // Multipliers are the optimiser's only if it ran (report/choose.ts).
  let source: 'optimised' | 'start' = ref.iterations > 0 ? 'optimised' : 'start';
  if (cert.status !== 'certified') {
    source = 'start';
    // The start point is feasible by construction (for ρ = its g); certify it as a fallback.
    const g0 = evaluateOneD(prob, packParams(prob, start.params), false).f;
    if (Number.isFinite(g0)) cert = await certifyOneD(stages, scaleOneDParams(start.params, g0), { rhoGuess: g0, ...certBudget });
  }
  return { cert, source, iterations: ref.iterations, solveMs: t1 - t0, certifyMs: Date.now() - t1, ...(cert.reason ? { reason: cert.reason } : {}) };
}

export async function solveOneDNetwork(net: Network, opts: SolveOneDOptions = {}): Promise<SolveOneDResult> {
  const t0 = Date.now();
  const stages = lowerOneD(net);
  const lmiSizes = oneDLmiSizes(stages);
  const tBuild = Date.now() - t0;
  opts.budget?.throwIfAborted();
  const main = await certifyStagesOneD(stages, opts);
  let naiveBound: number | undefined;
  if (!opts.noNaive) naiveBound = await naiveOneD(stages, opts);
  const tl = Date.now();
  const T = opts.lowerBoundLength ?? 512;
  const lowerBound = (opts.lowerBoundSamples ?? 6) > 0 ? await lowerBoundOneD(net, T, opts) : 0;
  const cert = main.cert;
  return {
    ...chooseBound([
      cert.status === 'certified' ? { source: main.source === 'optimised' ? 'optimised' : 'closed-form', L: cert.L, rhoInterval: cert.rhoInterval } : null,
      naiveBound !== undefined ? { source: 'naive', L: naiveBound, rhoInterval: null } : null,
    ]),
    lowerBound,
    lowerBoundLength: T,
    ...(naiveBound !== undefined ? { naiveBound } : {}),
    lmiSizes,
    stages: stages.length,
    iterations: main.iterations,
    timings: { build: tBuild, solve: main.solveMs, certify: main.certifyMs, lower: Date.now() - tl },
    lengths: 'any',
    backend: opts.backend && opts.backend.precision !== 'f64' ? `${opts.backend.name}-products+cpu-f64` : 'cpu-f64',
    ...(cert.status !== 'certified' ? { reason: main.reason ?? cert.reason ?? 'certification failed' } : {}),
  };
}

/**
 * Product over stages of each stage's certified gain as a linear system (itself a 1-stage
 * problem from Q_in = I), times max(|α|, |β|) of each activation. Undefined if some stage fails.
 */
async function naiveOneD(stages: readonly OneDStage[], opts: SolveOneDOptions): Promise<number | undefined> {
  let bound = 1;
  for (const st of stages) {
    const { slope, ...linear } = st;
    const { backend: _backend, onProgress: _progress, ...cpuOpts } = opts;
    const r = await certifyStagesOneD([linear], { ...cpuOpts, maxIter: Math.min(opts.maxIter ?? 1500, 600) });
    if (r.cert.status !== 'certified') return undefined;
    bound = mulUp(bound, r.cert.L);
    if (slope) bound = mulUp(bound, Math.max(Math.abs(slope.alpha), Math.abs(slope.beta)));
  }
  return bound;
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
