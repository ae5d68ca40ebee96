/**
 * ADMM for   minimise cᵀx  s.t.  s = A x + b ∈ K   (design.md §3), written once against the
 * backend's ProblemOps so that it runs unchanged on the CPU and on WebGPU.
 *
 * Scaled form with penalty σ, over-relaxation α and scaled dual u (y = σu):
 *   x⁺ = argmin cᵀx + σ/2 ‖Ax + b − s + u‖²   ⇔  (AᵀA) x⁺ = −c/σ − Aᵀ(b − s + u)
 *   w  = α·Ax⁺ + (1−α)(s − b) + b + u
 *   s⁺ = Π_K(w),    u⁺ = w − s⁺
 * Residuals: primal ‖Ax + b − s‖, dual σ‖Aᵀ(s⁺ − s)‖. σ is adapted from their ratio (both scaled
 * by their natural magnitudes, as in OSQP), rescaling u so that y stays put.
 *
 * The caller's `onCheck` hook sees the iterate every `checkEvery` iterations (the driver runs the
 * f64 certificate there) and may stop the solve when the certified bound stops improving.
 */
import type { ProblemOps } from '../backend/backend.js';

export interface AdmmOptions {
  readonly maxIter: number;
  /** Relative residual tolerance. */
  readonly tol: number;
  readonly sigma0?: number;
  readonly relax?: number;
  /** Iterations between residual evaluations (and σ updates). */
  readonly residualEvery?: number;
  /** Iterations between onCheck calls. */
  readonly checkEvery?: number;
  readonly signal?: AbortSignal;
}

export interface AdmmProgress {
  readonly iteration: number;
  readonly primalResidual: number;
  readonly dualResidual: number;
  readonly sigma: number;
}

export interface AdmmHooks {
  onResiduals?(p: AdmmProgress): void;
  /** Return true to stop. Receives the current x (host copy). */
  onCheck?(x: Float64Array, p: AdmmProgress): Promise<boolean> | boolean;
}

export interface AdmmResult {
  readonly x: Float64Array;
  readonly iterations: number;
  readonly primalResidual: number;
  readonly dualResidual: number;
  readonly status: 'converged' | 'max_iter' | 'stopped' | 'aborted';
}

export async function admm(
  ops: ProblemOps,
  b: Float64Array,
  c: Float64Array,
  x0: Float64Array,
  opts: AdmmOptions,
  hooks: AdmmHooks = {},
): Promise<AdmmResult> {
  const relax = opts.relax ?? 1.6;
  const residualEvery = opts.residualEvery ?? 10;
  const checkEvery = opts.checkEvery ?? 50;
  let sigma = opts.sigma0 ?? 1;

  const bv = ops.createVector('s', b);
  const cv = ops.createVector('x', c);
  const x = ops.createVector('x', x0);
  const s = ops.createVector('s');
  const u = ops.createVector('s');
  const t = ops.createVector('s');
  const ax = ops.createVector('s');
  const sOld = ops.createVector('s');
  const rx = ops.createVector('x');
  const dx = ops.createVector('x');
  // Warm start: s = Π_K(A x0 + b), u = 0.
  ops.applyA(x, s);
  ops.lincomb(s, 1, s, 1, bv);
  ops.projectCone(s);

  const [cNorm, bNorm] = await ops.norms([cv, bv]);
  let primal = Infinity;
  let dual = Infinity;
  let status: AdmmResult['status'] = 'max_iter';
  let it = 0;
  const progress = (): AdmmProgress => ({ iteration: it, primalResidual: primal, dualResidual: dual, sigma });

  for (it = 1; it <= opts.maxIter; it++) {
    if (opts.signal?.aborted) {
      status = 'aborted';
      break;
    }
    // x-update
    ops.lincomb(t, 1, bv, -1, s, 1, u);
    ops.applyAT(t, rx);
    ops.lincomb(rx, -1, rx, -1 / sigma, cv);
    ops.solveNormal(rx, x);
    // s-update with over-relaxation
    ops.applyA(x, ax);
    ops.lincomb(sOld, 1, s);
    ops.lincomb(t, relax, ax, 1 - relax, s, 1, u); // w − α b (b added next)
    ops.lincomb(t, 1, t, relax, bv);
    ops.lincomb(s, 1, t);
    ops.projectCone(s);
    ops.lincomb(u, 1, t, -1, s);

    const wantResiduals = it % residualEvery === 0 || it === opts.maxIter;
    if (wantResiduals) {
      // primal: A x + b − s ; dual: σ Aᵀ(s − s_old)
      ops.lincomb(t, 1, ax, 1, bv, -1, s);
      ops.lincomb(sOld, 1, s, -1, sOld);
      ops.applyAT(sOld, dx);
      ops.applyAT(u, rx); // Aᵀu, for the dual scale (Aᵀy = σAᵀu ≈ −c at optimum)
      const [rp, rdRaw, axN, sN, atuN] = await ops.norms([t, dx, ax, s, rx]);
      primal = rp;
      dual = sigma * rdRaw;
      const pScale = Math.max(axN, sN, bNorm, 1e-12);
      const dScale = Math.max(sigma * atuN, cNorm, 1e-12);
      hooks.onResiduals?.(progress());
      if (primal <= opts.tol * pScale && dual <= opts.tol * dScale) {
        status = 'converged';
        break;
      }
      // Residual balancing.
      const ratio = Math.sqrt((primal / pScale) / Math.max(dual / dScale, 1e-300));
      if (ratio > 5 || ratio < 0.2) {
        const next = Math.min(Math.max(sigma * Math.min(Math.max(ratio, 0.1), 10), 1e-6), 1e6);
        ops.lincomb(u, sigma / next, u);
        sigma = next;
      }
    }
    if (hooks.onCheck && it % checkEvery === 0) {
      const host = await ops.read(x);
      if (await hooks.onCheck(host, progress())) {
        status = 'stopped';
        break;
      }
    }
  }
  const xOut = await ops.read(x);
  return { x: xOut, iterations: Math.min(it, opts.maxIter), primalResidual: primal, dualResidual: dual, status };
}
