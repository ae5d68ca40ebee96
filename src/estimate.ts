/**
 * The library entry point: estimateLipschitz(model, options) runs the whole pipeline
 *   import → (realize) → lmi → solve (backend) → certify → report
 * and returns a typed report. Every number called a bound in the report comes from the f64
 * certifier (certify/), the naive bound included.
 */
import type { Backend } from './backend/backend.js';
import { importOnnx, importOnnxBytes } from './model/import.js';
import { LipdpError } from './model/errors.js';
import { forward, jvp, vjp } from './model/forward.js';
import { toFcChain } from './model/lower.js';
import type { FcChain, Network } from './model/ir.js';
import { naiveBoundFc } from './bounds/naive.js';
import { empiricalLowerBound } from './bounds/lower.js';
import { solveFcChain } from './pipeline/fc-chain.js';
import { createBackend } from './backend/select.js';
import type { CertificationStatus, EstimateOptions, LipschitzReport, NetworkSummary } from './report/types.js';

export type ModelInput = string | Uint8Array | Network;

export const DEFAULTS = {
  tol: 1e-5,
  maxIter: 200,
  admmTimeBudgetMs: 15_000,
  certTol: 1e-4,
  lowerBoundSamples: 6,
} as const;

export async function estimateLipschitz(model: ModelInput, options: EstimateOptions = {}): Promise<LipschitzReport> {
  const notices: string[] = [];
  const progress = options.onProgress;
  const tStart = performance.now();
  progress?.({ phase: 'import' });
  const net = await loadNetwork(model, options);
  const chain = toFcChain(net);
  const tImport = performance.now() - tStart;
  checkAborted(options.signal);

  const tB = performance.now();
  progress?.({ phase: 'bounds' });
  const naive = naiveBoundFc(chain);
  const lower = empiricalLowerBound(
    { inputSize: inputSizeOf(net), f: (x) => forward(net, x), jvp: (x, t) => jvp(net, x, t), vjp: (x, v) => vjp(net, x, v) },
    { samples: options.lowerBoundSamples ?? DEFAULTS.lowerBoundSamples, ...(options.signal ? { signal: options.signal } : {}) },
  );
  const tBounds = performance.now() - tB;
  checkAborted(options.signal);

  const backend: Backend = await createBackend(options.backend ?? 'cpu', (msg) => notices.push(msg));
  try {
    progress?.({ phase: 'build' });
    const maxIter = options.maxIter ?? DEFAULTS.maxIter;
    const res = await solveFcChain(chain, backend, {
      maxIter,
      tol: options.tol ?? DEFAULTS.tol,
      certTol: options.certTol ?? DEFAULTS.certTol,
      admmTimeBudgetMs: options.admmTimeBudgetMs ?? DEFAULTS.admmTimeBudgetMs,
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
    if (Number.isFinite(naive.bound)) cands.push({ L: naive.bound, source: 'naive', interval: null });
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
      naiveBound: naive.bound,
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
      notices,
    };
  } finally {
    backend.dispose();
  }
}

async function loadNetwork(model: ModelInput, options: EstimateOptions): Promise<Network> {
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
