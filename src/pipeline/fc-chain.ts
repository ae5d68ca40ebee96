/**
 * The FC-chain pipeline after import: lmi (scaled, compressed layered SDP) → closed-form warm
 * start → ADMM on the chosen backend, with the f64 certificate run periodically on the current
 * multipliers → the best certified bound. Every bound that leaves this module came out of
 * certifyFcChain; the solver's own ρ is never reported as a bound.
 */
import type { Backend } from '../backend/backend.js';
import type { FcChain } from '../model/ir.js';
import { buildFcSdp, lambdasOf, unscaleLambdas } from '../lmi/build-fc.js';
import { constantB } from '../lmi/fc-ops.js';
import { spectralNormEstimate } from '../linalg/dense.js';
import { scalarFeasiblePoint } from '../bounds/feasible.js';
import { certifyFcChain } from '../certify/fc-certify.js';
import type { Certificate } from '../certify/certificate.js';
import { admm, type AdmmProgress } from '../solver/admm.js';
import type { LayeredSdp } from '../lmi/problem.js';
import { evaluateGSteps, refineMultipliers, type RefineProblem } from '../solver/refine-fc.js';
import { runSteps, type RunBudget } from '../solver/budget.js';

export interface FcSolveOptions {
  readonly maxIter: number;
  /** ADMM relative residual tolerance. */
  readonly tol: number;
  /** Stop when the certified bound improved by less than this (relative) over `patience` checks. */
  readonly certTol: number;
  readonly patience?: number;
  readonly checkEvery?: number;
  /** The run's time limit and abort signal (default: none). */
  readonly budget?: RunBudget;
  readonly onProgress?: (p: FcProgress) => void;
  /** Skip the f64 multiplier refinement after ADMM. */
  readonly noRefine?: boolean;
  readonly refineMaxIter?: number;
  readonly onRefine?: (iteration: number, boundEstimate: number) => void;
  /** The final certification of the refined multipliers starts. */
  readonly onCertify?: () => void;
}

export interface FcProgress extends AdmmProgress {
  readonly phase: 'solve';
  /** Best certified L so far (original scale), or null. */
  readonly bestBound: number | null;
  readonly maxIter: number;
}

export interface FcSolveResult {
  /** The certificate from the ADMM multipliers (best over checks), if any verified. */
  readonly admmCertificate: Certificate | null;
  /** The certificate from the closed-form scalar multipliers. */
  readonly closedFormCertificate: Certificate;
  readonly iterations: number;
  readonly refineIterations: number;
  readonly primalResidual: number;
  readonly dualResidual: number;
  readonly solverStatus: string;
  readonly blockSizes: number[];
  readonly bufferBytes: number;
  readonly timings: { build: number; solve: number; refine: number; certify: number };
}

