/**
 * The evaluator behind the lower-bound search (search.ts): one forward pass that carries a tangent
 * and keeps every layer's input, then one reverse pass that carries several cotangents at once.
 * The reverse pass exposes each activation layer's pre-activation, input tangent and output
 * cotangents to a hook, which is how the search forms the gradient of uᵀJ(x)v with respect to
 * the activation pattern (search.ts explains the formula).
 *
 * Layers are evaluated with the model kernels (src/model/forward.ts) except 2-D convolution: the
 * reference kernel visits every tap through a closure; the loops below are the same sums in the
 * same order with the bounds tests hoisted, 1.5–2.5× faster on the CIFAR-10 convolutions, and the
 * search spends nearly all of its time in them. test/bounds/lower.test.ts checks them against the
 * reference kernels.
 *
 * Values are in the layers' layout (CHW); the caller maps graph-layout inputs through the
 * network's input permutation, an isometry that leaves every norm unchanged.
 */
import type { ActivationLayer, Conv2dLayer, Layer, Network } from '../model/ir.js';
import { layerForward, layerJvp, layerVjp } from '../model/forward.js';
import { convOutShape } from '../model/kernels/conv.js';
import { activationDerivative } from '../model/kernels/activation.js';
import { type MapShape, type ValueShape, chainShapes, layerInputShape, sizeOf } from '../model/shapes.js';

/** Per-layer record of one forward pass: the layer's input value and tangent (residual: both chains). */
interface LayerRecord {
  readonly x: Float64Array;
  readonly t: Float64Array | null;
  readonly branch?: ChainRecord;
  readonly shortcut?: ChainRecord;
}

interface ChainRecord {
  readonly shapes: readonly ValueShape[];
  readonly layers: readonly LayerRecord[];
}

/** Everything the reverse pass needs: the records and the output (value, tangent). */
export interface Trace {
  readonly chain: ChainRecord;
  readonly y: Float64Array;
  readonly ty: Float64Array | null;
  readonly soft: number;
}

/**
 * Called at every activation layer during the reverse pass, after the cotangents have been taken
 * through the activation: `gPost` are the cotangents at its output, `gPre` at its input (the hook
 * may add to them), `z` the pre-activation and `tz` its tangent.
 */
export type ActivationHook = (layer: ActivationLayer, z: Float64Array, tz: Float64Array | null, gPost: readonly Float64Array[], gPre: Float64Array[]) => void;

/** Whether the evaluator handles every layer of the network (1-D signal layers are not for it). */
export function supportsNetwork(net: Network): boolean {
  const ok = (layers: readonly Layer[]): boolean =>
    layers.every((l) => (l.kind === 'residual' ? ok(l.branch) && ok(l.shortcut) : l.kind !== 'conv1d' && l.kind !== 'ssm'));
  return !net.signal && ok(net.layers);
}

/**
 * Multiply-adds of one forward pass (weights touched, plus one per element for the other layers):
 * the unit in which the search's default budget is scaled to the network (search.ts).
 */
export function forwardCost(net: Network): number {
  const chain = (layers: readonly Layer[], s: ValueShape): number => {
    const shapes = chainShapes(layers, s);
    let c = 0;
    layers.forEach((l, k) => {
      const sk = shapes[k]!;
      if (l.kind === 'residual') c += chain(l.branch, sk) + chain(l.shortcut, sk);
      else if (l.kind === 'conv2d') {
        const [co, ho, wo] = convOutShape(l, sk as MapShape);
        c += co * ho * wo * l.cin * l.kh * l.kw;
      } else if (l.kind === 'dense') c += l.W.rows * l.W.cols;
      else c += sizeOf(sk);
    });
    return c;
  };
  return chain(net.layers, layerInputShape(net));
}

export class NetEvaluator {
  readonly inputSize: number;
  readonly outputSize: number;
  private readonly inShape: ValueShape;

  constructor(readonly net: Network) {
    this.inShape = layerInputShape(net);
    this.inputSize = sizeOf(this.inShape);
    this.outputSize = net.outputSize;
  }

  /**
   * f(x) and, when t is given, J(x)t; x and t in the layers' layout. With `soft` = κ > 0 the
   * tangent (and the reverse pass of this trace) use the smoothed derivative of softDerivative()
   * for ReLU-type activations: the Jacobian of a smoothed surrogate, for the search's ascent.
   */
  forward(x: Float64Array, t: Float64Array | null, soft = 0): Trace {
    const r = forwardChain(this.net.layers, this.inShape, x, t, soft);
    return { chain: r.rec, y: r.y, ty: r.t, soft };
  }

