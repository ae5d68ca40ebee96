/**
 * The naive bound: L ≤ Π_k ‖W_k‖₂ · Π_k max(|α_k|, |β_k|). Every factor is a certified upper bound:
 * ‖W‖₂ ≤ σ̂ is proven by checking σ̂²I − G ≻ 0 (G the smaller Gram matrix of W) with the
 * rounding-aware Cholesky test, after a power-iteration estimate. Products are rounded up.
 */
import type { FcChain, Matrix } from '../model/ir.js';
import { spectralNormSteps } from '../linalg/dense.js';
import { mulUp, nextUp, verifyPositiveDefinite } from '../certify/psd-check.js';
import { runSteps, type RunBudget } from '../solver/budget.js';
import type { Steps } from '../util/steps.js';

/** A certified upper bound on ‖W‖₂, pausing between the rows of its Gram matrix and the attempts. */
export function* certifiedSpectralNorm(W: Matrix): Steps<number> {
  const est = yield* spectralNormSteps(W);
  if (est === 0 && W.data.every((v) => v === 0)) return 0;
  const byRows = W.rows <= W.cols; // use the smaller Gram matrix
  const n = byRows ? W.rows : W.cols;
  const inner = byRows ? W.cols : W.rows;
  const g = new Float64Array(n * n);
  const ag = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    if (i % 64 === 0) yield;
    for (let j = 0; j <= i; j++) {
      let s = 0;
      let a = 0;
      for (let k = 0; k < inner; k++) {
        const x = byRows ? W.data[i * W.cols + k] : W.data[k * W.cols + i];
        const y = byRows ? W.data[j * W.cols + k] : W.data[k * W.cols + j];
        s += x * y;
        a += Math.abs(x * y);
      }
      g[i * n + j] = g[j * n + i] = s;
      ag[i * n + j] = ag[j * n + i] = a;
    }
  }
  let sigma = est * (1 + 1e-7) + Number.MIN_VALUE;
  for (let attempt = 0; attempt < 60; attempt++) {
    yield;
    const s2 = mulUp(sigma, sigma);
    const m = new Float64Array(n * n);
    const am = new Float64Array(n * n);
    for (let i = 0; i < n * n; i++) {
      m[i] = -g[i];
      am[i] = ag[i];
    }
    for (let i = 0; i < n; i++) {
      m[i * n + i] += s2;
      am[i * n + i] += s2;
    }
    if (verifyPositiveDefinite(m, n, am, inner + 2).ok) return sigma;
    sigma *= 1 + 1e-6 * 2 ** attempt;
  }
  throw new Error('certifiedSpectralNorm: could not certify a spectral norm bound');
}

export interface NaiveBound {
  readonly bound: number;
  readonly layerNorms: number[];
}

export async function naiveBoundFc(chain: FcChain, budget?: RunBudget): Promise<NaiveBound> {
  const layerNorms: number[] = [];
  for (const l of chain.layers) layerNorms.push(await runSteps(certifiedSpectralNorm(l.W), budget));
  let bound = 1;
  chain.layers.forEach((l, k) => {
    bound = mulUp(bound, layerNorms[k]);
    if (l.activation) bound = mulUp(bound, Math.max(Math.abs(l.activation.slope.alpha), Math.abs(l.activation.slope.beta)));
  });
  return { bound: bound === 0 ? 0 : nextUp(bound), layerNorms };
}
