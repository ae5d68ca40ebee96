/**
 * The one driver: lower a network to the stage chain (src/lmi/stage/stages.ts) and hand that to
 * the one solver core (solveStagePlan: start, Newton or L-BFGS, f64 certificate, naive bound).
 * Network kinds and formulations differ only in how the network becomes stages:
 *
 * - 'fc': a fully connected chain (dense layers, elementwise scale/shift, flatten, activations;
 *   model/lower.ts folds the affine parts), one dense stage per layer — LipSDP-Neuron, layered.
 * - 'roesser': layer-wise LipSDP on 2-D Roesser realizations (src/realize, src/lmi/conv).
 * - 'unrolled': conv/avg-pool/pad/flatten runs multiplied out into dense Toeplitz matrices
 *   (src/model/unroll.ts), then the dense stages of 'fc'. Only for networks without max pooling or
 *   residual blocks.
 * - 'auto': 'fc' for a fully connected chain; otherwise unrolled when possible and the unrolled
 *   chain has at most ~1500 neurons, else roesser.
 * - 1-D signal networks (conv1d / LTI SSM / per-step dense layers; `net.signal`) whatever the
 *   formulation: lmi/oned/stages.ts, one stage per layer with horizontal state only. Their bound
 *   is in ℓ2 over time and channels for input sequences of ANY length (no LMI block depends on
 *   the length T; zero initial state). Heads that mix time steps are rejected by the lowering:
 *   flatten + dense depends on T by construction and the mean over T steps has gain 1/√T, so no
 *   length-independent bound exists for them (for a fixed T, multiply the bound by that head's
 *   gain by hand).
 *
 * The naive bound (always certified): product over stages of each stage's own certified gain
 * (the stage as a linear last layer from Q_in = I, certified by the same rigorous check; a dense
 * stage's gain is its certified spectral norm), times max(|α|,|β|) of each activation, √μ of each
 * pooling and the input gain. Every number this module returns as a bound came out of a rigorous
 * verification.
 */
import type { Network } from '../model/ir.js';
import type { Backend } from '../backend/backend.js';
import { LipdpError } from '../model/errors.js';
import { unrollSteps, unrolledSizes } from '../model/unroll.js';
import { chainNetwork, fcChainOrNull } from '../model/lower.js';
import { planStages } from '../lmi/stage/structure.js';
import { compressFirstStage } from '../lmi/stage/compress.js';
import { activationGain, lmiSize, type Stage, type StagePlan, type StageParams } from '../lmi/stage/stages.js';
import { certifyStages, type ChainCertificate } from '../certify/chain-certify.js';
import { blendParams, refineStages, scaleParams, scheduleFor, startParams, type SingleStage } from '../solver/refine-chain.js';
import { LEAF_STAGES, PART_ITER, startFromParts } from '../solver/parts-start.js';
import { newtonChain, newtonFits } from '../solver/newton-chain.js';
import { UNLIMITED, runSteps, type RunBudget } from '../solver/budget.js';
import { recursionSteps } from '../lmi/stage/recursion.js';
import { chooseBound } from '../report/choose.js';
import { certifiedSpectralNorm } from '../bounds/naive.js';
import { mulUp, nextUp } from '../certify/psd-check.js';
import { lowerOneD, oneDStagePlan, schurStable } from '../lmi/oned/stages.js';

export interface SolveNetworkOptions {
  /** Default 'auto'; 1-D signal networks have one formulation and ignore it. */
  readonly formulation?: 'fc' | 'roesser' | 'unrolled' | 'auto';
  readonly onProgress?: (p: { phase: 'build' | 'solve' | 'certify'; iteration?: number; boundEstimate?: number }) => void;
  /** Optimiser iterations (default by formulation: DEFAULT_MAX_ITER). */
  readonly maxIter?: number;
  /** The run's time limit and abort signal (default: none; the optimiser stops on its own tests). */
  readonly budget?: RunBudget;
  /**
   * Multiplier solver for Roesser chains: 'auto' (default) runs the Newton method of
   * newton-chain.ts where every stage fits its size rule and L-BFGS otherwise (or when Newton
   * does not converge); 'newton' forces Newton first; 'lbfgs' never runs it.
   */
  readonly solver?: 'auto' | 'newton' | 'lbfgs';
  /** Skip the naive bound (it costs one small optimisation per stage). */
  readonly noNaive?: boolean;
  /**
   * Iterations of each stage's own optimisation in the start point (default 300, or 100 when
   * the Newton method runs; 0: the closed-form / composed start only). A quick solve of a deep
   * net with wide dense residual stages spends most of its time there (8 blocks of width 64:
   * about 5 minutes on a loaded 2-core machine), so tests of such nets lower it.
   */
  readonly startIter?: number;
  /**
   * Backend for the Roesser realisation products of the optimiser's gradient iterations
   * (default: f64 on the CPU, in-line). The certificate is f64 on the CPU whatever this is.
   */
  readonly backend?: Backend;
}

