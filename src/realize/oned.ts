/**
 * 1-D specialisation (docs/method.md §3.5): a 1-D conv as an ordinary (1-D) LTI state-space
 * system, and a generic LTI SSM type with its simulator. The conv LMI then uses one full P.
 *
 * Conv: kernel K (cout × cin × l, flat index (o·cin + c)·l + a), stride s, dilation d. As in 2-D,
 * expand the kernel (zero-insert for d, end-pad to s; kernel.ts) to extent L = max(d(l−1)+1, s),
 * and let m = L − s. Time step t consumes a block of s samples,
 *   u(t) ∈ R^{cin·s},  u[bb·cin + c] = x(c, t·s + bb)      (sample-major, channel-minor),
 * and emits one output sample y(t) ∈ R^{cout}, with zero initial state:
 *
 *   y(t) = Σ_{a<L} Ke(a) · x(t·s + s − L + a)        (window ends at the block's last sample)
 *
 * which is the 2-D bottom-right-anchor rule restricted to one axis; delay.ts' per-axis map
 * (axisDelay) applies verbatim: PyTorch out(o) = y(o + δ) with input offset e.
 *
 * Two realizations of the same map (a similarity-invariant LMI gives the same bound with either;
 * they differ in state count, so pick the smaller for cost):
 *  - 'input'  (x2-like, as in docs/method.md §3.2.1): state = the last m input samples, oldest first,
 *    channel-minor, nx = cin·m. A shifts by s samples, B appends the block, C/D hold the first m /
 *    last s taps.
 *  - 'output' (x1-like): state = a queue of n = ceil(m/s) pending partial output sums, nx = cout·n.
 *    The m upper taps, with r = n·s − m zero taps prepended, split into n chunks of s; chunk q
 *    (q = 0 oldest taps) meets block t − (n − q), enters slot q, the queue shifts one slot per
 *    step and C reads slot n − 1.
 */
import type { Matrix } from '../model/ir.js';
import { matVecAcc, zeros } from './mat.js';
import { checkPositiveInt, expandKernel1d } from './kernel.js';
import { convOutputLength } from './simulate.js';

/** x⁺ = A x + B u, y = C x + D u. A: nx×nx, B: nx×nu, C: ny×nx, D: ny×nu. */
export interface LtiSsm {
  readonly A: Matrix;
  readonly B: Matrix;
  readonly C: Matrix;
  readonly D: Matrix;
}

export function ssmDims(sys: LtiSsm): { nx: number; nu: number; ny: number } {
  const nx = sys.A.rows;
  const nu = sys.B.cols;
  const ny = sys.C.rows;
  if (sys.A.cols !== nx || sys.B.rows !== nx || sys.C.cols !== nx || sys.D.rows !== ny || sys.D.cols !== nu) {
    throw new Error(
      `inconsistent SSM shapes: A ${sys.A.rows}×${sys.A.cols}, B ${sys.B.rows}×${sys.B.cols}, ` +
        `C ${sys.C.rows}×${sys.C.cols}, D ${sys.D.rows}×${sys.D.cols}`,
    );
  }
  return { nx, nu, ny };
}

/**
 * Simulate from x(0) = 0. `u` is time-major (T × nu: u[t·nu + k]); returns y time-major (T × ny).
 */
export function simulateLti(sys: LtiSsm, u: Float64Array, T: number): Float64Array {
  const { nx, nu, ny } = ssmDims(sys);
  if (u.length !== T * nu) throw new Error(`input has ${u.length} entries, expected T·nu = ${T * nu}`);
  let x = new Float64Array(nx);
  let xn = new Float64Array(nx);
  const y = new Float64Array(T * ny);
  for (let t = 0; t < T; t++) {
    matVecAcc(sys.C, x, 0, y, t * ny);
    matVecAcc(sys.D, u, t * nu, y, t * ny);
    xn.fill(0);
    matVecAcc(sys.A, x, 0, xn, 0);
    matVecAcc(sys.B, u, t * nu, xn, 0);
    [x, xn] = [xn, x];
  }
  return y;
}

/** A 1-D conv realization plus the metadata needed to feed it. */
export interface Conv1dSsm extends LtiSsm {
  readonly cin: number;
  readonly cout: number;
  readonly stride: number;
  /** Realized kernel extent L. */
  readonly extent: number;
  readonly form: 'input' | 'output';
}

