/**
 * Forward recursion of Loewner-maximal outgoing weights through all stages (docs/method.md §6), with
 * the reverse pass for the optimiser. Between stages the outgoing Q* is turned into the next
 * stage's incoming weight:
 *   Q' = Q* − ε·max|diag Q*|·I                      (certifier margin; ε = 0 in the optimiser)
 *   Q'' = t·diag(d), t = λ_min(D^{-1/2}Q'D^{-1/2}), D = diag(d) with the stage's fixed shape d
 *                                                    (only after max pooling: Q must be diagonal;
 *                                                    Q'' ⪯ Q' is the largest multiple of diag(d);
 *                                                    monotone in Q', unlike t·diag(Q'))
 *   Q_next = Q''/μ                                    (pooling gain: the stage certifies
 *                                                    Σ w(μQ_next)w ≤ …, pooling Σ pQ_next p ≤ Σ w(μQ_next)w)
 */
import { symEig } from '../../linalg/eig.js';
import { stageForward, type StageGrad, type StageProducts } from './stage-math.js';
import type { Stage, StageParams } from './stages.js';
import { runStepsSync, type Steps } from '../../util/steps.js';

export interface RecursionOptions {
  /** Q_0 = ρ·I. */
  readonly rho: number;
  /** Relative diagonal margin subtracted from every Q*. */
  readonly margin?: number;
  /** log-sum-exp smoothing of the last stage's λ_max (optimiser). */
  readonly smooth?: number;
  /** Log-det barrier weight on every N_k and outgoing Q* (optimiser only; g then includes it). */
  readonly barrier?: number;
  /** See stage-math.ts ForwardOptions. */
  readonly skipImpliedBarrier?: boolean;
  /** Per stage: Roesser products computed by a backend, and where to defer the P-adjoints. */
  readonly products?: readonly StageProducts[];
  /** Incoming weight of the first stage instead of ρ·I (used to chain partial recursions). */
  readonly Q0?: Float64Array;
  /** Largest storage P relative to the incoming weight inside the domain (stage-math.ts STORAGE_RANGE). */
  readonly storageRange?: number;
}

export interface RecursionResult {
  /** Incoming weights of stages 1..K−1 (Q_k for stage k+1), as used. */
  readonly qs: Float64Array[];
  /** λ_max(G N_last⁻¹ Gᵀ) (smoothed if asked). */
  readonly g: number;
  /** Gradients, if asked. */
  readonly grads?: StageGrad[];
}

interface Transform {
  readonly Q: Float64Array;
  /** ∂g/∂Q' from ∂g/∂Q_next; accumulates ∂g/∂d into gShape when there is a shape. */
  readonly back: (gNext: Float64Array, gShape: Float64Array | null) => Float64Array;
}

function transform(Qs: Float64Array, m: number, st: Stage, margin: number, shape: Float64Array | null | undefined): Transform | null {
  const Q1 = Float64Array.from(Qs);
  // symmetrise (rounding)
  for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) Q1[i * m + j] = Q1[j * m + i] = 0.5 * (Q1[i * m + j]! + Q1[j * m + i]!);
  if (margin > 0) {
    let md = 0;
    for (let i = 0; i < m; i++) md = Math.max(md, Math.abs(Q1[i * m + i]!));
    for (let i = 0; i < m; i++) Q1[i * m + i] -= margin * md;
  }
  const mu = st.pool.mu;
  if (!st.pool.diag) {
    return { Q: Q1.map((v) => v / mu), back: (g) => g.map((v) => v / mu) };
  }
  if (!shape || shape.length !== m) throw new Error(`stage '${st.name}': max pooling needs a diagonal shape vector`);
  const d = shape;
  for (let i = 0; i < m; i++) if (!(d[i]! > 0)) return null;
  const S = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) S[i * m + j] = Q1[i * m + j]! / Math.sqrt(d[i]! * d[j]!);
  const { values, vectors } = symEig(S, m);
  const t = values[0]! * (1 - 1e-9);
  if (!(t > 0)) return null;
  const v = vectors.subarray(0, m);
  const Q = new Float64Array(m * m);
  for (let i = 0; i < m; i++) Q[i * m + i] = (t * d[i]!) / mu;
  return {
    Q,
    back: (g, gShape) => {
      const h = new Float64Array(m);
      let hd = 0;
      for (let i = 0; i < m; i++) {
        h[i] = g[i * m + i]! / mu;
        hd += h[i]! * d[i]!;
      }
      // Q''_i = t·d_i; dt = wᵀdQ'w (w = D^{-1/2}v), ∂t/∂d_i = −t v_i²/d_i.
      const out = new Float64Array(m * m);
      for (let i = 0; i < m; i++) {
        const wi = v[i]! / Math.sqrt(d[i]!);
        for (let j = 0; j < m; j++) out[i * m + j] = hd * wi * (v[j]! / Math.sqrt(d[j]!));
        if (gShape) gShape[i] += (-hd * t * (v[i]! * v[i]!)) / d[i]! + t * h[i]!;
      }
      return out;
    },
  };
}

