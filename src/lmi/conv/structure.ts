/**
 * Network → analysis stages (stages.ts) for the layer-wise LipSDP of conv / pooling / residual /
 * dense networks (docs/method.md §3–§5).
 *
 * Accepted shapes (after the exact scale/shift folding of simplifyChain):
 *   [scaleshift]* (input gain)  then a sequence of
 *   conv → [maxpool] → activation → [pad | maxpool | avgpool | globalavgpool]*      (conv stage)
 *   residual{branch: conv, act, conv | shortcut: ∅ or conv} → activation → [pools] (residual stage)
 *   [flatten] → dense [→ dense …] → activation → …                                  (dense stage)
 *   and a last linear stage: conv, residual (no activation after it) or dense, optionally followed
 *   by a flatten.
 * Pad layers (and conv padding) never enter the LMIs: a padded map is a zero-extension of the
 * cropped true map, and cropping only lowers Σ ΔwᵀQΔw for Q ⪰ 0 (docs/method.md §3.2.3; the certifier
 * verifies every interface Q ≻ 0). Inside a residual branch a Pad is folded into the next conv's
 * padding, because there it DOES move pixels relative to the skip.
 * Max pooling directly before the activation is swapped behind it: every supported activation is
 * nondecreasing, and max commutes with nondecreasing maps.
 * Anything else → LipdpError('UNSUPPORTED_STRUCTURE') naming the layer.
 */
import type { Conv2dLayer, Layer, Matrix, Network, ResidualLayer } from '../../model/ir.js';
import { LipdpError } from '../../model/errors.js';
import { simplifyChain } from '../../model/simplify.js';
import { type ValueShape, isMap, layerInputShape, layerOutputShape } from '../../model/shapes.js';
import { axisDelay, roesserFull, roesserOfDelay } from '../../realize/index.js';
import { convSystem, squareStride, type ConvSystem } from './conv-system.js';
import { avgPoolGain, maxPoolGain } from './pool-gain.js';
import type { Stage, StagePlan, StageSystem } from './stages.js';

function unsupported(layer: Layer | undefined, why: string): never {
  const where = layer ? `layer '${layer.name}' (${layer.kind})` : 'network';
  throw new LipdpError('UNSUPPORTED_STRUCTURE', `${where}: ${why}`);
}

function zeros(r: number, c: number): Matrix {
  return { rows: r, cols: c, data: new Float64Array(r * c) };
}

/** Write block M into dst (rows r0.., cols c0..). */
function put(dst: Matrix, M: Matrix, r0: number, c0: number): void {
  for (let i = 0; i < M.rows; i++) for (let j = 0; j < M.cols; j++) dst.data[(r0 + i) * dst.cols + c0 + j] += M.data[i * M.cols + j]!;
}

function matMul(A: Matrix, B: Matrix): Matrix {
  const out = zeros(A.rows, B.cols);
  for (let i = 0; i < A.rows; i++)
    for (let k = 0; k < A.cols; k++) {
      const v = A.data[i * A.cols + k]!;
      if (v === 0) continue;
      for (let j = 0; j < B.cols; j++) out.data[i * B.cols + j] += v * B.data[k * B.cols + j]!;
    }
  return out;
}

function slopeOf(layer: Layer): { a: number; c: number } {
  if (layer.kind !== 'activation') unsupported(layer, 'expected an activation');
  const { alpha, beta } = layer.slope;
  return { a: alpha * beta, c: alpha + beta };
}

/** Fold Pad layers into the following conv's padding (used inside residual paths). */
function foldPads(layers: readonly Layer[]): Layer[] {
  const out: Layer[] = [];
  let pend: [number, number, number, number] | null = null;
  for (const l of layers) {
    if (l.kind === 'pad') {
      pend = pend ? [pend[0] + l.pads[0], pend[1] + l.pads[1], pend[2] + l.pads[2], pend[3] + l.pads[3]] : [...l.pads];
      continue;
    }
    if (pend) {
      if (l.kind !== 'conv2d') unsupported(l, 'a Pad inside a residual path must be followed by a conv');
      const p = l.pads;
      out.push({ ...l, pads: [p[0] + pend[0], p[1] + pend[1], p[2] + pend[2], p[3] + pend[3]] });
      pend = null;
    } else out.push(l);
  }
  if (pend) unsupported(layers[layers.length - 1], 'trailing Pad inside a residual path');
  return out;
}

