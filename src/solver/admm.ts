/**
 * ADMM for   minimise cᵀx  s.t.  s = A x + b ∈ K   (docs/method.md §6.2), written once against the
 * backend's ProblemOps so that it runs unchanged on the CPU and on WebGPU.
 *
 * Scaled form with penalty σ, over-relaxation α and scaled dual u (y = σu). The whole state is the
 * pre-projection point w (s = Π_K(w), u = w − s), and one iteration is the fixed-point map
 *   s = Π_K(w),  u = w − s
 *   (AᵀA) x = −c/σ − Aᵀ(b − s + u)
 *   T(w) = α·Ax + (1−α)·s + α·b + u
 * Residuals: primal ‖Ax + b − s⁺‖, dual σ‖Aᵀ(s⁺ − s)‖. σ is adapted from their ratio, rescaling u
 * so that y stays put.
 *
 * Anderson acceleration (type II, memory m, as in SCS 3) extrapolates w from the last m steps of
 * T. Deep chains need it: plain ADMM passes information one layer per iteration through the Q_k.
 * A safeguard falls back to the plain step whenever the fixed-point residual ‖T(w) − w‖ grows.
 *
 * The caller's `onCheck` hook sees x every `checkEvery` iterations (the driver runs the f64
 * certificate there) and may stop the solve when the certified bound stops improving.
 */
import { UNLIMITED, type RunBudget } from './budget.js';
import type { ProblemOps, Vec } from '../backend/backend.js';
import { choleskyInPlace, choleskySolve } from '../linalg/cholesky.js';

export interface AdmmOptions {
  readonly maxIter: number;
  /** Relative residual tolerance. */
  readonly tol: number;
  readonly sigma0?: number;
  readonly relax?: number;
  /** Anderson memory (0 disables acceleration). */
  readonly andersonMemory?: number;
  /** Iterations between residual evaluations (and σ updates). */
  readonly residualEvery?: number;
  /** Iterations between onCheck calls. */
  readonly checkEvery?: number;
  /** The run's time limit (status 'time_limit' when it ends the loop) and abort signal. */
  readonly budget?: RunBudget;
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
  readonly status: 'converged' | 'max_iter' | 'time_limit' | 'stopped' | 'aborted';
}

export async function admm(
  ops: ProblemOps,
  b: Float64Array,
  c: Float64Array,
  x0: Float64Array,
  opts: AdmmOptions,
  hooks: AdmmHooks = {},
): Promise<AdmmResult> {
  const relax = opts.relax ?? 1.8;
  const residualEvery = opts.residualEvery ?? 10;
  const checkEvery = opts.checkEvery ?? 50;
  let sigma = opts.sigma0 ?? 1;

  const bv = ops.createVector('s', b);
  const cv = ops.createVector('x', c);
  const x = ops.createVector('x', x0);
  const w = ops.createVector('s');
  const s = ops.createVector('s');
  const sPrev = ops.createVector('s');
  const u = ops.createVector('s');
  const t = ops.createVector('s');
  const ax = ops.createVector('s');
  const rx = ops.createVector('x');
  const dx = ops.createVector('x');
  const aa = new Anderson(ops, opts.andersonMemory ?? 8);

  // Warm start: w = A x0 + b (so s = Π(w) is its projection and u starts at w − s).
  ops.applyA(x, w);
  ops.lincomb(w, 1, w, 1, bv);

  const [cNorm, bNorm] = await ops.norms([cv, bv]);
  let primal = Infinity;
  let dual = Infinity;
  let status: AdmmResult['status'] = 'max_iter';
  let it = 0;
  let haveAx = false;
  const progress = (): AdmmProgress => ({ iteration: it, primalResidual: primal, dualResidual: dual, sigma });

  const budget = opts.budget ?? UNLIMITED;
  for (it = 1; it <= opts.maxIter; it++) {
    await budget.yield();
    if (budget.expired()) {
      status = 'time_limit';
      break;
    }
    // s = Π(w), u = w − s
    ops.lincomb(sPrev, 1, s);
    ops.lincomb(s, 1, w);
    ops.projectCone(s);
    ops.lincomb(u, 1, w, -1, s);

    if (haveAx && it % residualEvery === 0) {
      ops.lincomb(t, 1, ax, 1, bv, -1, s); // A x + b − s
      ops.lincomb(sPrev, 1, s, -1, sPrev);
      ops.applyAT(sPrev, dx);
      ops.applyAT(u, rx);
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
      // Residual balancing on the absolute residuals (the data are normalised).
      const ratio = Math.sqrt(primal / Math.max(dual, 1e-300));
      if (ratio > 5 || ratio < 0.2) {
        const next = Math.min(Math.max(sigma * Math.min(Math.max(ratio, 0.1), 10), 1e-6), 1e6);
        // Keep y = σu: w = s + u·σ/σ'.
        ops.lincomb(u, sigma / next, u);
        ops.lincomb(w, 1, s, 1, u);
        sigma = next;
        aa.reset();
      }
    }

    // x-update and T(w)
    ops.lincomb(t, 1, bv, -1, s, 1, u);
    ops.applyAT(t, rx);
    ops.lincomb(rx, -1, rx, -1 / sigma, cv);
    ops.solveNormal(rx, x);
    ops.applyA(x, ax);
    haveAx = true;
    ops.lincomb(t, relax, ax, 1 - relax, s, 1, u);
    ops.lincomb(t, 1, t, relax, bv); // t = T(w)
    await aa.step(w, t); // w ← accelerated (or plain) next point

    if (hooks.onCheck && it % checkEvery === 0) {
      const host = await ops.read(x);
      if (await hooks.onCheck(host, progress())) {
        status = 'stopped';
        break;
      }
    }
  }
  const xOut = await ops.read(x);
  return { x: xOut, iterations: Math.min(status === 'max_iter' ? it : it - 1, opts.maxIter), primalResidual: primal, dualResidual: dual, status };
}