export function runRecursion(stages: readonly Stage[], params: readonly StageParams[], opts: RecursionOptions, wantGrad = false): RecursionResult | null {
  return runStepsSync(recursionSteps(stages, params, opts, wantGrad));
}

/** The recursion, pausing before every stage (the certifier runs it under the run's budget). */
export function* recursionSteps(stages: readonly Stage[], params: readonly StageParams[], opts: RecursionOptions, wantGrad = false): Steps<RecursionResult | null> {
  const c0 = stages[0]!.qin.c;
  let Q: Float64Array = new Float64Array(c0 * c0);
  if (opts.Q0) Q = opts.Q0;
  else for (let i = 0; i < c0; i++) Q[i * c0 + i] = opts.rho;
  const qs: Float64Array[] = [];
  const backs: ((g: Float64Array | null) => { gQin: Float64Array; grad: StageGrad })[] = [];
  const tbacks: ((g: Float64Array, gs: Float64Array | null) => Float64Array)[] = [];
  let g = NaN;
  let barrierSum = 0;
  for (let k = 0; k < stages.length; k++) {
    yield;
    const st = stages[k]!;
    const fw = stageForward(st, Q, params[k]!, { smooth: opts.smooth, barrier: opts.barrier, skipImpliedBarrier: opts.skipImpliedBarrier, products: opts.products?.[k], storageRange: opts.storageRange });
    if (!fw) return null;
    backs.push(fw.back);
    barrierSum += fw.barrierValue;
    if (st.last) {
      g = fw.g! + barrierSum;
      break;
    }
    const tr = transform(fw.Qstar!, st.out.G.rows, st, opts.margin ?? 0, params[k]!.diagShape);
    if (!tr) return null;
    tbacks.push(tr.back);
    Q = tr.Q;
    qs.push(Q);
  }
  if (!Number.isFinite(g)) return null;
  if (!wantGrad) return { qs, g };
  const grads: StageGrad[] = new Array(stages.length);
  let gbar: Float64Array | null = null;
  let gShape: Float64Array | null = null;
  for (let k = stages.length - 1; k >= 0; k--) {
    yield;
    const r = backs[k]!(gbar);
    grads[k] = { ...r.grad, diag: gShape };
    if (k > 0) {
      const prev = stages[k - 1]!;
      gShape = prev.pool.diag ? new Float64Array(prev.out.G.rows) : null;
      gbar = tbacks[k - 1]!(r.gQin, gShape);
    }
  }
  return { qs, g, grads };
}

/**
 * Minimise h(ρ) = ρ·g(ρ) over log ρ for FIXED multipliers by a pattern search (factor 10, then
 * √ of it, until 1.003 or `maxSteps` evaluations). Were every block homogeneous in ρ alone, h
 * would be constant; with the multipliers held fixed N(P, ρI) gains with ρ only through the
 * input weight, so h has an interior minimum (often well below ρ = 1 on long residual chains,
 * whose storage terms do not grow with ρ). `evaluate` returns null where some N_k is not ≻ 0.
 * Used by the certifier (any ρ that verifies is a certificate, so this only tightens) and by
 * the chain start (which stage-wise ratio ρ* to scale each stage's own multipliers to).
 */
export function* minimiseRhoG<R extends { readonly g: number }>(evaluate: (rho: number) => Steps<R | null>, rho: number, r: R, maxSteps: number): Steps<{ rho: number; r: R }> {
  let h = rho * r.g;
  for (let f = 10, steps = 0; f > 1.003 && steps < maxSteps; ) {
    let moved = false;
    for (const cand of [rho / f, rho * f]) {
      steps++;
      const rc = yield* evaluate(cand);
      if (rc && cand * rc.g < h) {
        [rho, r, h] = [cand, rc, cand * rc.g];
        moved = true;
        break;
      }
    }
    if (!moved) f = Math.sqrt(f);
  }
  return { rho, r };
}
