/**
 * Lowering of a 1-D signal network (conv1d / ssm / per-step dense / activations) to the stage list
 * the 1-D LMIs work on (docs/method.md §3.5): each stage is one LTI system
 *   x(t+1) = A x(t) + B u(t),  v(t) = C x(t) + D u(t)
 * followed by an elementwise activation (all stages but the last) or by nothing (the last stage:
 * the network output). u(t) stacks `stride` consecutive input samples, sample-major and
 * channel-minor (u[bb·cin + c]), so the incoming weight is Q̃ = I_stride ⊗ Q_in.
 *
 * Consecutive linear layers without an activation in between are composed in series (exact), as
 * long as the second one has stride 1; an activation with no linear layer before it gets an
 * identity stage. Layers that mix time steps (flatten + dense, global pooling) are rejected: their
 * ℓ2 gain depends on the sequence length (e.g. the mean over T samples has gain 1/√T, the sum √T),
 * so no length-independent certificate exists for them.
 */
import { LipdpError } from '../../model/errors.js';
import type { Layer, Matrix, Network, SlopeBounds } from '../../model/ir.js';
import { networkShapes } from '../../model/shapes.js';
import { type Conv1dSsm, type LtiSsm, ssmDims, ssmOfConv1d } from '../../realize/oned.js';
import type { Stage, StagePlan } from '../stage/stages.js';
import { identity, matmul, matrix, transpose } from '../../linalg/dense.js';

export interface OneDStage {
  readonly sys: LtiSsm;
  /** Samples consumed per step. */
  readonly stride: number;
  /** Channels of one input sample (B.cols = stride·cin). */
  readonly cin: number;
  readonly cout: number;
  /** Activation after the stage; absent on the last stage only. */
  readonly slope?: SlopeBounds;
  /** Layer names that went into this stage, for messages. */
  readonly name: string;
}

/** Place `m` into `out` at (r0, c0). */
function put(out: { cols: number; data: Float64Array }, m: Matrix, r0: number, c0: number): void {
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) out.data[(r0 + i) * out.cols + c0 + j] = m.data[i * m.cols + j]!;
}

/** u → s1 → s2 (s2 reads one output sample of s1 per step). */
export function seriesSsm(s1: LtiSsm, s2: LtiSsm): LtiSsm {
  const d1 = ssmDims(s1);
  const d2 = ssmDims(s2);
  if (d2.nu !== d1.ny) throw new Error(`seriesSsm: ${d1.ny} outputs feed ${d2.nu} inputs`);
  const nx = d1.nx + d2.nx;
  const A = matrix(nx, nx);
  put(A, s1.A, 0, 0);
  put(A, matmul(s2.B, s1.C), d1.nx, 0);
  put(A, s2.A, d1.nx, d1.nx);
  const B = matrix(nx, d1.nu);
  put(B, s1.B, 0, 0);
  put(B, matmul(s2.B, s1.D), d1.nx, 0);
  const C = matrix(d2.ny, nx);
  put(C, matmul(s2.D, s1.C), 0, 0);
  put(C, s2.C, 0, d1.nx);
  return { A, B, C, D: matmul(s2.D, s1.D) };
}

function identitySsm(c: number): LtiSsm {
  const D = matrix(c, c);
  for (let i = 0; i < c; i++) D.data[i * c + i] = 1;
  return { A: matrix(0, 0), B: matrix(0, c), C: matrix(c, 0), D };
}

/** The conv1d realization with fewer states (both realize the same map; the LMI is similarity-invariant). */
export function realizeConv1d(l: Extract<Layer, { kind: 'conv1d' }>): Conv1dSsm {
  const a = ssmOfConv1d(l.kernel, l.cout, l.cin, l.l, l.stride, l.dilation, 'input');
  const b = ssmOfConv1d(l.kernel, l.cout, l.cin, l.l, l.stride, l.dilation, 'output');
  return b.A.rows < a.A.rows ? b : a;
}