export async function solveFcChain(chain: FcChain, backend: Backend, opts: FcSolveOptions): Promise<FcSolveResult> {
  let tCertify = 0;
  const t0 = performance.now();
  const scaled = buildFcSdp(chain);
  const { sdp, rhoFactor } = scaled;
  const x0 = warmStart(sdp);
  const b = constantB(sdp);
  const c = new Float64Array(sdp.xLength);
  c[sdp.rhoIndex] = 1;
  const tBuild = performance.now() - t0;

  const certify = async (lambdasSolver: Float64Array[], rhoGuess: number, verify = true): Promise<Certificate> => {
    const t = performance.now();
    const cert = await certifyFcChain(chain, unscaleLambdas(lambdasSolver, scaled), { rhoGuess, verify, relTol: verify ? 1e-7 : 1e-4, ...(opts.budget ? { budget: opts.budget } : {}) });
    tCertify += performance.now() - t;
    return cert;
  };
  const closedForm = await certify(lambdasOf(sdp, x0), x0[0] * rhoFactor);

  const certifyBeforeSolve = tCertify;
  const t1 = performance.now();
  const ops = await backend.prepare(sdp);
  let best: Certificate | null = null;
  const history: number[] = [];
  const patience = opts.patience ?? 3;
  const result = await admm(
    ops,
    b,
    c,
    x0,
    {
      maxIter: opts.maxIter,
      tol: opts.tol,
      checkEvery: opts.checkEvery ?? 25,
      ...(opts.budget ? { budget: opts.budget } : {}),
    },
    {
      onResiduals: (p) => opts.onProgress?.({ ...p, phase: 'solve', bestBound: best?.L ?? null, maxIter: opts.maxIter }),
      onCheck: async (x) => {
        const lam = lambdasOf(sdp, x).map((l) => l.map((v) => Math.max(v, 0)));
        const guess = Math.max(x[0], 1e-300) * rhoFactor;
        // Cheap provisional bisection first; the rigorous verification only when it would improve.
        const prov = await certify(lam, best ? best.rho : guess, false);
        if (prov.status === 'provisional' && (!best || prov.rho < best.rho * (1 - opts.certTol))) {
          const cert = await certify(lam, prov.rho);
          if (cert.status === 'certified' && (!best || cert.rho < best.rho)) best = cert;
        }
        history.push(best ? best.rho : Infinity);
        if (history.length > patience) {
          const old = history[history.length - 1 - patience];
          const now = history[history.length - 1];
          if (Number.isFinite(now) && old - now <= opts.certTol * now) return true;
        }
        return false;
      },
    },
  );
  // Final check on the last iterate (it may be better than the last periodic check).
  const lamFinal = lambdasOf(sdp, result.x).map((l) => l.map((v) => Math.max(v, 0)));
  const finalCert = await certify(lamFinal, best ? (best as Certificate).rho : Math.max(result.x[0], 1e-300) * rhoFactor);
  if (finalCert.status === 'certified' && (!best || finalCert.rho < (best as Certificate).rho)) best = finalCert;
  const bufferBytes = ops.bufferBytes();
  ops.dispose();
  const tSolve = performance.now() - t1 - (tCertify - certifyBeforeSolve);

  // f64 refinement on the eliminated problem (refine-fc.ts), from the better of the ADMM and
  // closed-form multipliers (both normalised to ρ = 1).
  const t2 = performance.now();
  const certifyBeforeRefine = tCertify;
  let refineIterations = 0;
  if (!opts.noRefine && !opts.budget?.expired() && sdp.blocks.length > 1) {
    const problem = refineProblemOf(sdp);
    const starts = [result.x, x0].map((x) => lambdasOf(sdp, x).map((l) => l.map((v) => Math.max(v, 0) / Math.max(x[0], 1e-300))));
    const scored: { lam: Float64Array[]; g: number }[] = [];
    for (const lam of starts) {
      const g = (await runSteps(evaluateGSteps(problem, lam, false), opts.budget)).g;
      if (Number.isFinite(g)) scored.push({ lam, g });
    }
    scored.sort((a, b2) => a.g - b2.g);
    if (scored.length > 0) {
      const refined = await refineMultipliers(problem, scored[0].lam, {
        maxIter: opts.refineMaxIter ?? 3000,
        ...(opts.budget ? { budget: opts.budget } : {}),
        onIteration: (it, g) => opts.onRefine?.(it, Math.sqrt(g * rhoFactor)),
      });
      refineIterations = refined.iterations;
      if (Number.isFinite(refined.g)) {
        opts.onCertify?.();
        const cert = await certify(refined.lambdas.map((l) => l.map((v) => v * refined.g)), refined.g * rhoFactor);
        if (cert.status === 'certified' && (!best || cert.rho < (best as Certificate).rho)) best = cert;
      }
    }
  }
  const tRefine = performance.now() - t2 - (tCertify - certifyBeforeRefine);
  return {
    admmCertificate: best,
    closedFormCertificate: closedForm,
    iterations: result.iterations,
    refineIterations,
    primalResidual: result.primalResidual,
    dualResidual: result.dualResidual,
    solverStatus: result.status,
    blockSizes: sdp.blocks.map((bl) => bl.size),
    bufferBytes,
    timings: { build: tBuild, solve: tSolve, refine: tRefine, certify: tCertify },
  };
}

/** The eliminated problem in solver space (normalised weights, unit-β slopes). */
export function refineProblemOf(sdp: LayeredSdp): RefineProblem {
  const hidden = sdp.blocks.flatMap((b) => (b.kind === 'fc' ? [{ W: b.W, a: b.alpha * b.beta, c: b.alpha + b.beta }] : []));
  return { hidden, last: sdp.blocks[sdp.blocks.length - 1].W };
}

/**
 * Closed-form feasible point in solver space: Λ_k = t_k I, Q_k = q_k I with ρ chosen so that the
 * last block holds (the scalar recursion is homogeneous of degree 1 in ρ).
 */
export function warmStart(sdp: LayeredSdp): Float64Array {
  const hidden = sdp.blocks.filter((b) => b.kind === 'fc').map((b) => ({ sigma: spectralNormEstimate(b.W), alpha: b.alpha, beta: b.beta }));
  const lastBlock = sdp.blocks[sdp.blocks.length - 1];
  const sigmaLast = spectralNormEstimate(lastBlock.W);
  const unit = scalarFeasiblePoint(hidden, 1);
  const qLastUnit = hidden.length === 0 ? 1 : unit.q[unit.q.length - 1];
  const rho = qLastUnit > 0 ? ((sigmaLast * sigmaLast) / qLastUnit) * (1 + 1e-3) : 1;
  const pt = scalarFeasiblePoint(hidden, rho);
  const x = new Float64Array(sdp.xLength);
  x[sdp.rhoIndex] = rho;
  let k = 0;
  for (const b of sdp.blocks) {
    if (b.kind !== 'fc') continue;
    x.fill(pt.t[k], b.lambdaOffset, b.lambdaOffset + b.W.rows);
    const q = sdp.qVars[b.qOut];
    for (let i = 0; i < q.size; i++) x[q.offset + i * q.size + i] = pt.q[k];
    k++;
  }
  return x;
}
