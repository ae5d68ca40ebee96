/** Elementwise activations: value, derivative and slope interval (incremental sector). */
import type { ActivationFn, SlopeBounds } from '../ir.js';

export function activationValue(fn: ActivationFn, param: number | undefined, v: number): number {
  switch (fn) {
    case 'relu':
      return v > 0 ? v : 0;
    case 'leaky_relu':
      return v >= 0 ? v : (param ?? 0.01) * v;
    case 'tanh':
      return Math.tanh(v);
    case 'sigmoid':
      // Split by sign so that exp never overflows.
      if (v >= 0) return 1 / (1 + Math.exp(-v));
      else {
        const e = Math.exp(v);
        return e / (1 + e);
      }
    case 'elu':
      return v > 0 ? v : (param ?? 1) * Math.expm1(v);
    case 'softplus':
      return Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
  }
}

/**
 * Derivative at v. At ReLU/LeakyReLU kinks the right or left derivative is returned (one element
 * of the Clarke subdifferential), which is what autodiff frameworks do too.
 */
export function activationDerivative(fn: ActivationFn, param: number | undefined, v: number): number {
  switch (fn) {
    case 'relu':
      return v > 0 ? 1 : 0;
    case 'leaky_relu':
      return v >= 0 ? 1 : param ?? 0.01;
    case 'tanh': {
      const t = Math.tanh(v);
      return 1 - t * t;
    }
    case 'sigmoid': {
      const s = activationValue('sigmoid', undefined, v);
      return s * (1 - s);
    }
    case 'elu':
      return v > 0 ? 1 : (param ?? 1) * Math.exp(v);
    case 'softplus':
      return activationValue('sigmoid', undefined, v);
  }
}

/**
 * Slope interval [α, β] with α ≤ (φ(a) − φ(b))/(a − b) ≤ β. For a piecewise-C¹ continuous φ the
 * difference quotients lie in the closed convex hull of the derivative's range (mean value theorem
 * on each piece), so these are the ranges of φ′:
 * ReLU {0,1}; LeakyReLU(a) {a,1}; tanh (0,1]; sigmoid (0,1/4]; softplus (0,1);
 * ELU(a): 1 for x>0 and a·eˣ ∈ (0,a] (or [a,0) for a<0) for x≤0, so [min(0,a), max(1,a)].
 */
export function activationSlope(fn: ActivationFn, param?: number): SlopeBounds {
  switch (fn) {
    case 'relu':
      return { alpha: 0, beta: 1 };
    case 'leaky_relu': {
      const a = param ?? 0.01;
      return { alpha: Math.min(a, 1), beta: Math.max(a, 1) };
    }
    case 'tanh':
      return { alpha: 0, beta: 1 };
    case 'sigmoid':
      return { alpha: 0, beta: 0.25 };
    case 'elu': {
      const a = param ?? 1;
      return { alpha: Math.min(0, a), beta: Math.max(1, a) };
    }
    case 'softplus':
      return { alpha: 0, beta: 1 };
  }
}