function systemOf(name: string, cs: { A: Matrix; B: Matrix; sys: { nx1: number; nx2: number } }, xOff: number, inOff: number, nin: number): StageSystem {
  return { name, nx1: cs.sys.nx1, nx2: cs.sys.nx2, A: cs.A, B: cs.B, xOff, inOff, nin };
}

export function planStages(net: Network): StagePlan {
  const layers = simplifyChain(net.layers);
  let shape: ValueShape = layerInputShape(net);
  let k = 0;
  let inputGain = 1;
  const stages: Stage[] = [];
  const advance = (): Layer => {
    const l = layers[k++]!;
    shape = layerOutputShape(l, shape);
    return l;
  };
  // Elementwise input scaling that simplify could not fold: ‖diag(s)‖₂ = max |s|.
  while (k < layers.length && (layers[k]!.kind === 'scaleshift' || layers[k]!.kind === 'pad')) {
    const l = advance();
    if (l.kind === 'scaleshift') inputGain *= Math.max(...Array.from(l.scale, Math.abs));
  }
  // Flatten waiting to be absorbed by the next dense layer: c channels × hw pixels, order.
  let flat: { c: number; hw: number; order: 'NCHW' | 'NHWC' } | null = null;

  /** After an activation: pools (and pads) until the next stage starts. */
  const takePools = (): { mu: number; diag: boolean } => {
    let mu = 1;
    let diag = false;
    for (;;) {
      const l = layers[k];
      if (!l) break;
      const s = shape;
      if (l.kind === 'pad') {
        advance();
        continue;
      }
      if (l.kind === 'maxpool') {
        mu *= maxPoolGain(l.kernel, l.stride);
        diag = true;
      } else if (l.kind === 'avgpool') {
        if (!isMap(s)) unsupported(l, 'pooling needs a feature map');
        mu *= avgPoolGain([s[1], s[2]], l.kernel, l.stride, l.pads, l.countIncludePad);
      } else if (l.kind === 'globalavgpool') {
        if (!isMap(s)) unsupported(l, 'pooling needs a feature map');
        mu *= avgPoolGain([s[1], s[2]], [s[1], s[2]], [s[1], s[2]], [0, 0, 0, 0], true);
      } else break;
      advance();
    }
    return { mu, diag };
  };

  /** Does only a flatten (or nothing) follow? Then the current stage is the last, linear one. */
  const atEnd = (): boolean => layers.slice(k).every((l) => l.kind === 'flatten');

  while (k < layers.length) {
    const l = layers[k]!;
    const inShape = shape;
    switch (l.kind) {
      case 'pad':
        advance();
        break;
      case 'flatten': {
        advance();
        if (atEnd()) {
          k = layers.length;
          break;
        }
        const [c, h, w] = l.inShape;
        flat = { c, hw: h * w, order: l.order };
        break;
      }
      case 'conv2d': {
        advance();
        if (!isMap(inShape)) unsupported(l, 'conv needs a feature map');
        const cs = convSystem(l);
        let preMax: { mu: number; diag: boolean } | null = null;
        if (layers[k]?.kind === 'maxpool' && layers[k + 1]?.kind === 'activation') {
          // max pool before a nondecreasing activation: swap them (exact).
          const mp = advance();
          if (mp.kind === 'maxpool') preMax = { mu: maxPoolGain(mp.kernel, mp.stride), diag: true };
        }
        const nu = cs.cin * cs.stride * cs.stride;
        const nx = cs.sys.nx1 + cs.sys.nx2;
        const G = zeros(cs.cout, nu + nx);
        put(G, cs.D, 0, 0);
        put(G, cs.C, 0, nu);
        const base = {
          kind: 'conv' as const,
          name: l.name,
          nz: nu + nx,
          qin: { c: cs.cin, rep: cs.stride * cs.stride, order: 'pixel-major' as const },
          systems: [systemOf(l.name, cs, nu, 0, nu)],
          internal: [],
        };
        if (layers[k]?.kind === 'activation') {
          const act = advance();
          const sl = slopeOf(act);
          const pools = takePools();
          const pool = preMax ? { mu: preMax.mu * pools.mu, diag: true } : pools;
          stages.push({ ...base, out: { G, a: sl.a, c: sl.c }, last: false, pool, outShape: shape });
        } else if (!preMax && atEnd()) {
          stages.push({ ...base, out: { G, a: 0, c: 0 }, last: true, pool: { mu: 1, diag: false }, outShape: shape });
          k = layers.length;
        } else unsupported(layers[k] ?? l, 'a conv must be followed by an activation (or end the network)');
        flat = null;
        break;
      }
      case 'dense': {
        advance();
        let W: Matrix = l.W;
        while (layers[k]?.kind === 'dense') {
          const d = advance();
          if (d.kind === 'dense') W = matMul(d.W, W);
        }
        let qin: Stage['qin'];
        if (flat && flat.hw > 1) {
          // Columns in NCHW order (channel-major): NHWC column p·c + ch moves to ch·hw + p.
          if (flat.order === 'NHWC') {
            const { c, hw } = flat;
            const P = zeros(W.rows, W.cols);
            for (let i = 0; i < W.rows; i++)
              for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) P.data[i * W.cols + ch * hw + p] = W.data[i * W.cols + p * c + ch]!;
            W = P;
          }
          qin = { c: flat.c, rep: flat.hw, order: 'channel-major' };
        } else {
          qin = { c: W.cols, rep: 1, order: 'channel-major' };
          if (flat && flat.c !== W.cols) unsupported(l, 'flatten size mismatch');
        }
        flat = null;
        const base = { kind: 'dense' as const, name: l.name, nz: W.cols, qin, systems: [], internal: [] };
        if (layers[k]?.kind === 'activation') {
          const act = advance();
          const sl = slopeOf(act);
          const pool = takePools();
          if (pool.mu !== 1) unsupported(layers[k - 1], 'pooling after a dense layer');
          stages.push({ ...base, out: { G: W, a: sl.a, c: sl.c }, last: false, pool, outShape: shape });
        } else if (atEnd()) {
          stages.push({ ...base, out: { G: W, a: 0, c: 0 }, last: true, pool: { mu: 1, diag: false }, outShape: shape });
          k = layers.length;
        } else unsupported(layers[k], 'expected an activation after a dense layer');
        break;
      }
      case 'residual': {
        advance();
        if (!isMap(inShape)) unsupported(l, 'residual block needs a feature map');
        const st = residualStage(l, inShape[0]);
        if (layers[k]?.kind === 'activation') {
          const act = advance();
          const sl = slopeOf(act);
          const pool = takePools();
          stages.push({ ...st, out: { G: st.G, a: sl.a, c: sl.c }, last: false, pool, outShape: shape });
        } else if (atEnd()) {
          stages.push({ ...st, out: { G: st.G, a: 0, c: 0 }, last: true, pool: { mu: 1, diag: false }, outShape: shape });
          k = layers.length;
        } else {
          unsupported(layers[k], 'a residual block must be followed by an activation (modelled, docs/method.md §5.3) or end the network');
        }
        flat = null;
        break;
      }
      default:
        unsupported(l, 'not supported at this position (expected conv, dense, residual, flatten or pad)');
    }
  }
  if (stages.length === 0) unsupported(undefined, `'${net.source}' has no linear layer`);
  if (!stages[stages.length - 1]!.last) unsupported(undefined, `'${net.source}' ends with an activation; the last layer must be linear`);
  return { stages, inputGain };
}

