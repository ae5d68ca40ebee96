/**
 * Lower bound on the ℓ2 Lipschitz constant by search: L ≥ sup_x ‖J(x)‖₂, and every value this
 * module reports is a difference quotient ‖f(x + h v) − f(x)‖ / ‖h v‖ computed with the model's
 * reference forward pass (src/model/forward.ts), which is ≤ L for any x, v, h by the definition
 * of L. The search only decides where to look; it never contributes a number of its own.
 *
 * Where to look. For a ReLU network J(x) is constant on each linear region (activation pattern),
 * so ∇ₓ‖J(x)‖₂ = 0 almost everywhere and plain gradient ascent cannot move. The search therefore
 * ascends over activation patterns:
 *
 *  1. At x, the top singular triple (σ, u, v) of J(x): exactly from all rows of J (one reverse
 *     pass per output, shared forward pass) when the output is small, else by power iteration.
 *  2. Smoothed ascent. σ = uᵀ W_L D_{L−1} ⋯ D_1 W_1 v with D_k = diag(φ′(z_k)), so
 *     ∂σ/∂φ′(z_i) = b_i · t_i for neuron i, with t the tangent of v at i's input (forward) and b
 *     the cotangent of u at its output (reverse): switching i on (off) raises σ to first order when
 *     b_i t_i > 0 (< 0). Replacing ReLU's step φ′ by a logistic ramp of width κ·RMS(z) per layer
 *     (net-eval.ts, softDerivative) gives a surrogate whose gradient in x is
 *        g = Σ_i b_i t_i φ″_κ(z_i) ∇ₓ z_i,
 *     one reverse pass with cotangents injected at every activation (net-eval.ts's hook); for smooth
 *     activations it is the exact gradient of σ. Steps along g/‖g‖ lengthen while the smoothed
 *     objective rises and shorten when it falls; after every step the exact ‖J(x)v‖ of the real
 *     network is recorded, so the steps cross kinks and only real regions are kept.
 *  3. Starts: synthetic seeds in turn — Gaussian at scale 0.01 around 0, mid-grey 0.5 ± 0.1,
 *     Gaussian at 0.1, uniform in [0, 1], unit Gaussian — alternating with the user's samples
 *     (data points, in the graph's input layout) while there are any. On the CIFAR-10 and MNIST
 *     nets tried the near-zero starts (where the biases set the pattern) led to the largest ‖J‖,
 *     above starts at the test images (bench/lower-bound.ts, column "samples").
 *  4. Kink-crossing polish of each start's best point: along the smoothed gradient, and after a
 *     failure along random dense or sparse directions, neuron i's pre-activation reaches its kink
 *     at s_i = −z_i / (∂z_i/∂d) (first order); sorting the s_i > 0 gives steps that cross 1, 2, 4, …
 *     kinks, each landing halfway between two consecutive crossings, i.e. inside a region. The
 *     steps are screened by ‖J(x′)v‖ and the best get their exact σ; the best improvement is taken.
 *
 * The budget is an iteration count — a start, a smoothed-ascent step or a kink-crossing step is
 * one iteration — so the result is a function of the network, the samples, the budget and the
 * seed only, not of machine load. All randomness comes from a seeded generator.
 */
import type { ActivationLayer, Network } from '../model/ir.js';
import { forward } from '../model/forward.js';
import { activationDerivative } from '../model/kernels/activation.js';
import { symEig } from '../linalg/eig.js';
import { dot } from '../linalg/dense.js';
import { LipdpError } from '../model/errors.js';
import { NetEvaluator, type Trace, forwardCost, rms, supportsNetwork } from './net-eval.js';
import { mulberry32 } from '../util/random.js';

export interface LowerSearchOptions {
  /** Iterations in all (one ascent or kink-crossing step, or one start, is one iteration); default defaultLowerIterations(net). */
  readonly iterations?: number;
  /** Seed of the pseudo-random generator (default 1). */
  readonly seed?: number;
  /** Starting points in the graph's input layout (e.g. data samples), alternating with the synthetic seeds. */
  readonly samples?: readonly ArrayLike<number>[];
  /** Iterations one start may spend before the next start (default 100). */
  readonly iterationsPerStart?: number;
  /**
   * Optional wall-clock cap in ms on top of the iteration budget. Off by default: with it the
   * result depends on machine load.
   */
  readonly timeLimitMs?: number;
  readonly signal?: AbortSignal;
}

