/**
 * The library entry point: estimateLipschitz(model, options) runs the whole pipeline
 *   import → (realize) → lmi → solve (backend) → certify → report
 * and returns a typed report. Every number called a bound in the report comes from the f64
 * certifier (certify/), the naive bound included.
 */
import type { Backend } from './backend/backend.js';
import { importOnnx, importOnnxBytes } from './model/import.js';
import { LipdpError } from './model/errors.js';
import { toFcChain } from './model/lower.js';
import type { FcChain, Network } from './model/ir.js';
import { naiveBoundFc } from './bounds/naive.js';
import { searchLowerBoundAsync } from './bounds/search.js';
import { loadSamples } from './bounds/samples.js';
import { solveFcChain } from './pipeline/fc-chain.js';
import { solveNetwork } from './pipeline/conv-net.js';
import { solveOneDNetwork } from './pipeline/oned-net.js';
import { loadSsmJson } from './model/ssm-json.js';
import { isLipdpError } from './model/errors.js';
import { createBackend } from './backend/select.js';
import type { CertificationStatus, EstimateOptions, LipschitzReport, NetworkSummary } from './report/types.js';

export type ModelInput = string | Uint8Array | Network;

export const DEFAULTS = {
  tol: 1e-5,
  maxIter: 200,
  admmTimeBudgetMs: 15_000,
  certTol: 1e-4,
  /**
   * Budget of the f64 multiplier optimiser after ADMM (FC) or from the closed-form start (conv,
   * 1-D). Without it a 784-256-256-10 net spent over 7 minutes in 3000 refinement iterations
   * whose last ones no longer moved the bound's leading digits.
   */
  refineTimeMs: 60_000,
} as const;