  /** J(x)ᵀg for every g (one reverse pass for all), with an optional activation hook. */
  backward(trace: Trace, gs: readonly Float64Array[], hook?: ActivationHook): Float64Array[] {
    return backwardChain(this.net.layers, trace.chain, gs.map((g) => Float64Array.from(g)), trace.soft, hook);
  }

  /** The rows of J(x) (one per output), from a single forward pass. */
  jacobianRows(x: Float64Array): Float64Array[] {
    const tr = this.forward(x, null);
    const m = this.outputSize;
    const basis = Array.from({ length: m }, (_, k) => {
      const e = new Float64Array(m);
      e[k] = 1;
      return e;
    });
    return this.backward(tr, basis);
  }
}

/**
 * φ′ at every entry of z; for ReLU / LeakyReLU with κ > 0 the step is replaced by a logistic ramp
 * of width τ = κ · RMS(z) (per layer, so that it does not depend on the layer's scale).
 */
export function softDerivative(l: ActivationLayer, z: Float64Array, kappa: number): Float64Array {
  const d = new Float64Array(z.length);
  if (kappa > 0 && (l.fn === 'relu' || l.fn === 'leaky_relu')) {
    const lo = l.fn === 'relu' ? 0 : l.param ?? 0.01;
    const tau = kappa * rms(z);
    for (let i = 0; i < z.length; i++) d[i] = lo + (1 - lo) / (1 + Math.exp(-z[i]! / tau));
    return d;
  }
  for (let i = 0; i < z.length; i++) d[i] = activationDerivative(l.fn, l.param, z[i]!);
  return d;
}

export function rms(z: Float64Array): number {
  let ss = 0;
  for (let i = 0; i < z.length; i++) ss += z[i]! * z[i]!;
  return Math.sqrt(ss / Math.max(1, z.length)) || 1;
}

function forwardChain(
  layers: readonly Layer[],
  s: ValueShape,
  x: Float64Array,
  t: Float64Array | null,
  soft: number,
): { rec: ChainRecord; y: Float64Array; t: Float64Array | null } {
  const shapes = chainShapes(layers, s);
  const recs: LayerRecord[] = [];
  let cx = x;
  let ct = t;
  layers.forEach((l, k) => {
    const sk = shapes[k]!;
    if (l.kind === 'residual') {
      const b = forwardChain(l.branch, sk, cx, ct, soft);
      const c = forwardChain(l.shortcut, sk, cx, ct, soft);
      recs.push({ x: cx, t: ct, branch: b.rec, shortcut: c.rec });
      const y = Float64Array.from(b.y);
      for (let i = 0; i < y.length; i++) y[i] += c.y[i]!;
      let ty: Float64Array | null = null;
      if (ct) {
        ty = Float64Array.from(b.t!);
        for (let i = 0; i < ty.length; i++) ty[i] += c.t![i]!;
      }
      cx = y;
      ct = ty;
      return;
    }
    recs.push({ x: cx, t: ct });
    if (l.kind === 'conv2d') {
      const y = convLinearFast(l, sk as MapShape, cx);
      const hw = y.length / l.cout;
      for (let o = 0; o < l.cout; o++) {
        const b = l.bias[o] ?? 0;
        for (let p = 0; p < hw; p++) y[o * hw + p] += b;
      }
      ct = ct ? convLinearFast(l, sk as MapShape, ct) : null;
      cx = y;
    } else if (l.kind === 'activation' && soft > 0 && ct) {
      const d = softDerivative(l, cx, soft);
      const tin = ct;
      ct = Float64Array.from(d, (di, i) => di * tin[i]!);
      cx = layerForward(l, sk, cx);
    } else {
      const y = layerForward(l, sk, cx);
      ct = ct ? layerJvp(l, sk, cx, ct) : null;
      cx = y;
    }
  });
  return { rec: { shapes, layers: recs }, y: layers.length ? cx : x.slice(), t: layers.length ? ct : t ? t.slice() : null };
}