export interface SolveNetworkResult {
  readonly upperBound: number | null;
  readonly status: 'certified' | 'fallback' | 'failed';
  readonly closedFormBound: number | null;
  readonly naiveBound?: number;
  readonly lmiSizes: number[];
  readonly iterations: number;
  readonly timings: { build: number; solve: number; certify: number };
  readonly formulation: 'fc' | 'roesser' | 'unrolled' | 'oned';
  readonly rhoInterval: [number, number] | null;
  /** Which multipliers the printed bound comes from ('optimised' ⇔ status 'certified'). */
  readonly source: 'optimised' | 'closed-form' | 'naive' | null;
  /** Per stage: its own certified gain (the stage alone, linear output, from Q_in = I), when the naive bound was computed. */
  readonly stageGains?: number[];
  /** Bytes of backend buffers the products used (0 on the CPU). */
  readonly bufferBytes: number;
  /** Why nothing was certified (status 'failed'): a 1-D stage without a feasible start, or no multipliers verified. */
  readonly reason?: string;
}

const AUTO_UNROLL_LIMIT = 1500;

/**
 * Optimiser iterations by formulation, when the caller gives none: each keeps the budget its
 * pipeline had before the three were merged into one core (dense chains 3000, the unrolled
 * formulation 1000 — its stages are hundreds of neurons wide, ~0.2 s per iteration — Roesser
 * and 1-D chains 6000).
 */
const DEFAULT_MAX_ITER = { fc: 3000, unrolled: 1000, roesser: 6000, oned: 6000 } as const;

/**
 * Which formulation 'auto' picks (exported for tests and the CLI's report). 'fc' asked of a
 * network that is not a fully connected chain means 'auto'.
 */
export function chooseFormulation(net: Network, requested: SolveNetworkOptions['formulation'] = 'auto'): 'fc' | 'roesser' | 'unrolled' {
  if (requested === 'roesser' || requested === 'unrolled') return requested;
  if (fcChainOrNull(net)) return 'fc';
  let sizes: number[];
  try {
    sizes = unrolledSizes(net);
  } catch {
    return 'roesser';
  }
  const hidden = sizes.slice(1).reduce((a, b) => a + b, 0);
  return sizes[0]! + hidden <= AUTO_UNROLL_LIMIT || Math.max(...sizes.map((s, i) => s + (sizes[i + 1] ?? 0))) <= AUTO_UNROLL_LIMIT ? 'unrolled' : 'roesser';
}

/** The network as a stage chain in the chosen formulation, then the solver core. */
export async function solveNetwork(net: Network, opts: SolveNetworkOptions = {}): Promise<SolveNetworkResult> {
  const t0 = performance.now();
  if (net.signal) return solveOneD(net, opts, t0);
  // The chain is folded once here, not again by chooseFormulation's test.
  const fc = opts.formulation === 'roesser' || opts.formulation === 'unrolled' ? null : fcChainOrNull(net);
  const formulation = fc ? 'fc' : chooseFormulation(net, opts.formulation);
  const budget = opts.budget ?? UNLIMITED;
  let plan: StagePlan;
  if (formulation === 'roesser') plan = planStages(net);
  else {
    const chain = fc ?? (await runSteps(unrollSteps(net), budget));
    plan = planStages(chainNetwork(chain, net.source));
  }
  return { ...(await solveStagePlan(plan, { ...opts, maxIter: opts.maxIter ?? DEFAULT_MAX_ITER[formulation] }, t0)), formulation };
}

/**
 * A 1-D signal network: a stage whose A is not Schur stable has infinite gain over unbounded
 * sequences, so no multipliers exist; say which instead of running the optimiser.
 */
