/**
 * The library entry point: estimateLipschitz(model, options) runs the whole pipeline
 *   import → (realize) → lmi → solve (backend) → certify → report
 * and returns a typed report. Every number called a bound in the report comes from the f64
 * certifier (certify/), the naive bound included.
 */
import type { Backend, DeviceTraffic } from './backend/backend.js';
import { importOnnx, importOnnxBytes } from './model/import.js';
import { LipdpError } from './model/errors.js';
import type { Network } from './model/ir.js';
import { searchLowerBoundAsync } from './bounds/search.js';
import { loadSamples } from './bounds/samples.js';
import { lowerBoundOneD } from './bounds/lower-oned.js';
import { solveNetwork } from './pipeline/solve.js';
import { loadSsmJson } from './model/ssm-json.js';
import { createBackend } from './backend/select.js';
import { RunBudget } from './solver/budget.js';
import type { CertificationStatus, EstimateOptions, LipschitzReport } from './report/types.js';
import { finishReport, type ReportDraft } from './report/finish.js';

export type ModelInput = string | Uint8Array | Network;

/** @deprecated The defaults of the dense ADMM phase, which no longer exists; nothing reads them. */
export const DEFAULTS = {
  tol: 1e-5,
  maxIter: 200,
  certTol: 1e-4,
} as const;

/**
 * The run's budget: the caller's time limit over the whole solve (the deprecated per-phase
 * limits `admmTimeBudgetMs` / `refineTimeMs`, if given, count as time limits too) and its
 * AbortSignal. Without a limit every optimiser stops on its own convergence tests and iteration
 * counts, so the bound does not depend on machine load.
 */
function runBudget(options: EstimateOptions): RunBudget {
  const limits = [options.timeLimitMs, options.refineTimeMs, options.admmTimeBudgetMs].filter((v): v is number => v !== undefined);
  return new RunBudget(limits.length ? Math.min(...limits) : undefined, options.signal);
}

/**
 * Certify an upper bound on the ℓ2 Lipschitz constant of `model` (an ONNX path or bytes, a lipdp
 * SSM JSON path, or an imported Network). Rejects with a LipdpError for bad input; the report's
 * `status` says what the bound rests on (docs/report.md).
 */
export async function estimateLipschitz(model: ModelInput, options: EstimateOptions = {}): Promise<LipschitzReport> {
  return finishReport(await estimateDraft(model, options), model, options.source);
}