export interface LowerSearchResult {
  /** The best difference quotient found: a true lower bound on the Lipschitz constant. */
  readonly bound: number;
  /** Point (graph input layout) and unit direction realising it. */
  readonly x: Float64Array;
  readonly direction: Float64Array;
  /** Iterations spent and starts tried. */
  readonly iterations: number;
  readonly starts: number;
}

/** Most iterations the default budget gives (small networks). */
export const DEFAULT_LOWER_ITERATIONS = 300;
/** Fewest iterations the default budget gives (however large the network). */
const MIN_DEFAULT_ITERATIONS = 40;
/**
 * Multiply-adds (forward passes' worth, forwardCost) the default budget may spend in all. One
 * iteration costs about six passes; at 3·10⁸ the largest CIFAR-10 nets of ../shared/models
 * (resnet_4b 2.9 M multiply-adds per pass → 104 iterations, cifar10_large 1.8 M → 163) stay
 * near half a minute on a loaded 2-core machine (bench/lower-bound.ts prints the times).
 */
const DEFAULT_WORK = 3e8;
const DEFAULT_PER_START = 100;

/**
 * The default iteration budget for a network: DEFAULT_LOWER_ITERATIONS, fewer for networks whose
 * forward pass is expensive. A function of the network only, so results stay reproducible.
 */
export function defaultLowerIterations(net: Network): number {
  if (!supportsNetwork(net)) return DEFAULT_LOWER_ITERATIONS;
  const cost = Math.max(1, forwardCost(net));
  return Math.max(MIN_DEFAULT_ITERATIONS, Math.min(DEFAULT_LOWER_ITERATIONS, Math.floor(DEFAULT_WORK / cost)));
}

/** Width of the smoothed ReLU step, relative to the layer's RMS pre-activation. */
const KAPPA = 0.25;
/** Kink-crossing steps after each start's smoothed ascent (module comment, step 4). */
const POLISH_STEPS = 6;
/** Step lengths of a kink-crossing step: cross this many kinks (first order). */
const CROSSINGS = [1, 2, 4, 8, 32, 128];
/** Kink-crossing candidates screened within this fraction of σ(x) … */
const SCREEN_SLACK = 0.1;
/** … of which this many, the best screened, get an exact σ. */
const SCREENED_EXACT = 1;
/** Consecutive failed kink-crossing steps after which the polish of a start ends. */
const PATIENCE = 3;
/** Points kept for the final difference quotients. */
const FINALISTS = 3;

interface Point {
  readonly x: Float64Array;
  /** ‖J(x)v‖ (a lower estimate of σ_max(J(x)); the exact σ when u, v come from topSingular). */
  readonly sigma: number;
  readonly u: Float64Array;
  readonly v: Float64Array;
}

/** The search run to completion, synchronously. */
export function searchLowerBound(net: Network, opts: LowerSearchOptions = {}): LowerSearchResult {
  const it = lowerBoundSteps(net, opts);
  let r = it.next();
  while (!r.done) r = it.next();
  return r.value;
}

/**
 * The search, returning to the event loop every ~50 ms so that an abort signal or a progress
 * display can act while it runs. When it yields depends on the clock, what it computes does not.
 */
export async function searchLowerBoundAsync(net: Network, opts: LowerSearchOptions = {}): Promise<LowerSearchResult> {
  const it = lowerBoundSteps(net, opts);
  let last = performance.now();
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
    if (performance.now() - last > 50) {
      await yieldToEventLoop();
      last = performance.now();
      // Aborted: the caller discards the result (as the generator's own aborted return).
      if (opts.signal?.aborted) return { bound: 0, x: new Float64Array(0), direction: new Float64Array(0), iterations: 0, starts: 0 };
    }
  }
}