async function solveOneD(net: Network, opts: SolveNetworkOptions, t0: number): Promise<SolveNetworkResult> {
  const stages = lowerOneD(net);
  const plan = oneDStagePlan(stages);
  opts.budget?.throwIfAborted();
  const unstable = stages.findIndex((st) => !schurStable(st.sys.A));
  if (unstable >= 0) {
    const reason = `stage ${unstable} ('${stages[unstable]!.name}') has no feasible start: its A is not Schur stable (spectral radius ≥ 1), so its ℓ2 gain over unbounded sequences is infinite`;
    return { upperBound: null, status: 'failed', source: null, closedFormBound: null, rhoInterval: null, lmiSizes: plan.stages.map(lmiSize), iterations: 0, timings: { build: performance.now() - t0, solve: 0, certify: 0 }, formulation: 'oned', bufferBytes: 0, reason };
  }
  return { ...(await solveStagePlan(plan, { ...opts, maxIter: opts.maxIter ?? DEFAULT_MAX_ITER.oned }, t0)), formulation: 'oned' };
}

// ------------------------------------------------------------------ the core

/**
 * The solver core on a stage chain of any origin (conv / residual / dense networks through
 * planStages, 1-D signal networks through lmi/oned/stages.ts oneDStagePlan): start, Newton or
 * L-BFGS, certificate, naive bound. `t0`: when the build began (for the report's timings).
 */
