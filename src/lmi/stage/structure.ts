/**
 * Network → analysis stages (stages.ts) for the layer-wise LipSDP of conv / pooling / residual /
 * dense networks (docs/method.md §3–§5).
 *
 * Accepted shapes (after the exact scale/shift folding of simplifyChain):
 *   [scaleshift]* (input gain)  then a sequence of
 *   conv → [maxpool] → activation → [pad | maxpool | avgpool | globalavgpool]*      (conv stage)
 *   residual{branch: any chain of linear pieces (conv incl. 1×1, dense, scale/shift) and
 *            activations | shortcut: identity, conv or dense (with scales)} → activation → [pools]
 *            (residual stage, on a feature map or on a vector)
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
import { convSystem, squareStride } from '../conv/conv-system.js';
import { avgPoolGain, maxPoolGain } from '../conv/pool-gain.js';
import { activationGain, type Stage, type StagePlan, type StageSystem } from './stages.js';
import { nextUp } from '../../certify/psd-check.js';

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
  let outerGain = 1;
  const stages: Stage[] = [];
  const advance = (): Layer => {
    const l = layers[k++]!;
    shape = layerOutputShape(l, shape);
    return l;
  };
  // Elementwise input scaling that simplify could not fold: ‖diag(s)‖₂ = max |s|.
  while (k < layers.length && (layers[k]!.kind === 'scaleshift' || layers[k]!.kind === 'pad')) {
    const l = advance();
    if (l.kind === 'scaleshift') outerGain *= Math.max(...Array.from(l.scale, Math.abs));
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
        } else if (stages.length === 0 && !flat && W.cols > W.rows) {
          // A wide first layer: its incoming weight ρI_n is ρ ⊗ I_n, the form of a dense layer
          // after the flatten of a 1-channel map, so the certifier proves its n + m LMI with m × m
          // tests (chain-certify.ts verifyKronDense) instead of a Cholesky of size n + m (834 on a
          // 784-input MNIST net, verified a few dozen times per solve). The optimisers see the
          // compressed stage either way (compress.ts).
          qin = { c: 1, rep: W.cols, order: 'channel-major' };
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
        // A residual block on a flattened feature map would need the Q ⊗ I input weight of a
        // dense-after-flatten stage inside the block: not modelled, say so.
        if (flat && flat.hw > 1) unsupported(l, 'a residual block directly after the flatten of a feature map (put a dense layer before it)');
        const st = residualStage(l, inShape);
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
  const end = stages[stages.length - 1]!;
  if (!end.last) {
    // An activation on the outputs (and any pooling after it): slope-restricted in [α, β], so
    // Lipschitz with max(|α|, |β|), and pooling with √μ. The chain ends at the last linear map;
    // the factor (rounded up) multiplies its bound.
    outerGain = nextUp(nextUp(outerGain * activationGain(end)) * nextUp(Math.sqrt(end.pool.mu)));
    stages[stages.length - 1] = { ...end, out: { G: end.out.G, a: 0, c: 0 }, last: true, pool: { mu: 1, diag: false } };
  }
  return { stages, outerGain };
}

type ResidualCore = Omit<Stage, 'out' | 'last' | 'pool' | 'outShape'> & { G: Matrix };

/**
 * One linear piece of a residual path (the layers between two activations, or before the first /
 * after the last), realised: an optional Roesser system x⁺ = A x + B·in (null: no state) and the
 * output y = C x + D·in. Scales are folded into B, C, D; biases and shifts drop out (the stage
 * LMI constrains increments only).
 */
interface Piece {
  readonly sys: { readonly name: string; readonly nx1: number; readonly nx2: number; readonly A: Matrix; readonly B: Matrix } | null;
  readonly C: Matrix | null;
  readonly D: Matrix;
  /** Channels of the piece's output (rows of D). */
  readonly rows: number;
  /** Whether the piece reads pixels outside the true input map (a padded conv), see residualStage. */
  readonly padded: boolean;
}