/** setImmediate where it exists (Node); browsers (the demo) have only timers. */
function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/** The search as a generator that yields after every iteration. */
export function* lowerBoundSteps(net: Network, opts: LowerSearchOptions = {}): Generator<void, LowerSearchResult, void> {
  if (!supportsNetwork(net)) throw new LipdpError('INVALID_ARGUMENT', `the lower-bound search does not handle 1-D signal layers ('${net.source}')`);
  const ev = new NetEvaluator(net);
  const n = ev.inputSize;
  const m = ev.outputSize;
  const budget = Math.max(1, Math.floor(opts.iterations ?? defaultLowerIterations(net)));
  const deadline = opts.timeLimitMs !== undefined ? performance.now() + opts.timeLimitMs : Infinity;
  const perStart = Math.max(1, Math.floor(opts.iterationsPerStart ?? DEFAULT_PER_START));
  const rand = mulberry32(opts.seed ?? 1);
  const gauss = (): number => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-300))) * Math.cos(2 * Math.PI * rand());
  const layout = layoutMaps(net);

  const finalists: Point[] = [];
  const keep = (p: Point): void => {
    if (!(p.sigma > 0)) return;
    finalists.push(p);
    finalists.sort((a, b) => b.sigma - a.sigma);
    if (finalists.length > FINALISTS) finalists.length = FINALISTS;
  };

  const samples = (opts.samples ?? []).map((s) => {
    if (s.length !== n) throw new LipdpError('INVALID_ARGUMENT', `a lower-bound sample has ${s.length} values, '${net.source}' expects ${n}`);
    const x = Float64Array.from(s);
    if (!x.every(Number.isFinite)) throw new LipdpError('INVALID_ARGUMENT', 'a lower-bound sample has a non-finite value');
    return layout.fromGraph(x);
  });
  // Synthetic starts, cycled. Near 0 the biases set the activation pattern and on the trained
  // nets tried (CIFAR-10, MNIST) these starts led to the largest ‖J‖ by far; mid-grey and
  // pixel-box starts cover [0, 1]-scaled inputs, unit Gaussians normalised ones.
  const seedKinds: (() => Float64Array)[] = [
    () => Float64Array.from({ length: n }, () => 0.01 * gauss()),
    () => Float64Array.from({ length: n }, () => 0.5 + 0.1 * gauss()),
    () => Float64Array.from({ length: n }, () => 0.1 * gauss()),
    () => Float64Array.from({ length: n }, rand),
    () => Float64Array.from({ length: n }, gauss),
  ];
  // Samples alternate with the synthetic starts (synthetic first) rather than replacing them, so
  // that supplying data never loses the starts that do best without it.
  let synthetic = 0;
  const nextStart = (k: number): Float64Array => {
    const j = (k - 1) / 2;
    if (k % 2 === 1 && j < samples.length) return samples[j]!;
    return seedKinds[synthetic++ % seedKinds.length]!();
  };

  let used = 0;
  let starts = 0;
  const left = (): number => (opts.signal?.aborted || performance.now() > deadline ? 0 : budget - used);
  while (left() > 0) {
    // Smoothed ascent (module comment, step 2) from the next start (step 3).
    let x = nextStart(starts);
    starts++;
    used++;
    let v: Float64Array = Float64Array.from({ length: n }, gauss);
    normalise(v);
    let startBest: Point | null = null;
    let eta = 0.05 * Math.max(norm(x), 0.05 * Math.sqrt(n));
    let prevObj = -Infinity;
    // Leave the polish its steps when the budget runs out within this start.
    const ascent = Math.max(0, Math.min(perStart - 1 - POLISH_STEPS, left() - POLISH_STEPS));
    for (let k = 0; k < ascent && left() > 0; k++) {
      used++;
      const tr = ev.forward(x, v, KAPPA);
      const us = Float64Array.from(tr.ty!);
      const obj = norm(us);
      if (!normalise(us)) break;
      // Longer steps while the smoothed objective rises, shorter once it falls.
      eta *= obj < prevObj ? 0.6 : 1.1;
      prevObj = obj;
      const [vNext, g] = ev.backward(tr, [us, new Float64Array(m)], smoothedGradientHook) as [Float64Array, Float64Array];
      if (normalise(vNext)) v = vNext; // one power step per iteration on the smoothed JᵀJ, warm
      // The exact (unsmoothed) ‖J(x)v‖ at the current point is what may be kept.
      const hard = Float64Array.from(ev.forward(x, v).ty!);
      const p: Point = { x, sigma: norm(hard), u: hard, v };
      normalise(hard);
      if (!startBest || p.sigma > startBest.sigma) startBest = p;
      keep(p);
      if (!normalise(g)) break;
      x = x.map((xi, i) => xi + eta * g[i]!);
      yield;
    }
    // Kink-crossing polish from the start's best point (module comment, step 4).
    if (left() > 0) {
      let p = yield* topSingular(ev, startBest ? startBest.x : x, startBest ? startBest.v : v, m, gauss);
      keep(p);
      let fails = 0;
      for (let k = 0; k < POLISH_STEPS && left() > 0 && fails < PATIENCE; k++) {
        used++;
        // After the gradient step fails: a dense random direction, then a sparse one (a few
        // inputs only), whose nearest kinks are different neurons' than a dense direction's.
        const d = fails === 0 ? patternGradient(ev, p) : fails % 2 === 1 ? Float64Array.from({ length: n }, gauss) : sparseDirection(n, rand, gauss);
        const q = yield* bestCrossing(ev, p, d, m, gauss, fails === 0 ? [1] : [1, -1]);
        if (q && q.sigma > p.sigma * (1 + 1e-9)) {
          p = q;
          fails = 0;
          keep(p);
        } else fails++;
        yield;
      }
    }
  }

  // Aborted: the caller discards the result; skip the final evaluations to return promptly.
  if (opts.signal?.aborted) return { bound: 0, x: new Float64Array(n), direction: new Float64Array(n), iterations: used, starts };
  // The reported number: difference quotients of the reference forward pass at the finalists,
  // along the stored direction and along the exact top singular vector there.
  let best: { bound: number; x: Float64Array; direction: Float64Array } = { bound: 0, x: new Float64Array(n), direction: new Float64Array(n) };
  for (const p of finalists) {
    const exact = yield* topSingular(ev, p.x, p.v, m, gauss);
    for (const dir of [p.v, exact.v]) {
      yield;
      const xg = layout.toGraph(p.x);
      const vg = layout.toGraph(dir);
      const q = differenceQuotient(net, xg, vg);
      if (q > best.bound) best = { bound: q, x: xg, direction: vg };
    }
  }
  return { ...best, iterations: used, starts };
}