export async function estimateLipschitz(model: ModelInput, options: EstimateOptions = {}): Promise<LipschitzReport> {
  const notices: string[] = [];
  const progress = options.onProgress;
  const tStart = performance.now();
  progress?.({ phase: 'import' });
  const net = await loadNetwork(model, options);
  if (net.signal) return estimateOneD(net, options, notices, tStart, performance.now() - tStart);
  const chain = fcChainOrNull(net);
  const tImport = performance.now() - tStart;
  checkAborted(options.signal);

  const tB = performance.now();
  progress?.({ phase: 'bounds' });
  const naive = chain ? naiveBoundFc(chain) : null;
  // Iteration-budgeted and seeded, so that the lower bound does not depend on machine load.
  const lower = await searchLowerBoundAsync(net, {
    ...(options.lowerBoundIterations !== undefined ? { iterations: options.lowerBoundIterations } : {}),
    ...(options.lowerBoundSeed !== undefined ? { seed: options.lowerBoundSeed } : {}),
    ...(options.samples !== undefined ? { samples: await loadSamples(options.samples) } : {}),
    ...(options.lowerBoundTimeMs !== undefined ? { timeLimitMs: options.lowerBoundTimeMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const tBounds = performance.now() - tB;
  checkAborted(options.signal);
  if (!chain || (options.formulation && options.formulation !== 'auto' && options.formulation !== 'fc'))
    return estimateStructured(net, options, notices, { tStart, tImport, tBounds, lowerBound: lower.bound });

  const backend: Backend = await createBackend(options.backend ?? 'cpu', (msg) => notices.push(msg));
  try {
    progress?.({ phase: 'build' });
    const maxIter = options.maxIter ?? DEFAULTS.maxIter;
    const res = await solveFcChain(chain, backend, {
      maxIter,
      tol: options.tol ?? DEFAULTS.tol,
      certTol: options.certTol ?? DEFAULTS.certTol,
      admmTimeBudgetMs: options.admmTimeBudgetMs ?? DEFAULTS.admmTimeBudgetMs,
      refineTimeBudgetMs: options.refineTimeMs ?? DEFAULTS.refineTimeMs,
      ...(options.noRefine ? { noRefine: true } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (p) =>
        progress?.({
          phase: 'solve',
          iteration: p.iteration,
          maxIterations: maxIter,
          primalResidual: p.primalResidual,
          dualResidual: p.dualResidual,
          bestBound: p.bestBound,
        }),
      onRefine: (it, est) => progress?.({ phase: 'refine', iteration: it, bestBound: est }),
    });
    checkAborted(options.signal);
    // Choose the tightest certified bound; say where it came from.
    const cands: { L: number; source: 'solver' | 'closed-form' | 'naive'; interval: readonly [number, number] | null }[] = [];
    if (res.admmCertificate?.status === 'certified') cands.push({ L: res.admmCertificate.L, source: 'solver', interval: res.admmCertificate.rhoInterval });
    if (res.closedFormCertificate.status === 'certified')
      cands.push({ L: res.closedFormCertificate.L, source: 'closed-form', interval: res.closedFormCertificate.rhoInterval });
    if (naive && Number.isFinite(naive.bound)) cands.push({ L: naive.bound, source: 'naive', interval: null });
    cands.sort((a, b) => a.L - b.L);
    const best = cands[0];
    let status: CertificationStatus;
    if (!best) status = 'failed';
    else status = best.source === 'solver' ? 'certified' : 'fallback';
    if (status === 'fallback') notices.push('the solver multipliers could not be certified below the fallback bound; reporting the best certified fallback');
    progress?.({ phase: 'done', bestBound: best?.L ?? null });
    const tTotal = performance.now() - tStart;
    return {
      upperBound: best ? best.L : null,
      status,
      lowerBound: lower.bound,
      naiveBound: naive ? naive.bound : Infinity,
      backend: backend.name,
      solverPrecision: backend.precision,
      ...(backend.adapter ? { adapter: backend.adapter } : {}),
      timings: {
        import: tImport,
        build: res.timings.build,
        solve: res.timings.solve + res.timings.refine,
        certify: res.timings.certify,
        bounds: tBounds,
        total: tTotal,
      },
      solver: {
        iterations: res.iterations,
        primalResidual: res.primalResidual,
        dualResidual: res.dualResidual,
        status: res.solverStatus,
        refineIterations: res.refineIterations,
        lmiSizes: res.blockSizes,
        bufferBytes: res.bufferBytes,
      },
      certificate: {
        precision: 'f64',
        source: best ? best.source : 'none',
        rhoInterval: best ? best.interval : null,
        closedFormBound: res.closedFormCertificate.status === 'certified' ? res.closedFormCertificate.L : null,
      },
      network: summarise(net, chain),
      formulation: 'fc',
      notices,
    };
  } finally {
    backend.dispose();
  }
}

/** The FC chain of the network, or null when it has conv/pool/residual structure. */
function fcChainOrNull(net: Network): FcChain | null {
  try {
    return toFcChain(net);
  } catch (e) {
    if (isLipdpError(e) && e.code === 'UNSUPPORTED_STRUCTURE') return null;
    throw e;
  }
}

/**
 * Convolutional / pooling / residual networks (and an explicit --formulation): the Roesser
 * layered SDP or the unrolled LipSDP-Neuron (pipeline/conv-net.ts). That path optimises the
 * multipliers by L-BFGS on the eliminated problem; the Roesser realisation products of its
 * gradient iterations run on the chosen backend (WebGPU: f32 batched GEMMs for the coarse
 * smoothing levels, f64 on the CPU for the final ones), the certificate is f64 on the CPU.
 */
async function estimateStructured(
  net: Network,
  options: EstimateOptions,
  notices: string[],
  t: { tStart: number; tImport: number; tBounds: number; lowerBound: number },
): Promise<LipschitzReport> {
  const formulation = options.formulation === 'roesser' || options.formulation === 'unrolled' ? options.formulation : 'auto';
  // The backend computes the Roesser realisation products of the optimiser (f32 on WebGPU for the
  // coarse levels, then f64); the unrolled formulation and the certificate run in f64 on the CPU.
  const backend: Backend = await createBackend(options.backend ?? 'cpu', (msg) => notices.push(msg));
  options.onProgress?.({ phase: 'build' });
  let res: Awaited<ReturnType<typeof solveNetwork>>;
  try {
    res = await solveNetwork(net, {
      formulation,
      backend,
      timeBudgetMs: options.refineTimeMs ?? DEFAULTS.refineTimeMs,
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (p) => options.onProgress?.({ phase: p.phase === 'solve' ? 'refine' : p.phase, ...(p.iteration !== undefined ? { iteration: p.iteration } : {}), bestBound: p.boundEstimate ?? null }),
    });
  } finally {
    backend.dispose();
  }
  if (backend.name !== 'cpu' && res.formulation === 'unrolled') notices.push('the unrolled formulation is optimised in f64 on the CPU; the backend was not used');
  checkAborted(options.signal);
  options.onProgress?.({ phase: 'done', bestBound: res.upperBound });
  if (res.status === 'fallback') notices.push('the optimised multipliers could not be certified below the fallback bound; reporting the best certified fallback');
  return {
    upperBound: res.upperBound,
    status: res.status,
    lowerBound: t.lowerBound,
    naiveBound: res.naiveBound ?? Infinity,
    backend: backend.name,
    solverPrecision: backend.precision,
    ...(backend.adapter ? { adapter: backend.adapter } : {}),
    timings: {
      import: t.tImport,
      build: res.timings.build,
      solve: res.timings.solve,
      certify: res.timings.certify,
      bounds: t.tBounds,
      total: performance.now() - t.tStart,
    },
    solver: {
      iterations: 0,
      primalResidual: NaN,
      dualResidual: NaN,
      status: 'f64-optimiser',
      refineIterations: res.iterations,
      lmiSizes: res.lmiSizes,
      bufferBytes: res.bufferBytes,
    },
    certificate: {
      precision: 'f64',
      source: res.status === 'certified' ? 'solver' : res.status === 'fallback' ? 'naive' : 'none',
      rhoInterval: res.rhoInterval,
      closedFormBound: res.closedFormBound,
    },
    network: { source: net.source, inputSize: inputSizeOf(net), outputSize: net.outputSize, layers: net.layers.map(describeLayer) },
    formulation: res.formulation,
    notices,
  };
}

/**
 * 1-D signal networks (Conv1d, LTI state-space layers): bounds in ℓ2 over time for sequences of
 * any length (pipeline/oned-net.ts); the realisation products of the optimiser run on the chosen
 * backend, the final levels and the certificate in f64 on the CPU; the lower bound uses long
 * random sequences.
 */
async function estimateOneD(net: Network, options: EstimateOptions, notices: string[], tStart: number, tImport: number): Promise<LipschitzReport> {
  notices.push('bound in ℓ2 over time and channels, valid for input sequences of any length (zero initial state)');
  const backend: Backend = await createBackend(options.backend ?? 'cpu', (msg) => notices.push(msg));
  options.onProgress?.({ phase: 'build' });
  let res: Awaited<ReturnType<typeof solveOneDNetwork>>;
  try {
    res = await solveOneDNetwork(net, { backend, timeBudgetMs: options.refineTimeMs ?? DEFAULTS.refineTimeMs, ...(options.signal ? { signal: options.signal } : {}) });
  } finally {
    backend.dispose();
  }
  checkAborted(options.signal);
  options.onProgress?.({ phase: 'done', bestBound: res.upperBound });
  return {
    upperBound: res.upperBound,
    status: res.status,
    lowerBound: res.lowerBound,
    naiveBound: res.naiveBound ?? Infinity,
    backend: backend.name,
    solverPrecision: backend.precision,
    ...(backend.adapter ? { adapter: backend.adapter } : {}),
    timings: {
      import: tImport,
      build: res.timings.build,
      solve: res.timings.solve,
      certify: res.timings.certify,
      bounds: res.timings.lower,
      total: performance.now() - tStart,
    },
    solver: {
      iterations: 0,
      primalResidual: NaN,
      dualResidual: NaN,
      status: 'f64-optimiser',
      refineIterations: res.iterations,
      lmiSizes: res.lmiSizes,
      bufferBytes: 0,
    },
    certificate: { precision: 'f64', source: res.status === 'certified' ? 'solver' : 'none', rhoInterval: res.rhoInterval, closedFormBound: null },
    network: { source: net.source, inputSize: net.inputShape[0] ?? 0, outputSize: net.outputSize, layers: net.layers.map(describeLayer) },
    formulation: 'oned',
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
  if (typeof model === 'string') return importOnnx(model, options.externalFiles ? { externalFiles: options.externalFiles } : {});
  if (model instanceof Uint8Array)
    return importOnnxBytes(model, {
      source: options.source ?? 'bytes',
      ...(options.externalFiles ? { externalFiles: options.externalFiles } : {}),
    });
  return model;
}

function inputSizeOf(net: Network): number {
  return net.inputShape.reduce((a, b) => a * b, 1);
}

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new LipdpError('ABORTED', 'estimation aborted');
}

function summarise(net: Network, chain: FcChain): NetworkSummary {
  return {
    source: net.source,
    inputSize: chain.inputSize,
    outputSize: net.outputSize,
    layers: chain.layers.map((l) => {
      const act = l.activation ? `, ${l.activation.fn} [${fmt(l.activation.slope.alpha)},${fmt(l.activation.slope.beta)}]` : '';
      return `dense ${l.W.cols}→${l.W.rows}${act}`;
    }),
  };
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}