function diagMatrix(d: ArrayLike<number>): Matrix {
  const n = d.length;
  const M = zeros(n, n);
  for (let i = 0; i < n; i++) M.data[i * n + i] = d[i]!;
  return M;
}

/** diag(r)·M·diag(c) (r, c null: identity), a fresh matrix. */
function scaleMatrix(M: Matrix, r: ArrayLike<number> | null, c: ArrayLike<number> | null): Matrix {
  const out = zeros(M.rows, M.cols);
  for (let i = 0; i < M.rows; i++)
    for (let j = 0; j < M.cols; j++) out.data[i * M.cols + j] = (r ? r[i]! : 1) * M.data[i * M.cols + j]! * (c ? c[j]! : 1);
  return out;
}

const allOnes = (v: ArrayLike<number>): boolean => Array.prototype.every.call(v, (x: number) => x === 1) as boolean;

/**
 * The per-channel factor of a scale/shift on a c-channel feature map; a per-element scale is
 * accepted only when it is constant on every channel (a Roesser system is shift invariant).
 */
function channelScale(l: Layer, c: number): Float64Array {
  if (l.kind !== 'scaleshift') unsupported(l, 'expected a scale/shift');
  const s = l.scale;
  if (s.length === 1) return new Float64Array(c).fill(s[0]!);
  if (s.length === c) return Float64Array.from(s);
  if (s.length % c === 0) {
    const per = s.length / c;
    const out = new Float64Array(c);
    for (let ch = 0; ch < c; ch++) {
      out[ch] = s[ch * per]!;
      for (let q = 1; q < per; q++) if (s[ch * per + q] !== out[ch]) unsupported(l, 'a per-pixel scale inside a residual block on a feature map (not shift invariant)');
    }
    return out;
  }
  return unsupported(l, `scale of length ${s.length} on ${c} channels`);
}

/** Split a path at its activations: pieces[0] act[0] pieces[1] … act[K−1] pieces[K]. */
function splitAtActivations(path: readonly Layer[]): { pieces: Layer[][]; acts: Layer[] } {
  const pieces: Layer[][] = [[]];
  const acts: Layer[] = [];
  for (const l of path) {
    if (l.kind === 'activation') {
      acts.push(l);
      pieces.push([]);
    } else pieces[pieces.length - 1]!.push(l);
  }
  return { pieces, acts };
}

/**
 * A linear piece on a c-channel feature map whose signal holds `rep` pixels per Roesser step
 * (s² before the branch's strided conv, 1 after it): at most one conv (1×1 included) with
 * per-channel scales before and after it, folded into its B, C and D. `delay`: extra output delay
 * (the alignment of docs/method.md §5.2), put on the conv, or on a pure-delay system when the
 * piece has no conv. `keepSystem`: realise a system even without state (the skip's pure delay,
 * which the residual start of residual-start.ts expects as the third system).
 */