/**
 * Adds b_i t_i φ″_κ(z_i) at every activation to the second cotangent: with the first cotangent u
 * and the forward tangent v this makes the second output of the reverse pass the gradient of the
 * smoothed uᵀJ(x)v (module comment, step 2).
 */
function smoothedGradientHook(l: ActivationLayer, z: Float64Array, tz: Float64Array | null, gPost: readonly Float64Array[], gPre: Float64Array[]): void {
  if (!tz) return;
  const curv = smoothedCurvature(l, z, KAPPA);
  const b = gPost[0]!;
  const acc = gPre[1]!;
  for (let i = 0; i < z.length; i++) acc[i] += b[i]! * tz[i]! * curv[i]!;
}

/**
 * max over a few step sizes and both signs of ‖f(x₁) − f(x)‖ / ‖x₁ − x‖ with x₁ = x + h v, with the
 * reference forward pass. Several h because x may lie within rounding distance of a kink;
 * every one of them is a valid lower bound, so the maximum is too. The denominator is the step
 * actually taken, x₁ − x as stored (exact: nearby doubles subtract exactly), not |h|·‖v‖: at
 * h ~ 1e-8·‖x‖ rounding x + h v moves each entry by up to 1e-8 of the step, and dividing by the
 * intended step put the quotient of the identity map at 1 + 5e-9.
 */
export function differenceQuotient(net: Network, x: Float64Array, v: Float64Array): number {
  const nv = norm(v);
  if (!(nv > 0)) return 0;
  const f0 = forward(net, x);
  const scale = Math.max(1, norm(x));
  let best = 0;
  for (const rel of [1e-6, 1e-8]) {
    for (const sign of [1, -1]) {
      const h = (sign * rel * scale) / nv;
      const x1 = x.map((xi, i) => xi + h * v[i]!);
      const f1 = forward(net, x1);
      let s = 0;
      for (let i = 0; i < f1.length; i++) s += (f1[i]! - f0[i]!) ** 2;
      let d = 0;
      for (let i = 0; i < x1.length; i++) d += (x1[i]! - x[i]!) ** 2;
      const q = Math.sqrt(s) / Math.sqrt(d);
      if (Number.isFinite(q) && q > best) best = q;
    }
  }
  return best;
}