type ResidualCore = Omit<Stage, 'out' | 'last' | 'pool' | 'outShape'> & { G: Matrix };

/**
 * Residual block u ↦ v = S(u) + conv2(φ(conv1(u))) as one stage (the res_conv subnetwork form):
 * z = (u, x_a, w1, x_b, x_s), inner QC on w1 = φ(conv1 u), output v = G z. The skip S (identity
 * or a conv) and the branch are realised on the same s×s block grid with the same input
 * embedding; the shorter path is delayed so both reach the addition with the same Roesser delay
 * (docs/method.md §5.2; without this the LMI analyses a different, shifted network).
 */
function residualStage(l: ResidualLayer, cIn: number): ResidualCore {
  const branch = foldPads(l.branch);
  const shortcut = foldPads(l.shortcut);
  if (branch.length !== 3 || branch[0]!.kind !== 'conv2d' || branch[1]!.kind !== 'activation' || branch[2]!.kind !== 'conv2d') {
    unsupported(l, `branch must be conv → activation → conv, got ${branch.map((b) => b.kind).join(' → ')}`);
  }
  const c1 = branch[0] as Conv2dLayer;
  const c2 = branch[2] as Conv2dLayer;
  const inner = slopeOf(branch[1]!);
  if (shortcut.length > 1 || (shortcut.length === 1 && shortcut[0]!.kind !== 'conv2d')) {
    unsupported(l, `shortcut must be the identity or one conv, got ${shortcut.map((b) => b.kind).join(' → ')}`);
  }
  const sc = shortcut[0] as Conv2dLayer | undefined;
  const s = squareStride(c1);
  if (squareStride(c2) !== 1) unsupported(c2, 'the second conv of a residual branch must have stride 1');
  if (sc && squareStride(sc) !== s) unsupported(sc, `shortcut stride ${sc.stride[0]} differs from the branch stride ${s}`);
  if (!sc && s !== 1) unsupported(l, 'identity shortcut with a strided branch');

  // Per axis: a common input embedding offset e, then the delays of both paths.
  const ext: { b: [number, number]; s: [number, number] } = { b: [0, 0], s: [0, 0] };
  for (const ax of [0, 1] as const) {
    const g1 = { l: ax ? c1.kw : c1.kh, p: c1.pads[ax], d: c1.dilation[ax] };
    let found: { d1: number; ds: number } | null = null;
    for (let e = 0; e < s && !found; e++) {
      try {
        const d1 = axisDelay(g1.l, g1.p, s, g1.d, e).delay;
        const ds = sc ? axisDelay(ax ? sc.kw : sc.kh, sc.pads[ax], s, sc.dilation[ax], e).delay : e;
        found = { d1, ds };
      } catch {
        // phase condition fails for this e; try the next one
      }
    }
    if (!found) unsupported(l, 'branch and shortcut read different stride sub-grids of the input');
    if (found.d1 < 0) unsupported(c1, 'padding larger than the kernel reach (negative Roesser delay)');
    const db = axisDelay(ax ? c2.kw : c2.kh, c2.pads[ax], 1, c2.dilation[ax], found.d1).delay;
    if (db < 0 || found.ds < 0) unsupported(l, 'padding larger than the kernel reach (negative Roesser delay)');
    ext.s[ax] = Math.max(0, db - found.ds);
    ext.b[ax] = Math.max(0, found.ds - db);
  }
  const sa: ConvSystem = convSystem(c1);
  const sb: ConvSystem = convSystem(c2, ext.b);
  if (sa.cin !== cIn) unsupported(c1, `expects ${sa.cin} channels, gets ${cIn}`);
  let ss: { A: Matrix; B: Matrix; C: Matrix; D: Matrix; sys: { nx1: number; nx2: number } };
  if (sc) ss = convSystem(sc, ext.s);
  else {
    const d = roesserOfDelay(cIn, ext.s[0], ext.s[1]);
    ss = { sys: d, ...roesserFull(d) };
  }
  const cMid = sa.cout;
  const cOut = sb.cout;
  if (sb.cin !== cMid) unsupported(c2, 'channel mismatch inside the branch');
  if ((sc ? sc.cout : cIn) !== cOut) unsupported(l, 'branch and shortcut have different output channels');
  const nu = cIn * s * s;
  const nxa = sa.sys.nx1 + sa.sys.nx2;
  const nxb = sb.sys.nx1 + sb.sys.nx2;
  const nxs = ss.sys.nx1 + ss.sys.nx2;
  const oXa = nu;
  const oW1 = oXa + nxa;
  const oXb = oW1 + cMid;
  const oXs = oXb + nxb;
  const nz = oXs + nxs;
  const G1 = zeros(cMid, nz);
  put(G1, sa.D, 0, 0);
  put(G1, sa.C, 0, oXa);
  const G = zeros(cOut, nz);
  put(G, sb.D, 0, oW1);
  put(G, sb.C, 0, oXb);
  put(G, ss.D, 0, 0);
  put(G, ss.C, 0, oXs);
  return {
    kind: 'residual',
    name: l.name,
    nz,
    qin: { c: cIn, rep: s * s, order: 'pixel-major' },
    systems: [systemOf(`${l.name}/conv1`, sa, oXa, 0, nu), systemOf(`${l.name}/conv2`, sb, oXb, oW1, cMid), systemOf(`${l.name}/skip`, ss, oXs, 0, nu)],
    internal: [{ wOff: oW1, G: G1, a: inner.a, c: inner.c }],
    G,
  };
}