/**
 * Type-II Anderson acceleration for w ← T(w): with g = T(w) − w and the last m differences
 * ΔG, ΔT, take w⁺ = T(w) − ΔT γ where γ = argmin ‖g − ΔG γ‖ (regularised normal equations).
 * Safeguarded: if ‖g‖ grew by more than `growth` since the last accepted step, the memory is
 * cleared and the plain step T(w) is taken.
 */
class Anderson {
  private readonly dG: Vec[] = [];
  private readonly dT: Vec[] = [];
  private readonly gPrev: Vec;
  private readonly tPrev: Vec;
  private readonly g: Vec;
  private count = 0; // stored columns
  private head = 0; // next slot to overwrite
  private havePrev = false;
  private gNormRef = Infinity;
  private readonly gram: Float64Array;

  constructor(
    private readonly ops: ProblemOps,
    private readonly m: number,
    private readonly growth = 2,
  ) {
    for (let i = 0; i < m; i++) {
      this.dG.push(ops.createVector('s'));
      this.dT.push(ops.createVector('s'));
    }
    this.gPrev = ops.createVector('s');
    this.tPrev = ops.createVector('s');
    this.g = ops.createVector('s');
    this.gram = new Float64Array(m * m);
  }

  reset(): void {
    this.count = 0;
    this.head = 0;
    this.havePrev = false;
    this.gNormRef = Infinity;
  }

  /** w: current point (overwritten with the next one); tw: T(w) (overwritten as scratch). */
  async step(w: Vec, tw: Vec): Promise<void> {
    const { ops, m } = this;
    if (m === 0) {
      ops.lincomb(w, 1, tw);
      return;
    }
    ops.lincomb(this.g, 1, tw, -1, w);
    const [gNorm] = await ops.norms([this.g]);
    if (gNorm > this.growth * this.gNormRef) {
      // Safeguard: the extrapolation made things worse; restart from the plain step.
      this.reset();
    }
    if (this.havePrev) {
      const slot = this.head;
      ops.lincomb(this.dG[slot], 1, this.g, -1, this.gPrev);
      ops.lincomb(this.dT[slot], 1, tw, -1, this.tPrev);
      this.head = (this.head + 1) % m;
      this.count = Math.min(this.count + 1, m);
      // Update Gram row/column of the new slot.
      const idx = this.activeSlots();
      const pairs: [Vec, Vec][] = idx.map((j) => [this.dG[slot], this.dG[j]]);
      const vals = await ops.dots(pairs);
      idx.forEach((j, k) => {
        this.gram[slot * m + j] = vals[k];
        this.gram[j * m + slot] = vals[k];
      });
    }
    ops.lincomb(this.gPrev, 1, this.g);
    ops.lincomb(this.tPrev, 1, tw);
    this.havePrev = true;
    this.gNormRef = Math.min(this.gNormRef, gNorm);
    if (this.count === 0) {
      ops.lincomb(w, 1, tw);
      return;
    }
    const idx = this.activeSlots();
    const k = idx.length;
    const rhs = Float64Array.from(await ops.dots(idx.map((j) => [this.dG[j], this.g] as [Vec, Vec])));
    const G = new Float64Array(k * k);
    let tr = 0;
    for (let a = 0; a < k; a++) {
      for (let bb = 0; bb < k; bb++) G[a * k + bb] = this.gram[idx[a] * m + idx[bb]];
      tr += G[a * k + a];
    }
    for (let a = 0; a < k; a++) G[a * k + a] += 1e-10 * tr + 1e-300;
    if (!choleskyInPlace(G, k)) {
      this.reset();
      ops.lincomb(w, 1, tw);
      return;
    }
    choleskySolve(G, k, rhs);
    // w⁺ = T(w) − Σ γ_j ΔT_j
    ops.lincomb(w, 1, tw);
    for (let a = 0; a < k; a++) ops.lincomb(w, 1, w, -rhs[a], this.dT[idx[a]]);
  }

  private activeSlots(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) out.push((this.head - 1 - i + 2 * this.m) % this.m);
    return out;
  }
}