/** σ, u, v of J(x): exact from the rows of J for small outputs, else power iteration (warm from v0). */
function* topSingular(ev: NetEvaluator, x: Float64Array, v0: Float64Array | null, m: number, gauss: () => number): Generator<void, Point, void> {
  if (m <= 32) {
    const rows = ev.jacobianRows(x);
    yield;
    const G = new Float64Array(m * m);
    for (let a = 0; a < m; a++) for (let b = 0; b <= a; b++) G[a * m + b] = G[b * m + a] = dot(rows[a]!, rows[b]!);
    const eig = symEig(G, m);
    const lam = Math.max(0, eig.values[m - 1]!);
    const u = Float64Array.from(eig.vectors.subarray((m - 1) * m, m * m));
    const v = new Float64Array(x.length);
    for (let a = 0; a < m; a++) axpy(u[a]!, rows[a]!, v);
    const s = norm(v);
    if (s > 0) for (let i = 0; i < v.length; i++) v[i] /= s;
    return { x, sigma: Math.sqrt(lam), u, v };
  }
  let v: Float64Array = v0 ? Float64Array.from(v0) : Float64Array.from({ length: x.length }, gauss);
  normalise(v);
  let u: Float64Array = new Float64Array(m);
  let sigma = 0;
  for (let i = 0; i < (v0 ? 6 : 30); i++) {
    yield;
    const tr = ev.forward(x, v);
    u = Float64Array.from(tr.ty!);
    sigma = norm(u);
    if (!normalise(u)) break;
    const w = ev.backward(tr, [u])[0]!;
    if (!normalise(w)) break;
    v = w;
  }
  return { x, sigma, u, v };
}

/**
 * Gradient in x of the smoothed uᵀJ(x)v at p (module comment, step 2), the direction of a
 * kink-crossing step: one forward pass with tangent v, one reverse pass carrying u and the
 * injected cotangents.
 */
function patternGradient(ev: NetEvaluator, p: Point): Float64Array {
  const tr = ev.forward(p.x, p.v, KAPPA);
  return ev.backward(tr, [p.u, new Float64Array(ev.outputSize)], smoothedGradientHook)[1]!;
}

/**
 * ∂φ′_κ/∂z at each pre-activation. ReLU / LeakyReLU: the derivative of the logistic ramp that
 * softDerivative (net-eval.ts) puts in place of the step; smooth φ: the central difference of φ′.
 */
function smoothedCurvature(l: ActivationLayer, z: Float64Array, kappa: number): Float64Array {
  const out = new Float64Array(z.length);
  if (l.fn === 'relu' || l.fn === 'leaky_relu') {
    const jump = l.fn === 'relu' ? 1 : 1 - (l.param ?? 0.01);
    const tau = kappa * rms(z);
    for (let i = 0; i < z.length; i++) {
      const sg = 1 / (1 + Math.exp(-z[i]! / tau));
      out[i] = (jump * sg * (1 - sg)) / tau;
    }
    return out;
  }
  for (let i = 0; i < z.length; i++) {
    const h = 1e-4 * Math.max(1, Math.abs(z[i]!));
    out[i] = (activationDerivative(l.fn, l.param, z[i]! + h) - activationDerivative(l.fn, l.param, z[i]! - h)) / (2 * h);
  }
  return out;
}

/**
 * Kink crossing along d (module comment, step 4): candidate steps that cross 1, 2, 4, … kinks to
 * first order, landing halfway between two consecutive crossings. They are screened by ‖J(x′)v‖
 * with p's v, which understates σ(x′) when the top singular vector turns, so the best
 * SCREENED_EXACT candidates within SCREEN_SLACK of σ(x) get their exact σ; the best is returned
 * when it beats p, else null.
 */