function mapPiece(
  layers: readonly Layer[],
  c: number,
  rep: number,
  delay: readonly [number, number],
  sysName: string,
  keepSystem: boolean,
): Piece & { cOut: number } {
  let conv: Conv2dLayer | null = null;
  let pre: Float64Array | null = null;
  let post: Float64Array | null = null;
  let ch = c;
  for (const l of layers) {
    if (l.kind === 'scaleshift') {
      const sc = channelScale(l, ch);
      if (conv) post = post ? post.map((v, i) => v * sc[i]!) : sc;
      else pre = pre ? pre.map((v, i) => v * sc[i]!) : sc;
    } else if (l.kind === 'conv2d') {
      if (conv) unsupported(l, `two convs without an activation between them in residual path (after '${conv.name}')`);
      conv = l;
      ch = l.cout;
    } else unsupported(l, 'not supported inside a residual block on a feature map (expected conv, scale/shift or activation)');
  }
  if (pre && allOnes(pre)) pre = null;
  if (post && allOnes(post)) post = null;
  if (conv) {
    const cs = convSystem(conv, delay);
    if (cs.cin !== c) unsupported(conv, `expects ${cs.cin} channels, gets ${c}`);
    if (cs.stride * cs.stride !== rep) unsupported(conv, 'only the first conv of a residual path may be strided');
    // Input columns are pixel-major (p·c + i): the pre-scale of channel i hits columns ≡ i mod c.
    const preCols = pre ? Float64Array.from({ length: c * rep }, (_, j) => pre![j % c]!) : null;
    return {
      sys: { name: sysName, nx1: cs.sys.nx1, nx2: cs.sys.nx2, A: cs.A, B: preCols ? scaleMatrix(cs.B, null, preCols) : cs.B },
      C: post ? scaleMatrix(cs.C, post, null) : cs.C,
      D: pre || post ? scaleMatrix(cs.D, post, preCols) : cs.D,
      rows: cs.cout,
      cOut: cs.cout,
      padded: conv.pads.some((p) => p !== 0),
    };
  }
  const scale = pre; // no conv: every scale is a pre-scale
  if (delay[0] > 0 || delay[1] > 0 || keepSystem) {
    if (rep !== 1) unsupported(layers[0], 'a delayed path without a conv before a strided conv');
    const d = roesserOfDelay(c, delay[0], delay[1]);
    const f = roesserFull(d);
    return {
      sys: { name: sysName, nx1: d.nx1, nx2: d.nx2, A: f.A, B: f.B },
      C: scale ? scaleMatrix(f.C, scale, null) : f.C,
      D: scale ? scaleMatrix(f.D, scale, null) : f.D,
      rows: c,
      cOut: c,
      padded: false,
    };
  }
  const per = Float64Array.from({ length: c * rep }, (_, j) => (scale ? scale[j % c]! : 1));
  return { sys: null, C: null, D: diagMatrix(per), rows: c * rep, cOut: c, padded: false };
}

/** A linear piece on an n-vector: the product of its dense layers and elementwise scales. */
function vecPiece(layers: readonly Layer[], n: number): Piece {
  let M: Matrix | null = null;
  let rows = n;
  for (const l of layers) {
    if (l.kind === 'dense') {
      if (l.W.cols !== rows) unsupported(l, `expects ${l.W.cols} inputs, gets ${rows}`);
      M = M ? matMul(l.W, M) : l.W;
      rows = l.W.rows;
    } else if (l.kind === 'scaleshift') {
      const s = l.scale.length === 1 ? new Float64Array(rows).fill(l.scale[0]!) : l.scale;
      if (s.length !== rows) unsupported(l, `scale of length ${s.length} on a vector of ${rows}`);
      M = M ? scaleMatrix(M, s, null) : diagMatrix(s);
    } else unsupported(l, 'not supported inside a residual block on a vector (expected dense, scale/shift or activation)');
  }
  return { sys: null, C: null, D: M ?? diagMatrix(new Float64Array(n).fill(1)), rows, padded: false };
}

/**
 * Residual block u ↦ v = S(u) + branch(u) as ONE stage (docs/method.md §5.1), where the branch is
 * any chain of linear pieces and slope-restricted activations,
 *   branch = L_K ∘ φ_K ∘ … ∘ φ_1 ∘ L_0,
 * and S is linear (identity, a conv or dense layer, with scales). z = (u, x_0, w_1, x_1, w_2, …,
 * x_K, x_S): every conv's Roesser state x_k, every inner activation's output w_k (its own QC and
 * multiplier), the skip's state; v = G z. A dense or scale-only piece has no state: it only
 * contributes columns to the G-rows of what it feeds (an inner QC or the output). On a vector
 * (dense residual blocks) there are no systems at all.
 *
 * On feature maps the skip and the branch are realised on the same s × s block grid with the same
 * input embedding (only the first conv of the branch may be strided); the path with less Roesser
 * delay gets the difference as extra output delay — on the branch's last conv, or on a pure-delay
 * system — so both reach the addition aligned (docs/method.md §5.2).
 *
 * Boundary pixels (docs/method.md §5.1): a padded conv inside the branch reads zeros where the
 * Roesser realisation has the previous conv's "full convolution" boundary outputs. The true
 * network is still a trajectory of the stage's realisation if the activation feeding that conv is
 * given w = 0 at those pixels, which its QC admits only when αβ ≤ 0. So an activation followed by a
 * padded conv is modelled with the slope interval [min(α,0), max(β,0)] ⊇ [α, β] (sound; the
 * same for ReLU, tanh, sigmoid; wider only for a leaky ReLU with positive slope).
 */
