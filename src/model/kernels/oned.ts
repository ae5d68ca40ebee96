/**
 * 1-D signal layers on [C, T] values (channel-major, index c·T + t): conv1d (PyTorch
 * cross-correlation) and LTI state-space layers, each as affine forward map, linear part, and the
 * exact adjoint of the linear part (for vector-Jacobian products).
 */
import type { Conv1dLayer, SsmLayer } from '../ir.js';
import type { SignalShape } from '../shapes.js';
import { windowOut } from '../shapes.js';

function conv1dOutLength(l: Conv1dLayer, s: SignalShape): number {
  return windowOut(s[1], l.pads[0], l.pads[1], l.l, l.stride, l.dilation);
}

/** Visit every (output index, input index, kernel index) triple; shared by map and adjoint. */
function forEachTap1d(l: Conv1dLayer, s: SignalShape, visit: (oi: number, ii: number, ki: number) => void): void {
  const T = s[1];
  const To = conv1dOutLength(l, s);
  for (let o = 0; o < l.cout; o++)
    for (let c = 0; c < l.cin; c++)
      for (let a = 0; a < l.l; a++) {
        const ki = (o * l.cin + c) * l.l + a;
        for (let p = 0; p < To; p++) {
          const k = p * l.stride - l.pads[0] + a * l.dilation;
          if (k < 0 || k >= T) continue;
          visit(o * To + p, c * T + k, ki);
        }
      }
}

export function conv1dLinear(l: Conv1dLayer, s: SignalShape, x: Float64Array): Float64Array {
  const y = new Float64Array(l.cout * conv1dOutLength(l, s));
  forEachTap1d(l, s, (oi, ii, ki) => {
    y[oi] += l.kernel[ki]! * x[ii]!;
  });
  return y;
}

export function conv1dForward(l: Conv1dLayer, s: SignalShape, x: Float64Array): Float64Array {
  const y = conv1dLinear(l, s, x);
  const To = y.length / l.cout;
  for (let o = 0; o < l.cout; o++) for (let p = 0; p < To; p++) y[o * To + p] += l.bias[o] ?? 0;
  return y;
}

export function conv1dAdjoint(l: Conv1dLayer, s: SignalShape, g: Float64Array): Float64Array {
  const x = new Float64Array(s[0] * s[1]);
  forEachTap1d(l, s, (oi, ii, ki) => {
    x[ii] += l.kernel[ki]! * g[oi]!;
  });
  return x;
}

/** y = M·v for a row-major Matrix (or Mᵀ·v with `trans`), accumulated into out. */
function mv(M: SsmLayer['A'], v: Float64Array, out: Float64Array, trans = false): void {
  const { rows, cols, data } = M;
  if (!trans) {
    for (let i = 0; i < rows; i++) {
      let acc = 0;
      for (let j = 0; j < cols; j++) acc += data[i * cols + j]! * v[j]!;
      out[i] += acc;
    }
  } else {
    for (let i = 0; i < rows; i++) {
      const vi = v[i]!;
      if (vi === 0) continue;
      for (let j = 0; j < cols; j++) out[j] += data[i * cols + j]! * vi;
    }
  }
}

/** Linear part: zero initial state, no bias. */
export function ssmLinear(l: SsmLayer, s: SignalShape, x: Float64Array): Float64Array {
  const [cin, T] = s;
  const nx = l.A.rows;
  const p = l.C.rows;
  const y = new Float64Array(p * T);
  let st = new Float64Array(nx);
  let next = new Float64Array(nx);
  const u = new Float64Array(cin);
  const yt = new Float64Array(p);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < cin; c++) u[c] = x[c * T + t]!;
    yt.fill(0);
    mv(l.C, st, yt);
    mv(l.D, u, yt);
    for (let o = 0; o < p; o++) y[o * T + t] = yt[o]!;
    next.fill(0);
    mv(l.A, st, next);
    mv(l.B, u, next);
    [st, next] = [next, st];
  }
  return y;
}

export function ssmForward(l: SsmLayer, s: SignalShape, x: Float64Array): Float64Array {
  const y = ssmLinear(l, s, x);
  const T = s[1];
  for (let o = 0; o < l.C.rows; o++) for (let t = 0; t < T; t++) y[o * T + t] += l.bias[o] ?? 0;
  return y;
}

/**
 * Adjoint of the linear part: the anti-causal system run backwards in time,
 *   v(t) = Dᵀ g(t) + Bᵀ z(t),   z(t−1) = Aᵀ z(t) + Cᵀ g(t),   z(T−1) = 0,
 * which is the transpose of y(t) = D u(t) + Σ_{k<t} C A^{t−1−k} B u(k).
 */
export function ssmAdjoint(l: SsmLayer, s: SignalShape, g: Float64Array): Float64Array {
  const [cin, T] = s;
  const nx = l.A.rows;
  const p = l.C.rows;
  const v = new Float64Array(cin * T);
  let z = new Float64Array(nx);
  let zPrev = new Float64Array(nx);
  const gt = new Float64Array(p);
  const vt = new Float64Array(cin);
  for (let t = T - 1; t >= 0; t--) {
    for (let o = 0; o < p; o++) gt[o] = g[o * T + t]!;
    vt.fill(0);
    mv(l.D, gt, vt, true);
    mv(l.B, z, vt, true);
    for (let c = 0; c < cin; c++) v[c * T + t] = vt[c]!;
    zPrev.fill(0);
    mv(l.A, z, zPrev, true);
    mv(l.C, gt, zPrev, true);
    [z, zPrev] = [zPrev, z];
  }
  return v;
}
