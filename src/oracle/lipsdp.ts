/**
 * The reference Lipschitz bound of an FC chain from an external SDP solver: build the SDP
 * (normalised, because interior-point solvers are far more accurate on it), solve, undo the
 * normalisation.
 */
import type { FcChain } from '../model/ir.js';
import { buildLayeredSdp, buildLipSdpNeuron, type SdpaProblem, type SdpFormulation } from '../lmi/sdpa.js';
import { buildStageSdp } from '../lmi/stage/sdpa.js';
import type { StagePlan } from '../lmi/stage/stages.js';
import type { SdpSolver } from './binaries.js';
import { solveSdpa, type SolveResult } from './solve.js';

export interface LipOracleOptions {
  /** Default 'lipsdp-neuron' (far fewer variables; same optimum for chains, docs/method.md §2). */
  readonly formulation?: SdpFormulation;
  /** Default true. */
  readonly normalise?: boolean;
  readonly timeoutMs?: number;
  readonly workDir?: string;
  readonly tolerance?: number;
}

export interface LipOracleResult {
  /** sqrt(rho): the l2 Lipschitz bound of the given (unnormalised) chain. */
  readonly L: number;
  /** Optimal ρ of the given chain (normalisation undone). */
  readonly rho: number;
  /** Solver wall time. */
  readonly timeMs: number;
  readonly status: SolveResult['status'];
  /** The raw solve, for the normalised problem (its x and objective are not unscaled). */
  readonly solve: SolveResult;
}

/** Throws when the solver reports anything but 'optimal' or 'inaccurate' (message has its tail). */
export async function lipSdpOracle(
  chain: FcChain,
  solver: SdpSolver = 'csdp',
  opts: LipOracleOptions = {},
): Promise<LipOracleResult> {
  const build = (opts.formulation ?? 'lipsdp-neuron') === 'layered' ? buildLayeredSdp : buildLipSdpNeuron;
  return optimum(build(chain, { normalise: opts.normalise ?? true }), solver, opts, 1);
}

/** Solve, insist on an optimum, and read L = gain·√ρ off it (normalisation undone). */
async function optimum(problem: SdpaProblem, solver: SdpSolver, opts: Omit<LipOracleOptions, 'formulation' | 'normalise'>, gain: number): Promise<LipOracleResult> {
  const solve = await solveSdpa(problem, {
    solver,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.workDir !== undefined ? { workDir: opts.workDir } : {}),
    ...(opts.tolerance !== undefined ? { tolerance: opts.tolerance } : {}),
  });
  if (solve.status !== 'optimal' && solve.status !== 'inaccurate') {
    const lastLine = solve.solverOutput.trim().split('\n').slice(-1)[0] ?? '';
    throw new Error(`lipdp oracle: ${solver} ended with status '${solve.status}' (${lastLine.trim()})`);
  }
  const rho = solve.x[problem.rhoIndex]! * problem.rhoScale;
  return { L: Math.sqrt(Math.max(rho, 0)) * gain, rho, timeMs: solve.timeMs, status: solve.status, solve };
}

/**
 * The optimum of the layered SDP of a general (conv / pooling / residual) stage chain
 * (lmi/stage/sdpa.ts) from an external solver: the best bound any multipliers of lipdp's Roesser
 * formulation can give. `levels` scales the variables (refine-chain.ts stageLevels); any positive
 * levels give the same optimum. L includes the plan's input gain.
 */
export async function stageSdpOracle(
  plan: StagePlan,
  solver: SdpSolver = 'csdp',
  opts: { readonly levels?: readonly number[]; readonly timeoutMs?: number; readonly tolerance?: number } = {},
): Promise<LipOracleResult> {
  return optimum(buildStageSdp(plan, opts.levels ? { levels: opts.levels } : {}), solver, opts, plan.outerGain);
}