async function estimateDraft(model: ModelInput, options: EstimateOptions): Promise<ReportDraft> {
  const notices: string[] = [];
  const budget = runBudget(options);
  const progress = options.onProgress;
  const tStart = performance.now();
  progress?.({ phase: 'import' });
  const net = await loadNetwork(model, options);
  const tImport = performance.now() - tStart;
  checkAborted(options.signal);
  if (net.signal) notices.push('bound in ℓ2 over time and channels, valid for input sequences of any length (zero initial state)');

  const tB = performance.now();
  progress?.({ phase: 'bounds' });
  // Iteration-budgeted and seeded, so that the lower bound does not depend on machine load. A 1-D
  // signal network is searched on long random sequences (its bound holds for every length).
  const lower = net.signal
    ? await lowerBoundOneD(net, { budget, ...(options.lowerBoundSeed !== undefined ? { seed: options.lowerBoundSeed } : {}) })
    : (await searchLowerBoundAsync(net, {
        ...(options.lowerBoundIterations !== undefined ? { iterations: options.lowerBoundIterations } : {}),
        ...(options.lowerBoundSeed !== undefined ? { seed: options.lowerBoundSeed } : {}),
        ...(options.samples !== undefined ? { samples: await loadSamples(options.samples) } : {}),
        ...(options.lowerBoundTimeMs !== undefined ? { timeLimitMs: options.lowerBoundTimeMs } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      })).bound;
  const tBounds = performance.now() - tB;
  checkAborted(options.signal);
  return estimateStructured(net, options, budget, notices, { tStart, tImport, tBounds, lowerBound: lower });
}

/**
 * What the driver (pipeline/solve.ts) takes from the caller's options: the
 * optimiser's iteration budget, and their progress as the report's 'refine'/'certify' phases
 * (their bound estimates are not certified).
 */
function stageSolveOptions(options: EstimateOptions): { maxIter?: number; onProgress: (p: { phase: 'solve' | 'certify' | 'build'; iteration?: number; boundEstimate?: number }) => void } {
  return {
    ...(options.refineMaxIter !== undefined ? { maxIter: options.refineMaxIter } : {}),
    onProgress: (p) =>
      options.onProgress?.({ phase: p.phase === 'solve' ? 'refine' : p.phase, ...(p.iteration !== undefined ? { iteration: p.iteration } : {}), bestBound: p.boundEstimate ?? null, bestBoundCertified: false }),
  };
}

/** The backend's host ↔ device traffic for the report (device backends; counters outlive dispose). */
function deviceTrafficOf(backend: Backend): { deviceTraffic?: DeviceTraffic } {
  const t = backend.traffic?.();
  return t ? { deviceTraffic: t } : {};
}

/**
 * Every network kind — dense chains, conv / pooling / residual networks in the formulation asked
 * for or picked by size, 1-D signal networks — through the one driver (pipeline/solve.ts). The
 * Roesser realisation products of its L-BFGS iterations run on the chosen backend (WebGPU: f32
 * batched GEMMs for the coarse smoothing levels, f64 on the CPU for the final ones); everything
 * else, and the certificate, is f64 on the CPU.
 */
async function estimateStructured(
  net: Network,
  options: EstimateOptions,
  budget: RunBudget,
  notices: string[],
  t: { tStart: number; tImport: number; tBounds: number; lowerBound: number },
): Promise<ReportDraft> {
  const formulation = options.formulation ?? 'auto';
  // The backend computes the Roesser realisation products of the optimiser (f32 on WebGPU for the
  // coarse levels, then f64); the unrolled formulation and the certificate run in f64 on the CPU.
  const backend: Backend = await createBackend(options.backend ?? 'cpu', (msg) => notices.push(msg));
  options.onProgress?.({ phase: 'build' });
  let res: Awaited<ReturnType<typeof solveNetwork>>;
  try {
    res = await solveNetwork(net, {
      formulation,
      backend,
      budget,
      ...stageSolveOptions(options),
      ...(options.stageSolver !== undefined ? { solver: options.stageSolver } : {}),
    });
  } finally {
    backend.dispose();
  }
  if (res.reason) notices.push(res.reason);
  if (backend.name !== 'cpu' && (res.formulation === 'fc' || res.formulation === 'unrolled')) notices.push(`the ${res.formulation === 'fc' ? 'dense chain' : 'unrolled formulation'} is optimised in f64 on the CPU; the backend was not used`);
  checkAborted(options.signal);
  return reportDraft(net, options, budget, backend, notices, {
    ...res,
    lowerBound: t.lowerBound,
    timings: { import: t.tImport, ...res.timings, bounds: t.tBounds, total: performance.now() - t.tStart },
    // A 1-D network's input is a sequence of C-vectors of any length.
    inputSize: net.signal ? (net.inputShape[0] ?? 0) : inputSizeOf(net),
  });
}

/** What every pipeline hands the report builder. */
interface SolvedNetwork {
  readonly upperBound: number | null;
  readonly status: CertificationStatus;
  readonly lowerBound: number;
  readonly naiveBound?: number;
  readonly closedFormBound: number | null;
  readonly rhoInterval: readonly [number, number] | null;
  readonly source: 'optimised' | 'closed-form' | 'naive' | null;
  readonly iterations: number;
  readonly lmiSizes: readonly number[];
  readonly bufferBytes: number;
  readonly stageGains?: readonly number[];
  readonly formulation: LipschitzReport['formulation'];
  readonly timings: LipschitzReport['timings'];
  readonly inputSize: number;
}

/** The report of a solved network: one builder for every network kind. */
function reportDraft(net: Network, options: EstimateOptions, budget: RunBudget, backend: Backend, notices: string[], res: SolvedNetwork): ReportDraft {
  checkAborted(options.signal);
  options.onProgress?.({ phase: 'done', bestBound: res.upperBound, bestBoundCertified: res.upperBound !== null });
  if (res.status === 'fallback') notices.push('the optimised multipliers could not be certified below the fallback bound; reporting the best certified fallback');
  return {
    upperBound: res.upperBound,
    status: res.status,
    lowerBound: res.lowerBound,
    naiveBound: res.naiveBound ?? Infinity,
    backend: backend.name,
    solverPrecision: backend.precision,
    ...(backend.adapter ? { adapter: backend.adapter } : {}),
    timings: res.timings,
    solver: {
      iterations: 0,
      primalResidual: NaN,
      dualResidual: NaN,
      status: budget.timeLimitHit ? 'time_limit' : 'f64-optimiser',
      refineIterations: res.iterations,
      lmiSizes: [...res.lmiSizes],
      bufferBytes: res.bufferBytes,
      ...deviceTrafficOf(backend),
      ...(res.stageGains ? { stageGains: [...res.stageGains] } : {}),
    },
    certificate: {
      precision: 'f64',
      source: res.source === 'optimised' ? 'solver' : (res.source ?? 'none'),
      rhoInterval: res.rhoInterval,
      closedFormBound: res.closedFormBound,
    },
    network: { source: net.source, inputSize: res.inputSize, outputSize: net.outputSize, layers: net.layers.map(describeLayer) },
    formulation: res.formulation,
    notices,
  };
}

function describeLayer(l: Network['layers'][number]): string {
  switch (l.kind) {
    case 'dense':
      return `dense ${l.W.cols}→${l.W.rows}`;
    case 'conv2d':
      return `conv ${l.cin * l.groups}→${l.cout} k${l.kh}x${l.kw} s${l.stride[0]}`;
    case 'activation':
      return `${l.fn} [${fmt(l.slope.alpha)},${fmt(l.slope.beta)}]`;
    case 'maxpool':
    case 'avgpool':
      return `${l.kind} k${l.kernel[0]}x${l.kernel[1]} s${l.stride[0]}`;
    case 'conv1d':
      return `conv1d ${l.cin}→${l.cout} k${l.l} s${l.stride}`;
    case 'ssm':
      return `ssm ${l.B.cols}→${l.C.rows}, ${l.A.rows} states`;
    case 'residual':
      return `residual (branch ${l.branch.length} layers, shortcut ${l.shortcut.length === 0 ? 'identity' : `${l.shortcut.length} layers`})`;
    default:
      return l.kind;
  }
}

async function loadNetwork(model: ModelInput, options: EstimateOptions): Promise<Network> {
  if (typeof model === 'string' && model.toLowerCase().endsWith('.json')) return loadSsmJson(model);
  // The memory cap travels into the importer, whose memory plan refuses oversized models up front.
  const cap = options.maxMemoryBytes !== undefined ? { maxMemoryBytes: options.maxMemoryBytes } : {};
  if (typeof model === 'string') return importOnnx(model, { ...cap, ...(options.externalFiles ? { externalFiles: options.externalFiles } : {}) });
  if (model instanceof Uint8Array)
    return importOnnxBytes(model, {
      source: options.source ?? 'bytes',
      ...cap,
      ...(options.externalFiles ? { externalFiles: options.externalFiles } : {}),
    });
  return model;
}

function inputSizeOf(net: Network): number {
  return net.inputShape.reduce((a, b) => a * b, 1);
}

/** An abort rejects with the signal's reason (as fetch and other AbortSignal users do). */
function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason ?? new LipdpError('ABORTED', 'estimation aborted');
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}