export function lowerOneD(net: Network): OneDStage[] {
  if (!net.signal) throw new LipdpError('UNSUPPORTED_STRUCTURE', `'${net.source}' is not a 1-D signal network (input [C, T] read by conv1d/ssm layers)`);
  const shapes = networkShapes(net);
  const stages: OneDStage[] = [];
  let pending: { sys: LtiSsm; stride: number; cin: number; cout: number; names: string[] } | null = null;
  net.layers.forEach((layer, k) => {
    const c = shapes[k]![0]!;
    switch (layer.kind) {
      case 'conv1d':
      case 'ssm': {
        const sys = layer.kind === 'conv1d' ? realizeConv1d(layer) : { A: layer.A, B: layer.B, C: layer.C, D: layer.D };
        const stride = layer.kind === 'conv1d' ? layer.stride : 1;
        const cout = layer.kind === 'conv1d' ? layer.cout : layer.C.rows;
        if (!pending) pending = { sys, stride, cin: c, cout, names: [layer.name] };
        else {
          if (stride !== 1) {
            throw new LipdpError(
              'UNSUPPORTED_STRUCTURE',
              `layer '${layer.name}': a strided conv1d directly after another linear layer (no activation between) is not supported`,
            );
          }
          pending = { ...pending, sys: seriesSsm(pending.sys, sys), cout, names: [...pending.names, layer.name] };
        }
        return;
      }
      case 'activation': {
        const p = pending ?? { sys: identitySsm(c), stride: 1, cin: c, cout: c, names: ['identity'] };
        stages.push({ sys: p.sys, stride: p.stride, cin: p.cin, cout: p.cout, slope: layer.slope, name: [...p.names, layer.name].join('+') });
        pending = null;
        return;
      }
      default:
        throw new LipdpError(
          'UNSUPPORTED_STRUCTURE',
          `layer '${layer.name}' (${layer.kind}) in a 1-D signal network: only conv1d, ssm, per-time-step dense (kernel-1 conv1d) ` +
            `and elementwise activations have a length-independent ℓ2 certificate (layers that mix time steps have a gain that grows or shrinks with T)`,
        );
    }
  });
  const c = shapes[shapes.length - 1]![0]!;
  const p = pending ?? { sys: identitySsm(c), stride: 1, cin: c, cout: c, names: ['identity'] };
  stages.push({ sys: p.sys, stride: p.stride, cin: p.cin, cout: p.cout, name: p.names.join('+') });
  return stages;
}

/**
 * The stages as the solver core's stage chain (lmi/stage/stages.ts): z = [u; x] with the
 * state-space system as a Roesser system with horizontal state only (its 2-D dissipation is
 * then the 1-D one, P − [A B]ᵀP[A B]), u = `stride` samples of `cin` channels (pixel-major, so
 * Q̃ = I_stride ⊗ Q_in) and the output v = D u + C x.
 */
export function oneDStagePlan(stages: readonly OneDStage[]): StagePlan {
  return {
    outerGain: 1,
    stages: stages.map((st, k): Stage => {
      const nx = st.sys.A.rows;
      const nin = st.sys.B.cols;
      const nz = nin + nx;
      const G = { rows: st.cout, cols: nz, data: new Float64Array(st.cout * nz) };
      for (let i = 0; i < st.cout; i++) {
        for (let j = 0; j < nin; j++) G.data[i * nz + j] = st.sys.D.data[i * nin + j]!;
        for (let j = 0; j < nx; j++) G.data[i * nz + nin + j] = st.sys.C.data[i * nx + j]!;
      }
      const last = k === stages.length - 1;
      const slope = st.slope;
      return {
        kind: 'conv',
        name: st.name,
        nz,
        qin: { c: st.cin, rep: st.stride, order: 'pixel-major' },
        systems: nx > 0 ? [{ name: st.name, nx1: 0, nx2: nx, A: st.sys.A, B: st.sys.B, xOff: nin, inOff: 0, nin }] : [],
        internal: [],
        out: { G, a: last || !slope ? 0 : slope.alpha * slope.beta, c: last || !slope ? 0 : slope.alpha + slope.beta },
        last,
        pool: { mu: 1, diag: false },
        // The bound holds for any sequence length: one time step stands for it.
        outShape: [st.cout, 1],
      };
    }),
  };
}

/**
 * Is A (nx × nx) Schur stable (spectral radius < 1)? An unstable LTI layer has unbounded ℓ2
 * gain over unbounded sequences, so no certificate exists. Test: the Stein sum
 * X = Σ_k (Aᵏ)ᵀAᵏ, summed by squaring (X ← X + (A^{2^j})ᵀ X A^{2^j}), stays bounded.
 */
export function schurStable(A: Matrix): boolean {
  const n = A.rows;
  if (n === 0) return true;
  let X = identity(n);
  let Ak = A;
  for (let it = 0; it < 60; it++) {
    if (maxAbs(Ak.data) < 1e-18) return true;
    const add = matmul(transpose(Ak), matmul(X, Ak)).data;
    X = matrix(n, n, X.data.map((v, i) => v + add[i]!));
    Ak = matmul(Ak, Ak);
    if (!(maxAbs(X.data) <= 1e15)) return false;
  }
  return false;
}

function maxAbs(v: Float64Array): number {
  let m = 0;
  for (const x of v) m = Math.max(m, Math.abs(x));
  return m;
}