export function ssmOfConv1d(
  kernel: Float64Array,
  cout: number,
  cin: number,
  l: number,
  stride: number,
  dilation = 1,
  form: 'input' | 'output' = 'input',
): Conv1dSsm {
  checkPositiveInt('stride', stride);
  const s = stride;
  const ek = expandKernel1d(kernel, cout, cin, l, dilation, s);
  const L = ek.l;
  const tap = (o: number, c: number, a: number): number => ek.kernel[(o * cin + c) * L + a]!;
  const m = L - s;
  const nu = cin * s;
  const iu = (bb: number, c: number): number => bb * cin + c;
  const put = (M: Matrix, i: number, j: number, v: number): void => {
    M.data[i * M.cols + j] = v;
  };

  const D = zeros(cout, nu);
  for (let o = 0; o < cout; o++)
    for (let c = 0; c < cin; c++) for (let bb = 0; bb < s; bb++) put(D, o, iu(bb, c), tap(o, c, m + bb));

  let A: Matrix, B: Matrix, C: Matrix;
  if (form === 'input') {
    const nx = cin * m;
    const ix = (b: number, c: number): number => b * cin + c;
    A = zeros(nx, nx);
    B = zeros(nx, nu);
    C = zeros(cout, nx);
    for (let b = 0; b < m; b++) {
      const src = b + s; // position in [old m samples ; s new samples]
      for (let c = 0; c < cin; c++) {
        if (src < m) put(A, ix(b, c), ix(src, c), 1);
        else put(B, ix(b, c), iu(src - m, c), 1);
      }
    }
    for (let o = 0; o < cout; o++) for (let c = 0; c < cin; c++) for (let b = 0; b < m; b++) put(C, o, ix(b, c), tap(o, c, b));
  } else {
    const n = Math.ceil(m / s);
    const r = n * s - m;
    const nx = cout * n;
    const ix = (q: number, o: number): number => q * cout + o;
    A = zeros(nx, nx);
    B = zeros(nx, nu);
    C = zeros(cout, nx);
    for (let q = 1; q < n; q++) for (let o = 0; o < cout; o++) put(A, ix(q, o), ix(q - 1, o), 1);
    if (n > 0) for (let o = 0; o < cout; o++) put(C, o, ix(n - 1, o), 1);
    for (let p = r; p < n * s; p++) {
      const q = Math.floor(p / s);
      const bb = p % s;
      for (let o = 0; o < cout; o++) for (let c = 0; c < cin; c++) put(B, ix(q, o), iu(bb, c), tap(o, c, p - r));
    }
  }
  return { A, B, C, D, cin, cout, stride: s, extent: L, form };
}

/**
 * Run a 1-D conv realization over a CL input (cin × N, index c·N + t), zero-extended to `steps`
 * blocks (default ceil(N/s)). Returns cout × steps (index o·steps + t).
 */
export function simulateConv1dSsm(
  sys: Conv1dSsm,
  input: Float64Array,
  N: number,
  steps = Math.ceil(N / sys.stride),
): Float64Array {
  const { cin, cout, stride: s } = sys;
  if (input.length !== cin * N) throw new Error(`input has ${input.length} entries, expected ${cin}·${N}`);
  const nu = cin * s;
  const u = new Float64Array(steps * nu);
  for (let t = 0; t < steps; t++) {
    for (let bb = 0; bb < s; bb++) {
      const k = t * s + bb;
      if (k >= N) continue;
      for (let c = 0; c < cin; c++) u[t * nu + bb * cin + c] = input[c * N + k]!;
    }
  }
  const yt = simulateLti(sys, u, steps);
  const out = new Float64Array(cout * steps);
  for (let t = 0; t < steps; t++) for (let o = 0; o < cout; o++) out[o * steps + t] = yt[t * cout + o]!;
  return out;
}

/**
 * Direct 1-D conv, PyTorch semantics: out(o, p) = bias(o) + Σ_{c,a} K(o,c,a) x(c, p·s − left + d·a).
 * Returns cout × outLength.
 */
export function conv1dDirect(
  kernel: Float64Array,
  cout: number,
  cin: number,
  l: number,
  input: Float64Array,
  N: number,
  stride: number,
  pads: readonly [number, number] = [0, 0],
  dilation = 1,
  bias?: Float64Array,
): { readonly data: Float64Array; readonly length: number } {
  if (kernel.length !== cout * cin * l) throw new Error('conv1dDirect: kernel size mismatch');
  if (input.length !== cin * N) throw new Error('conv1dDirect: input size mismatch');
  const No = convOutputLength(N, l, pads[0], pads[1], stride, dilation);
  if (No <= 0) throw new Error(`conv1dDirect: empty output (${No})`);
  const out = new Float64Array(cout * No);
  for (let o = 0; o < cout; o++) {
    for (let p = 0; p < No; p++) {
      let acc = bias ? bias[o]! : 0;
      for (let c = 0; c < cin; c++) {
        for (let a = 0; a < l; a++) {
          const k = p * stride - pads[0] + dilation * a;
          if (k >= 0 && k < N) acc += kernel[(o * cin + c) * l + a]! * input[c * N + k]!;
        }
      }
      out[o * No + p] = acc;
    }
  }
  return { data: out, length: No };
}