export async function solveStagePlan(original: StagePlan, opts: Omit<SolveNetworkOptions, 'formulation'>, t0 = performance.now()): Promise<SolveNetworkResult> {
  let tCert = 0;
  const budget = opts.budget ?? UNLIMITED;
  // The optimisers work on the chain with a wide dense first layer compressed (compress.ts); the
  // certificate and the naive bound on the original.
  const plan = compressFirstStage(original);
  const lmiSizes = original.stages.map(lmiSize);
  opts.onProgress?.({ phase: 'build' });
  const singles = new Map<Stage, SingleStage>();
  const useNewton = opts.maxIter !== 0 && opts.solver !== 'lbfgs' && (opts.solver === 'newton' || newtonFits(plan.stages));
  // Newton's step count depends on the start only through its ρ (about 2× closer per early
  // step): on the paper's CH8 chains a 100-iteration start costs ≤ 1 step more than a
  // 300-iteration one and saves a third of the time (bench/README.md, "Newton solver: start
  // length and factorisation").
  const start = await startParams(plan.stages, opts.startIter ?? (useNewton ? 100 : 300), singles, budget);
  const systems = plan.stages.flatMap((st) => st.systems);
  const products = opts.backend && systems.length > 0 ? await opts.backend.roesserProducts(systems) : undefined;
  let bufferBytes = 0;
  const tBuild = performance.now() - t0;
  budget.throwIfAborted();
  const certify = async (params: Parameters<typeof certifyStages>[1], g: number): Promise<ChainCertificate> => {
    const t = performance.now();
    const c = await certifyStages(original, params, { rhoGuess: g, budget, recursionStages: plan.stages });
    tCert += performance.now() - t;
    return c;
  };
  const gOf = async (params: readonly StageParams[]): Promise<number> => (await runSteps(recursionSteps(plan.stages, params, { rho: 1 }), budget))?.g ?? NaN;
  let closed: ChainCertificate | null = null;
  let best: ChainCertificate | null = null;
  let iterations = 0;
  const t1 = performance.now();
  if (start) {
    const g0 = await gOf(start);
    if (Number.isFinite(g0)) {
      closed = await certify(scaleParams(start, g0), g0);
      if (closed.status === 'certified') best = closed;
    }
    // Chains whose stages are small enough for dense second-order work get the primal-dual
    // Newton method on the layered SDP (newton-chain.ts, docs/method.md §6.4): it reaches the SDP
    // optimum at any depth where the first-order optimiser below stalls. Its iterates are
    // strictly feasible, so even a stopped run gives certifiable multipliers.
    let newtonDone = false;
    // An iteration budget of 0 asks for no optimiser at all (the start point's bound).
    if (Number.isFinite(g0) && useNewton && !budget.expired()) {
      let nt: Awaited<ReturnType<typeof newtonChain>> = null;
      try {
        nt = await newtonChain(plan.stages, start, {
          budget,
          onIteration: (it, rho) => opts.onProgress?.({ phase: 'solve', iteration: it, boundEstimate: Math.sqrt(rho) * plan.outerGain }),
        });
      } catch (e) {
        // A numerically singular Newton system: leave it to the first-order optimiser. An abort
        // is the caller's and goes up.
        if (budget.signal?.aborted) throw e;
      }
      if (nt) {
        iterations += nt.iterations;
        opts.onProgress?.({ phase: 'certify' });
        // The last iterate sits close to the boundary of the feasible set, where rounding can
        // defeat the certifier's margins. The LMIs are affine, so a blend of two feasible points
        // is feasible at the blended ρ: step toward the earlier, better-centred iterates first
        // (costing at most their excess in ρ), then toward the strictly feasible start. (On the
        // full glipsdp cnn_C16_CH8 the last iterate's first-stage LMI has a relative slack of
        // 1e-16, its storage P at 1e6·ρ; halfway to the iterate at gap 1e-3 certifies 1e-4 above
        // Newton's ρ, the start blend 4e-3.)
        const interior = scaleParams(start, g0);
        const candidates: { params: StageParams[]; rho: number }[] = [{ params: nt.params, rho: nt.rho }];
        for (const cp of nt.checkpoints) for (const t of [0.5, 1]) candidates.push(blendPoint(nt, cp, t));
        for (const t of [1e-6, 1e-5, 1e-4, 1e-3, 1e-2]) candidates.push(blendPoint(nt, { params: interior, rho: g0 }, t));
        // Every candidate that could still beat the best certificate is tried: the certifier's
        // search in ρ can land well above a candidate's own ρ (measured 6e-4 on the full
        // cnn_C5_CH16 for one blend whose neighbour certified at 2e-5).
        let won: ChainCertificate | null = null;
        for (const cand of candidates) {
          if (won && cand.rho >= won.rho) continue;
          const c = await certify(cand.params, cand.rho);
          if (c.status === 'certified' && (!won || c.L < won.L)) won = c;
          if (won && won.rho <= nt.rho * (1 + 1e-5)) break;
        }
        if (won && (!best || won.L < best.L)) best = won;
        // Certified within 1e-3 of Newton's own ρ: nothing left for the first-order optimiser.
        // (A large blend toward the start costs up to a few %: let L-BFGS try as well.)
        const tight = won !== null && won.rho <= nt.rho * (1 + 1e-3);
        // Converged, or stopped (a primal step that rounding refused) with its dual estimate
        // within 1e-3 of ρ: the first-order optimiser has nothing to add.
        const nearOptimal = nt.converged || nt.lowerBound >= nt.rho * (1 - 1e-3);
        newtonDone = nearOptimal && tight && best === won;
      }
    }
    // Long chains with Roesser systems start from certificates of their parts (parts-start.ts):
    // never looser than the product of the parts, and far closer to the optimum than the product
    // of single stages. Dense chains do better without (the schedule's partsStart says which).
    let from = start;
    let gFrom = g0;
    if (newtonDone) {
      // Converged to the SDP optimum (gap test): nothing left for the first-order optimiser.
    } else if (plan.stages.length > LEAF_STAGES && scheduleFor(plan.stages).partsStart && !budget.expired()) {
      const parts = await startFromParts(plan.stages, {
        budget,
        singles,
        // A caller that asks for few joint iterations asks for a quick solve: the parts get no more.
        partIter: Math.min(PART_ITER, opts.maxIter ?? PART_ITER),
        onPart: (_from, _to, _g, its) => {
          iterations += its;
        },
      });
      const gp = parts ? await gOf(parts.start) : NaN;
      if (parts && Number.isFinite(gp) && !(gp >= gFrom)) {
        const c = await certify(scaleParams(parts.start, gp), gp);
        if (c.status === 'certified' && (!best || c.L < best.L)) best = c;
        from = parts.start;
        gFrom = gp;
      }
    }
    let ref;
    try {
      ref = newtonDone
        ? { params: start, g: NaN, iterations: 0 }
        : await refineStages(
        plan.stages,
        from,
        {
          maxIter: opts.maxIter ?? DEFAULT_MAX_ITER.roesser,
          budget,
          onIteration: (it, g) => opts.onProgress?.({ phase: 'solve', iteration: it, boundEstimate: Math.sqrt(g) * plan.outerGain }),
        },
        products,
      );
    } finally {
      bufferBytes = products?.bufferBytes() ?? 0;
      products?.dispose();
    }
    iterations += ref.iterations;
    if (Number.isFinite(ref.g) && Number.isFinite(g0)) {
      opts.onProgress?.({ phase: 'certify' });
      // The optimiser tends to the boundary of the feasible set (some N_k nearly singular), where
      // the recursion's feasibility barely depends on ρ and the certifier's margins can fail.
      // The feasible set is convex, so a blend with the strictly feasible start at weight t is
      // feasible at ρ ≤ (1 − t)·g + t·g₀: step into the interior until a blend verifies.
      const optimised = scaleParams(ref.params, ref.g);
      const interior = scaleParams(start, g0);
      for (const t of [0, 1e-4, 1e-3, 1e-2, 0.1]) {
        const c = await certify(t === 0 ? optimised : blendParams(optimised, interior, t), (1 - t) * ref.g + t * g0);
        if (c.status === 'certified' && (!best || c.L < best.L)) best = c;
        if (c.status === 'certified') break;
      }
    }
  }
  const tSolve = performance.now() - t1 - tCert;
  const stageGains: number[] = [];
  const naive = opts.noNaive ? undefined : await naiveRoesser(original, singles, stageGains, budget);
  const result = finish(best === closed ? null : best, closed, naive, lmiSizes, iterations, { build: tBuild, solve: tSolve, certify: tCert }, 'roesser', iterations > 0);
  return { ...result, bufferBytes, ...(stageGains.length ? { stageGains } : {}), ...(result.status === 'failed' ? { reason: 'no multipliers could be certified' } : {}) };
}