function residualStage(l: ResidualLayer, inShape: ValueShape): ResidualCore {
  const branch = foldPads(l.branch);
  const shortcut = foldPads(l.shortcut);
  const { pieces: raw, acts } = splitAtActivations(branch);
  const act = shortcut.find((x) => x.kind === 'activation');
  if (act) unsupported(act, `the shortcut of residual block '${l.name}' must be linear`);
  const K = acts.length;
  let pieces: Piece[];
  let skip: Piece;
  let qin: Stage['qin'];
  let nu: number;
  if (isMap(inShape)) {
    const cIn = inShape[0];
    const convs = branch.filter((x): x is Conv2dLayer => x.kind === 'conv2d');
    const scConvs = shortcut.filter((x): x is Conv2dLayer => x.kind === 'conv2d');
    if (scConvs.length > 1) unsupported(scConvs[1], 'a shortcut may hold at most one conv');
    const sc = scConvs[0];
    const s = convs[0] ? squareStride(convs[0]) : 1;
    for (const c of convs.slice(1)) if (squareStride(c) !== 1) unsupported(c, 'only the first conv of a residual branch may be strided');
    if (sc && squareStride(sc) !== s) unsupported(sc, `shortcut stride ${sc.stride[0]} differs from the branch stride ${s}`);
    if (!sc && s !== 1) unsupported(l, 'identity shortcut with a strided branch');
    // Per axis: a common input embedding offset e, then the delay of each path (a conv's input
    // arrives at the previous conv's delay, docs/method.md §3.2.1; activations and scales keep it).
    const ext: { b: [number, number]; s: [number, number] } = { b: [0, 0], s: [0, 0] };
    for (const ax of [0, 1] as const) {
      let found: { db: number; ds: number; negative: boolean } | null = null;
      for (let e = 0; e < s && !found; e++) {
        try {
          let off = e;
          let negative = false;
          for (const c of convs) {
            off = axisDelay(ax ? c.kw : c.kh, c.pads[ax], squareStride(c), c.dilation[ax], off).delay;
            if (off < 0) {
              negative = true;
              break;
            }
          }
          const ds = sc ? axisDelay(ax ? sc.kw : sc.kh, sc.pads[ax], s, sc.dilation[ax], e).delay : e;
          found = { db: off, ds, negative: negative || ds < 0 };
        } catch {
          // phase condition fails for this e; try the next one
        }
      }
      if (!found) unsupported(l, 'branch and shortcut read different stride sub-grids of the input');
      if (found.negative) unsupported(l, 'padding larger than the kernel reach (negative Roesser delay)');
      ext.s[ax] = Math.max(0, found.db - found.ds);
      ext.b[ax] = Math.max(0, found.ds - found.db);
    }
    // The extra branch delay goes on the last piece that has a conv (a delay commutes with the
    // pixelwise activations and scales after it), or on a pure delay at the end of the branch.
    let lastConvPiece = -1;
    raw.forEach((p, k) => {
      if (p.some((x) => x.kind === 'conv2d')) lastConvPiece = k;
    });
    const delayAt = lastConvPiece >= 0 ? lastConvPiece : K;
    pieces = [];
    let c = cIn;
    let rep = s * s;
    let convNo = 0;
    raw.forEach((p, k) => {
      const hasConv = p.some((x) => x.kind === 'conv2d');
      const name = hasConv ? `${l.name}/conv${++convNo}` : `${l.name}/delay`;
      const pc = mapPiece(p, c, rep, k === delayAt ? ext.b : [0, 0], name, false);
      pieces.push(pc);
      if (hasConv) rep = 1;
      c = pc.cOut;
    });
    if (rep !== 1) unsupported(l, 'a strided shortcut needs a strided conv in the branch');
    skip = mapPiece(shortcut, cIn, s * s, ext.s, `${l.name}/skip`, true);
    if (skip.rows !== c) unsupported(l, `branch and shortcut have different output channels (${c} and ${skip.rows})`);
    nu = cIn * s * s;
    qin = { c: cIn, rep: s * s, order: 'pixel-major' };
  } else {
    if (inShape.length !== 1) unsupported(l, 'residual block needs a feature map or a vector');
    const n = inShape[0];
    pieces = [];
    let m = n;
    for (const p of raw) {
      const pc = vecPiece(p, m);
      pieces.push(pc);
      m = pc.rows;
    }
    skip = vecPiece(shortcut, n);
    if (skip.rows !== m) unsupported(l, `branch and shortcut have different output sizes (${m} and ${skip.rows})`);
    nu = n;
    qin = { c: n, rep: 1, order: 'channel-major' };
  }

  // Layout of z and the systems; the G-rows are filled once nz is known.
  let nz = nu;
  const systems: StageSystem[] = [];
  const placed: { p: Piece; xOff: number; inOff: number; nin: number; sys: number }[] = [];
  const wOffs: number[] = [];
  let inOff = 0;
  let nin = nu;
  const place = (p: Piece, from: number, width: number): void => {
    const xOff = nz;
    const sys = p.sys ? systems.length : -1;
    if (p.sys) {
      if (p.D.cols !== width) unsupported(l, `internal size mismatch at '${p.sys.name}'`);
      systems.push({ name: p.sys.name, nx1: p.sys.nx1, nx2: p.sys.nx2, A: p.sys.A, B: p.sys.B, xOff, inOff: from, nin: width });
      nz += p.sys.nx1 + p.sys.nx2;
    } else if (p.D.cols !== width) unsupported(l, 'internal size mismatch');
    placed.push({ p, xOff, inOff: from, nin: width, sys });
  };
  pieces.forEach((p, k) => {
    place(p, inOff, nin);
    if (k < K) {
      wOffs.push(nz);
      inOff = nz;
      nin = p.rows;
      nz += p.rows;
    }
  });
  place(skip, 0, nu);
  const rowsOf = (pl: (typeof placed)[number], G: Matrix): void => {
    put(G, pl.p.D, 0, pl.inOff);
    if (pl.p.C && pl.p.C.cols > 0) put(G, pl.p.C, 0, pl.xOff);
  };
  const internal = acts.map((a, k) => {
    const pl = placed[k]!;
    const G = zeros(pl.p.rows, nz);
    rowsOf(pl, G);
    let { alpha, beta } = (a as Extract<Layer, { kind: 'activation' }>).slope;
    // An activation feeding a padded conv gets w = 0 at boundary pixels (see above).
    if (pieces[k + 1]!.padded) {
      alpha = Math.min(alpha, 0);
      beta = Math.max(beta, 0);
    }
    return { wOff: wOffs[k]!, G, a: alpha * beta, c: alpha + beta };
  });
  const G = zeros(skip.rows, nz);
  rowsOf(placed[K]!, G);
  rowsOf(placed[K + 1]!, G);
  const link = (pl: (typeof placed)[number]) => ({ sys: pl.sys, inOff: pl.inOff, nin: pl.nin });
  const residual = { pieces: placed.slice(0, K + 1).map(link), skip: link(placed[K + 1]!) };
  return { kind: 'residual', name: l.name, nz, qin, systems, internal, G, residual };
}
