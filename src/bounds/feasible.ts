/**
 * A closed-form feasible point of the layered SDP (warm start for ADMM and a certified fallback):
 * scalar multipliers Λ_k = t_k I and scalar weights Q_k = q_k I.
 *
 * With Q_{k−1} = q I and Λ = t I, the Schur complement Q* = 2tI − c²t² W (qI + 2a t WᵀW)⁻¹ Wᵀ
 * (a = αβ, c = α+β) has eigenvalues g(σ) = 2t − c² t² σ² / (q + 2a t σ²) over the singular values σ
 * of W; g is decreasing in σ², so the worst case is σ_max and we choose t to maximise
 * g(σ_max). For a = 0 this is t = q/(c²σ²) and q_next = q/(c²σ²): the naive product bound.
 */
export interface ScalarLayer {
  /** (An estimate of) ‖W_k‖₂. */
  readonly sigma: number;
  readonly alpha: number;
  readonly beta: number;
}

export interface ScalarPoint {
  /** t_k per hidden layer. */
  readonly t: number[];
  /** q_k per hidden layer. */
  readonly q: number[];
}

/** Scalar multipliers for hidden layers given ρ (= q_0). */
export function scalarFeasiblePoint(hidden: readonly ScalarLayer[], rho: number): ScalarPoint {
  const t: number[] = [];
  const q: number[] = [];
  let qIn = rho;
  for (const { sigma, alpha, beta } of hidden) {
    const a = alpha * beta;
    const c = alpha + beta;
    const s2 = sigma * sigma;
    const g = (tt: number): number => 2 * tt - (c * c * tt * tt * s2) / (qIn + 2 * a * tt * s2);
    let best: number;
    if (c === 0 || s2 === 0) best = qIn; // the layer's output does not depend on its input
    else if (a === 0) best = qIn / (c * c * s2);
    else best = goldenMax(g, 0, (4 * qIn) / (c * c * s2) + 1e-300);
    t.push(best);
    const qNext = Math.max(g(best), 0);
    q.push(qNext);
    qIn = qNext;
  }
  return { t, q };
}

function goldenMax(f: (x: number) => number, lo: number, hi: number): number {
  const phi = (Math.sqrt(5) - 1) / 2;
  let a = lo;
  let b = hi;
  let x1 = b - phi * (b - a);
  let x2 = a + phi * (b - a);
  let f1 = f(x1);
  let f2 = f(x2);
  for (let i = 0; i < 200 && b - a > 1e-14 * (Math.abs(a) + Math.abs(b)); i++) {
    if (f1 < f2) {
      a = x1;
      x1 = x2;
      f1 = f2;
      x2 = a + phi * (b - a);
      f2 = f(x2);
    } else {
      b = x2;
      x2 = x1;
      f2 = f1;
      x1 = b - phi * (b - a);
      f1 = f(x1);
    }
  }
  return (a + b) / 2;
}