function* bestCrossing(ev: NetEvaluator, p: Point, d: Float64Array, m: number, gauss: () => number, signs: readonly number[]): Generator<void, Point | null, void> {
  if (!normalise(d)) return null;
  const tr = ev.forward(p.x, d);
  const dist = kinkDistances(ev, tr);
  const cands: { q: number; x: Float64Array }[] = [];
  for (const sign of signs) {
    const ds = sign > 0 ? dist.pos : dist.neg;
    for (const c of CROSSINGS) {
      if (ds.length < c) break;
      const step = c < ds.length ? 0.5 * (ds[c - 1]! + ds[c]!) : 1.01 * ds[c - 1]!;
      const xt = p.x.map((xi, i) => xi + sign * step * d[i]!);
      yield;
      const q = norm(ev.forward(xt, p.v).ty!);
      if (q > p.sigma * (1 - SCREEN_SLACK)) cands.push({ q, x: xt });
    }
  }
  cands.sort((a, b) => b.q - a.q);
  let best: Point | null = null;
  for (const c of cands.slice(0, SCREENED_EXACT)) {
    const q = yield* topSingular(ev, c.x, p.v, m, gauss);
    if (q.sigma > p.sigma * (1 + 1e-9) && (!best || q.sigma > best.sigma)) best = q;
  }
  return best;
}

/** Sorted first-order distances to every activation kink along +d and −d, from one forward pass with tangent d. */
function kinkDistances(ev: NetEvaluator, tr: Trace): { pos: number[]; neg: number[] } {
  const pos: number[] = [];
  const neg: number[] = [];
  // The reverse pass is not needed: walk the records of the forward pass for activation inputs.
  visitActivations(ev.net.layers, tr.chain, (z, tz) => {
    for (let i = 0; i < z.length; i++) {
      const rate = tz[i]!;
      if (rate === 0) continue;
      const s = -z[i]! / rate;
      if (s > 0) pos.push(s);
      else if (s < 0) neg.push(-s);
    }
  });
  pos.sort((a, b) => a - b);
  neg.sort((a, b) => a - b);
  return { pos, neg };
}

type Chain = Trace['chain'];
function visitActivations(layers: Network['layers'], rec: Chain, visit: (z: Float64Array, tz: Float64Array) => void): void {
  layers.forEach((l, k) => {
    const r = rec.layers[k]!;
    if (l.kind === 'residual') {
      visitActivations(l.branch, r.branch!, visit);
      visitActivations(l.shortcut, r.shortcut!, visit);
    } else if (l.kind === 'activation' && (l.fn === 'relu' || l.fn === 'leaky_relu') && r.t) visit(r.x, r.t);
  });
}

/** A Gaussian direction on about √n random inputs (at least one), zero elsewhere. */
function sparseDirection(n: number, rand: () => number, gauss: () => number): Float64Array {
  const d = new Float64Array(n);
  const k = Math.max(1, Math.round(Math.sqrt(n)));
  for (let j = 0; j < k; j++) d[Math.floor(rand() * n)] = gauss();
  return d;
}

/** Graph layout ↔ the layers' CHW layout (a permutation: norms are unchanged). */
function layoutMaps(net: Network): { fromGraph: (x: Float64Array) => Float64Array; toGraph: (x: Float64Array) => Float64Array } {
  const perm = net.inputPermutation;
  if (!perm) return { fromGraph: (x) => x, toGraph: (x) => Float64Array.from(x) };
  const [C, H, W] = perm.chwShape;
  return {
    fromGraph: (x) => {
      const y = new Float64Array(x.length);
      for (let c = 0; c < C; c++) for (let q = 0; q < H * W; q++) y[c * H * W + q] = x[q * C + c]!;
      return y;
    },
    toGraph: (x) => {
      const y = new Float64Array(x.length);
      for (let c = 0; c < C; c++) for (let q = 0; q < H * W; q++) y[q * C + c] = x[c * H * W + q]!;
      return y;
    },
  };
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] += a * x[i]!;
}

function norm(v: Float64Array): number {
  return Math.sqrt(dot(v, v));
}

function normalise(v: Float64Array): boolean {
  const s = norm(v);
  if (!(s > 0) || !Number.isFinite(s)) return false;
  for (let i = 0; i < v.length; i++) v[i] /= s;
  return true;
}
