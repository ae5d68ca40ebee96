import type { RunBudget } from './budget.js';

type Eval = { f: number; grad: Float64Array };

/**
 * L-BFGS (memory 10) with a backtracking Armijo line search that also backs off from points
 * outside the domain (f = ∞), stopping after maxIter steps, when `budget` expires (the caller's
 * time limit; an abort throws), or when 10 steps gained less than relTol·|f|. Written once as a
 * generator that yields the points it needs evaluated; `lbfgsAsync` drives it (awaiting a GPU
 * objective, and giving the event loop a turn so that an abort is seen).
 */
function* lbfgsSteps(
  theta0: Float64Array,
  maxIter: number,
  relTol: number,
  budget: RunBudget,
  onIter: (f: number) => void,
): Generator<Float64Array, { theta: Float64Array; f: number }, Eval> {
  const dim = theta0.length;
  let theta: Float64Array = theta0;
  let cur: Eval = yield theta;
  if (!Number.isFinite(cur.f)) return { theta, f: cur.f };
  const mem = 10;
  const S: Float64Array[] = [];
  const Yh: Float64Array[] = [];
  /** sᵢᵀyᵢ of each stored pair. */
  const sy: number[] = [];
  const history: number[] = [cur.f];
  for (let it = 1; it <= maxIter; it++) {
    if (budget.expired()) break;
    // Two-loop recursion for d = −H ∇f.
    const q = Float64Array.from(cur.grad);
    const alphas: number[] = [];
    for (let i = S.length - 1; i >= 0; i--) {
      const al = dot(S[i]!, q) / sy[i]!;
      alphas[i] = al;
      axpy(q, -al, Yh[i]!);
    }
    if (S.length > 0) {
      const k = S.length - 1;
      const gammaK = sy[k]! / dot(Yh[k]!, Yh[k]!);
      for (let i = 0; i < dim; i++) q[i] *= gammaK;
    } else {
      const gn = Math.sqrt(dot(q, q));
      if (gn > 0) for (let i = 0; i < dim; i++) q[i] /= gn; // first step: unit length in θ
    }
    for (let i = 0; i < S.length; i++) {
      const be = dot(Yh[i]!, q) / sy[i]!;
      axpy(q, alphas[i]! - be, S[i]!);
    }
    // Plain loops throughout: TypedArray.map with a closure is several times slower in V8.
    const d = new Float64Array(dim);
    for (let i = 0; i < dim; i++) d[i] = -q[i]!;
    let slope = dot(cur.grad, d);
    if (!(slope < 0)) {
      S.length = 0;
      Yh.length = 0;
      sy.length = 0;
      const gn = Math.sqrt(dot(cur.grad, cur.grad));
      if (!(gn > 0)) break;
      for (let i = 0; i < dim; i++) d[i] = -cur.grad[i]! / gn;
      slope = dot(cur.grad, d);
    }
    let step = 1;
    let next: { f: number; grad: Float64Array } | null = null;
    let thetaNext = theta;
    for (let ls = 0; ls < 30; ls++) {
      thetaNext = new Float64Array(dim);
      for (let i = 0; i < dim; i++) thetaNext[i] = theta[i]! + step * d[i]!;
      const cand: Eval = yield thetaNext;
      if (Number.isFinite(cand.f) && cand.f <= cur.f + 1e-4 * step * slope) {
        next = cand;
        break;
      }
      step *= 0.5;
    }
    if (!next) break;
    const sVec = new Float64Array(dim);
    const yVec = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      sVec[i] = thetaNext[i]! - theta[i]!;
      yVec[i] = next.grad[i]! - cur.grad[i]!;
    }
    const sTy = dot(sVec, yVec);
    if (sTy > 1e-300) {
      S.push(sVec);
      Yh.push(yVec);
      sy.push(sTy);
      if (S.length > mem) {
        S.shift();
        Yh.shift();
        sy.shift();
      }
    }
    theta = thetaNext;
    cur = next;
    history.push(cur.f);
    onIter(cur.f);
    if (history.length > 10 && history[history.length - 11]! - cur.f <= relTol * Math.abs(cur.f)) break;
  }
  return { theta, f: cur.f };
}

export async function lbfgsAsync(
  fg: (theta: Float64Array) => Eval | Promise<Eval>,
  theta0: Float64Array,
  maxIter: number,
  relTol: number,
  budget: RunBudget,
  onIter: (f: number) => void,
): Promise<{ theta: Float64Array; f: number }> {
  const steps = lbfgsSteps(theta0, maxIter, relTol, budget, onIter);
  let r = steps.next();
  while (!r.done) {
    const e = await fg(r.value);
    await budget.yield();
    r = steps.next(e);
  }
  return r.value;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function axpy(y: Float64Array, a: number, x: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += a * x[i]!;
}