function backwardChain(layers: readonly Layer[], rec: ChainRecord, gs: Float64Array[], soft: number, hook?: ActivationHook): Float64Array[] {
  let cur = gs;
  for (let k = layers.length - 1; k >= 0; k--) {
    const l = layers[k]!;
    const r = rec.layers[k]!;
    const sk = rec.shapes[k]!;
    if (l.kind === 'residual') {
      const a = backwardChain(l.branch, r.branch!, cur.map((g) => Float64Array.from(g)), soft, hook);
      const b = backwardChain(l.shortcut, r.shortcut!, cur.map((g) => Float64Array.from(g)), soft, hook);
      cur = a.map((ga, j) => {
        const gb = b[j]!;
        for (let i = 0; i < ga.length; i++) ga[i] += gb[i]!;
        return ga;
      });
    } else if (l.kind === 'conv2d') {
      cur = cur.map((g) => convAdjointFast(l, sk as MapShape, g));
    } else if (l.kind === 'activation') {
      const d = softDerivative(l, r.x, soft);
      const pre = cur.map((g) => {
        const out = new Float64Array(g.length);
        for (let i = 0; i < g.length; i++) out[i] = d[i]! * g[i]!;
        return out;
      });
      hook?.(l, r.x, r.t, cur, pre);
      cur = pre;
    } else {
      cur = cur.map((g) => layerVjp(l, sk, r.x, g));
    }
  }
  return cur;
}

/**
 * Range of output columns x with 0 ≤ x·stride + off < size, as [lo, hi) — so that the inner
 * loops below need no bounds test.
 */
function validRange(n: number, stride: number, off: number, size: number): [number, number] {
  const lo = Math.max(0, Math.ceil(-off / stride));
  const hi = Math.min(n, Math.floor((size - 1 - off) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}

/** Linear part of a 2-D convolution (the sums of src/model/kernels/conv.ts, loops hoisted). */
export function convLinearFast(l: Conv2dLayer, s: MapShape, x: Float64Array): Float64Array {
  const [, H, W] = s;
  const [, Ho, Wo] = convOutShape(l, s);
  const y = new Float64Array(l.cout * Ho * Wo);
  const coutPerG = l.cout / l.groups;
  const [sh, sw] = l.stride;
  const [dh, dw] = l.dilation;
  const [pt, pl] = l.pads;
  const K = l.kernel;
  for (let o = 0; o < l.cout; o++) {
    const g = Math.floor(o / coutPerG);
    for (let i = 0; i < l.cin; i++) {
      const ci = g * l.cin + i;
      for (let a = 0; a < l.kh; a++) {
        const [y0, y1] = validRange(Ho, sh, a * dh - pt, H);
        for (let b = 0; b < l.kw; b++) {
          const w = K[((o * l.cin + i) * l.kh + a) * l.kw + b]!;
          if (w === 0) continue;
          const offX = b * dw - pl;
          const [x0, x1] = validRange(Wo, sw, offX, W);
          for (let yy = y0; yy < y1; yy++) {
            const outRow = (o * Ho + yy) * Wo;
            const inRow = (ci * H + yy * sh - pt + a * dh) * W + offX;
            for (let xx = x0; xx < x1; xx++) y[outRow + xx] += w * x[inRow + xx * sw]!;
          }
        }
      }
    }
  }
  return y;
}

/** Adjoint of convLinearFast: output-sized g → input-sized. */
export function convAdjointFast(l: Conv2dLayer, s: MapShape, g: Float64Array): Float64Array {
  const [C, H, W] = s;
  const [, Ho, Wo] = convOutShape(l, s);
  const x = new Float64Array(C * H * W);
  const coutPerG = l.cout / l.groups;
  const [sh, sw] = l.stride;
  const [dh, dw] = l.dilation;
  const [pt, pl] = l.pads;
  const K = l.kernel;
  for (let o = 0; o < l.cout; o++) {
    const grp = Math.floor(o / coutPerG);
    for (let i = 0; i < l.cin; i++) {
      const ci = grp * l.cin + i;
      for (let a = 0; a < l.kh; a++) {
        const [y0, y1] = validRange(Ho, sh, a * dh - pt, H);
        for (let b = 0; b < l.kw; b++) {
          const w = K[((o * l.cin + i) * l.kh + a) * l.kw + b]!;
          if (w === 0) continue;
          const offX = b * dw - pl;
          const [x0, x1] = validRange(Wo, sw, offX, W);
          for (let yy = y0; yy < y1; yy++) {
            const outRow = (o * Ho + yy) * Wo;
            const inRow = (ci * H + yy * sh - pt + a * dh) * W + offX;
            for (let xx = x0; xx < x1; xx++) x[inRow + xx * sw] += w * g[outRow + xx]!;
          }
        }
      }
    }
  }
  return x;
}