/** Product of per-stage certified gains (see the module comment). +∞ if some stage fails. */
export async function naiveRoesser(plan: StagePlan, singles?: ReadonlyMap<Stage, SingleStage>, gains?: number[], budget: RunBudget = UNLIMITED): Promise<number> {
  let bound = plan.outerGain;
  for (const st of plan.stages) {
    const gain = await stageGain(st, budget, singles?.get(st));
    gains?.push(gain);
    bound = mulUp(bound, gain);
    if (!st.last) {
      bound = mulUp(bound, activationGain(st));
      bound = mulUp(bound, nextUp(Math.sqrt(st.pool.mu)));
    }
  }
  return bound;
}

/** The stage's own certified gain; `own`: its multipliers from the start point, when known. */
async function stageGain(st: Stage, budget: RunBudget, own?: SingleStage): Promise<number> {
  if (st.systems.length === 0 && st.internal.length === 0) {
    // Dense (after a flatten Q⊗I with Q = I this is the plain operator norm).
    return runSteps(certifiedSpectralNorm(st.out.G), budget);
  }
  const single: Stage = { ...st, last: true, out: { G: st.out.G, a: 0, c: 0 }, pool: { mu: 1, diag: false } };
  const candidates: StageParams[] = [];
  if (own) {
    // The optimised multipliers first; blends toward the strictly feasible start if they sit too
    // close to the boundary to verify (as for the whole chain in solveRoesser).
    candidates.push(own.own, ...[1e-3, 1e-2, 0.1].map((t) => blendParams([own.own], [own.start], t)[0]!), own.start);
  } else {
    const p = await startParams([single], undefined, undefined, budget);
    if (!p) return Infinity;
    candidates.push(p[0]!);
  }
  for (const p of candidates) {
    const g = (await runSteps(recursionSteps([single], [p], { rho: 1 }), budget))?.g ?? NaN;
    if (!Number.isFinite(g)) continue;
    const c = await certifyStages({ stages: [single], outerGain: 1 }, scaleParams([p], g), { rhoGuess: g, budget });
    if (c.status === 'certified') return c.L;
  }
  return Infinity;
}

function finish(
  optimised: ChainCertificate | null,
  closed: ChainCertificate | null,
  naive: number | undefined,
  lmiSizes: number[],
  iterations: number,
  timings: { build: number; solve: number; certify: number },
  formulation: 'roesser',
  /** Whether `optimised` came from optimiser iterations (report/choose.ts). */
  optimiserRan: boolean,
): Omit<SolveNetworkResult, 'bufferBytes'> {
  const closedFormBound = closed && closed.status === 'certified' ? closed.L : null;
  const base = { closedFormBound, lmiSizes, iterations, timings, formulation, ...(naive !== undefined && Number.isFinite(naive) ? { naiveBound: naive } : {}) };
  const chosen = chooseBound([
    optimiserRan && optimised?.status === 'certified' ? { source: 'optimised', L: optimised.L, rhoInterval: optimised.rhoInterval } : null,
    closed?.status === 'certified' ? { source: 'closed-form', L: closed.L, rhoInterval: closed.rhoInterval } : null,
    naive !== undefined ? { source: 'naive', L: naive, rhoInterval: null } : null,
  ]);
  return { ...base, ...chosen };
}

/** (1 − t)·a + t·b for multipliers with their ρ (Q_0 = ρI): feasible if both are (the LMIs are affine). */
function blendPoint(a: { params: readonly StageParams[]; rho: number }, b: { params: readonly StageParams[]; rho: number }, t: number): { params: StageParams[]; rho: number } {
  return { params: blendParams(a.params, b.params, t), rho: (1 - t) * a.rho + t * b.rho };
}
