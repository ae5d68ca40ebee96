/**
 * Conv / pooling / residual certificates (src/lmi/stage, src/lmi/conv, src/certify/chain-certify.ts,
 * src/solver/refine-chain.ts, src/model/unroll.ts, src/pipeline/solve.ts): every certified bound
 * must be ≥ an empirical lower bound (difference quotients of the true network).
 */
import { describe, expect, it } from 'vitest';
import type { Conv2dLayer, Layer, Network } from '../../src/model/ir.js';
import { chainOutputShape, forward } from '../../src/model/index.js';
import { fcChainForward } from '../../src/model/lower.js';
import { unrollNetwork } from '../../src/model/unroll.js';
import { planStages } from '../../src/lmi/stage/structure.js';
import { avgPoolAxisGain, avgPoolGain } from '../../src/lmi/conv/pool-gain.js';
import { ParamLayout, evaluateConvG, scaleParams, startParams, type SingleStage } from '../../src/solver/refine-chain.js';
import { naiveRoesser, solveNetwork } from '../../src/pipeline/solve.js';
import { minimiseRhoG, runRecursion } from '../../src/lmi/stage/recursion.js';
import { certifyStages } from '../../src/certify/chain-certify.js';
import { runStepsSync, stepsOf } from '../../src/util/steps.js';
import type { Stage } from '../../src/lmi/stage/stages.js';
import { freshSeed } from '../helpers/random.js';
import { Rng, conv, dense, flatten, leaky, lowerBound, network, pool, relu, residual } from './helpers.js';

function tapConv(v: number): Conv2dLayer {
  const kernel = new Float64Array(9);
  kernel[2 * 3 + 2] = v; // only tap (row 2, col 2), 0-based
  return { kind: 'conv2d', kernel, cout: 1, cin: 1, kh: 3, kw: 3, bias: new Float64Array(1), stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], groups: 1, name: `tap${v}` };
}

async function checkSound(net: Network, seed: number, formulation: 'roesser' | 'unrolled' = 'roesser'): Promise<{ L: number; lower: number }> {
  const res = await solveNetwork(net, { formulation, maxIter: 300, noNaive: true });
  expect(res.status, `seed ${seed}`).toBe('certified');
  const L = res.upperBound!;
  const lower = lowerBound(net, seed);
  expect(L, `seed ${seed}: certified ${L} < lower bound ${lower}`).toBeGreaterThanOrEqual(lower);
  return { L, lower };
}

describe('docs/method.md §5.2 residual counterexample', () => {
  it('y = x − 0.9·ReLU(shift₂ x) on 14×14: certified L ≥ 1.859 and the lower bound reaches 1.859', async () => {
    const net = network([1, 14, 14], [residual([tapConv(1), relu(), tapConv(-0.9)])], 196);
    const plan = planStages(net);
    expect(plan.stages.length).toBe(1);
    const res = await solveNetwork(net, { formulation: 'roesser', maxIter: 300, noNaive: true });
    expect(res.status).toBe('certified');
    expect(res.upperBound!).toBeGreaterThanOrEqual(1.859);
    // True Jacobian norm in the all-active region: x with large positive entries.
    const lb = lowerBound(net, 3);
    // The exact 14×14 all-active Jacobian norm is 1.8588889236 (docs/method.md §5.2 rounds it to 1.859).
    expect(lb).toBeGreaterThanOrEqual(1.8588);
    expect(res.upperBound!).toBeGreaterThanOrEqual(lb);
  }, 60_000);
});

describe('pooling gains', () => {
  it('r = t average pool has μ = 1/r² (r = 2: 1/4), overlapping 3/2 per axis 5/9', () => {
    expect(avgPoolGain([8, 8], [2, 2], [2, 2], [0, 0, 0, 0], false)).toBeCloseTo(1 / 4, 10); // r = 2: 1/r²
    expect(avgPoolAxisGain(40, 3, 2, 0, 0, true)).toBeCloseTo(5 / 9, 10);
  });
});

describe('block kinds: certified ≥ lower bound on fresh random nets', () => {
  const cases: [string, (r: Rng) => Network][] = [
    ['conv s1 k3 + dense', (r) => network([2, 6, 6], [conv(r, 2, 3, 3, 1, 1), relu(), flatten([3, 6, 6]), dense(r, 108, 3)], 3)],
    ['conv s2 k4 + conv s3 k5', (r) => network([2, 12, 12], [conv(r, 2, 3, 4, 2, 1), relu(), conv(r, 3, 2, 5, 3, 2)], 2 * 2 * 2)],
    ['conv k1 s1 leaky + conv k2 s2', (r) => network([2, 6, 6], [conv(r, 2, 3, 1), leaky(0.1), conv(r, 3, 2, 2, 2)], 18)],
    ['maxpool 3/2 overlapping', (r) => network([2, 8, 8], [conv(r, 2, 3, 3, 1, 1), relu(), pool('maxpool', 3, 2, 1), flatten([3, 4, 4]), dense(r, 48, 3)], 3)],
    ['avgpool 2/2 and 3/2', (r) => network([2, 8, 8], [conv(r, 2, 3, 3, 1, 1), relu(), pool('avgpool', 3, 2, 1), flatten([3, 4, 4]), dense(r, 48, 3)], 3)],
    ['residual identity', (r) => network([2, 6, 6], [residual([conv(r, 2, 2, 3, 1, 1), relu(), conv(r, 2, 2, 3, 1, 1)]), relu(), flatten([2, 6, 6]), dense(r, 72, 2)], 2)],
    ['residual 1×1 conv shortcut, stride 2', (r) => network([2, 8, 8], [residual([conv(r, 2, 3, 3, 2, 1), relu(), conv(r, 3, 3, 3, 1, 1)], [conv(r, 2, 3, 1, 2, 0)]), relu(), flatten([3, 4, 4]), dense(r, 48, 2)], 2)],
  ];
  for (const [name, make] of cases) {
    it(name, async () => {
      const seed = freshSeed();
      await checkSound(make(new Rng(seed)), seed);
    }, 120_000);
  }

  it('residual blocks with large branch weights (the start needs two multiplier scales to move together)', async () => {
    // Branch kernels ×10: at the default ratios of the start search (τ/λ = 10, λ/τ_w = 100) the
    // stage LMI is infeasible and a one-coordinate-at-a-time search cannot leave that point (this
    // is what happened on layer2.1 of resnet_4b_pgd); the ray search over both ratios must find
    // a start, and the result must certify.
    const seed = freshSeed();
    const r = new Rng(seed);
    const big = (l: Conv2dLayer): Conv2dLayer => ({ ...l, kernel: l.kernel.map((v) => 10 * v) });
    const net = network([3, 6, 6], [residual([big(conv(r, 3, 3, 3, 1, 1)), relu(), big(conv(r, 3, 3, 3, 1, 1))]), relu(), residual([big(conv(r, 3, 3, 3, 1, 1)), relu(), big(conv(r, 3, 3, 3, 1, 1))]), relu(), flatten([3, 6, 6]), dense(r, 108, 2)], 2);
    expect(await startParams(planStages(net).stages, 20), `seed ${seed}`).not.toBeNull();
    await checkSound(net, seed);
  }, 120_000);

  it('NCHW vs NHWC flatten of the same weights give the same bound', async () => {
    const seed = freshSeed();
    const r = new Rng(seed);
    const c = conv(r, 2, 3, 3, 1, 1);
    const d = dense(r, 3 * 4 * 4, 2);
    const nchw = network([2, 4, 4], [c, relu(), flatten([3, 4, 4], 'NCHW'), d], 2);
    // Same function with an NHWC flatten: permute the dense columns accordingly.
    const W = new Float64Array(d.W.data.length);
    for (let i = 0; i < 2; i++) for (let ch = 0; ch < 3; ch++) for (let p = 0; p < 16; p++) W[i * 48 + p * 3 + ch] = d.W.data[i * 48 + ch * 16 + p]!;
    const nhwc = network([2, 4, 4], [c, relu(), flatten([3, 4, 4], 'NHWC'), { ...d, W: { rows: 2, cols: 48, data: W } }], 2);
    const x = new Rng(seed + 1).vec(32, 1);
    expect(Array.from(forward(nhwc, x))).toEqual(Array.from(forward(nchw, x)).map((v, i) => expect.closeTo(v, 12) && forward(nhwc, x)[i]));
    const a = await solveNetwork(nchw, { formulation: 'roesser', maxIter: 200, noNaive: true });
    const b = await solveNetwork(nhwc, { formulation: 'roesser', maxIter: 200, noNaive: true });
    expect(b.upperBound!).toBeCloseTo(a.upperBound!, 6);
  }, 120_000);
});

describe('chain start', () => {
  it('minimiseRhoG finds the minimum of ρ·g(ρ) and stays where g is defined', () => {
    // h(ρ) = ρ + 4/ρ: minimum 4 at ρ = 2; g undefined below ρ = 0.5.
    const evaluate = (rho: number) => (rho < 0.5 ? null : { g: 1 + 4 / (rho * rho) });
    const { rho, r } = runStepsSync(minimiseRhoG((p) => stepsOf(evaluate(p)), 1, evaluate(1)!, 40));
    expect(rho).toBeCloseTo(2, 1);
    expect(rho * r.g).toBeLessThan(4 * 1.001);
    const low = runStepsSync(minimiseRhoG((p: number) => stepsOf(p < 0.9 ? null : { g: 1 + 0.01 / (p * p) }), 1, { g: 1.01 }, 40));
    expect(low.rho).toBeGreaterThanOrEqual(0.9);
  });

  it("certifies at or below the product of the stages' own certified gains (the naive bound)", async () => {
    // Unoptimised per-stage multipliers (perStageIter 0: the grid start) sit at a ρ* ≠ 1 of
    // their stage, so a start that scales each stage by λ_min(Q_in) alone is 3–20 % above the
    // product on these chains; scaling by λ_min(Q_in)/ρ*_k puts it below.
    const seed = freshSeed();
    const r = new Rng(seed);
    const net = network([2, 8, 8], [conv(r, 2, 4, 3, 1, 1), relu(), conv(r, 4, 4, 3, 2, 1), relu(), conv(r, 4, 4, 3, 1, 1), relu(), conv(r, 4, 4, 3, 2, 1), relu(), flatten([4, 2, 2]), dense(r, 16, 3)], 3);
    const plan = planStages(net);
    const singles = new Map<Stage, SingleStage>();
    const start = (await startParams(plan.stages, 0, singles))!;
    expect(start, `seed ${seed}`).not.toBeNull();
    const g0 = runRecursion(plan.stages, start, { rho: 1 })!.g;
    const c = await certifyStages(plan, scaleParams(start, g0), { rhoGuess: g0 });
    expect(c.status, `seed ${seed}`).toBe('certified');
    const naive = await naiveRoesser(plan, singles);
    expect(c.L, `seed ${seed}: start ${c.L} vs product ${naive}`).toBeLessThanOrEqual(naive);
    expect(c.L, `seed ${seed}`).toBeGreaterThanOrEqual(lowerBound(net, seed));
  }, 60_000);
});

describe('optimiser gradient', () => {
  // The second net's storage blocks (32 × 32) are large enough for the SIMD row kernels
  // (linalg/simd) in the parametrisation's products; the first's run on the JavaScript ones.
  it.each([
    ['strided conv, max pool, dense', (r: Rng) => network([2, 6, 6], [conv(r, 2, 2, 3, 1, 1), relu(), conv(r, 2, 3, 3, 2, 1), relu(), pool('maxpool', 2, 1), flatten([3, 2, 2]), dense(r, 12, 4), relu(), dense(r, 4, 2)], 2)],
    ['two 16-channel convs', (r: Rng) => network([16, 5, 5], [conv(r, 16, 16, 3, 1, 1), relu(), conv(r, 16, 16, 3, 1, 1)], 16 * 25)],
  ] as const)('reverse pass matches central finite differences (%s)', async (_name, make) => {
    const seed = freshSeed();
    const r = new Rng(seed);
    const net = make(r);
    const plan = planStages(net);
    const st = (await startParams(plan.stages, 20))!;
    const layout = new ParamLayout(plan.stages);
    const th = layout.pack(st);
    for (let i = 0; i < th.length; i++) th[i] += 1e-4 * Math.sin(1.3 * i);
    const { f, grad } = evaluateConvG(layout, th, 0.01, true);
    expect(Number.isFinite(f)).toBe(true);
    const step = Math.max(1, Math.floor(th.length / 40));
    for (let i = 0; i < th.length; i += step) {
      const h = 1e-6;
      const tp = Float64Array.from(th);
      tp[i] += h;
      const tm = Float64Array.from(th);
      tm[i] -= h;
      const fd = (evaluateConvG(layout, tp, 0.01, false).f - evaluateConvG(layout, tm, 0.01, false).f) / (2 * h);
      expect(Math.abs(grad[i]! - fd), `seed ${seed} θ[${i}]: ${grad[i]} vs ${fd}`).toBeLessThanOrEqual(1e-4 * (Math.abs(fd) + 1e-2 * Math.abs(f)));
    }
  }, 60_000);
});

describe('unrolled formulation', () => {
  it('unrolled FcChain forward equals the network forward', () => {
    const seed = freshSeed();
    const r = new Rng(seed);
    const layers: Layer[] = [conv(r, 2, 3, 3, 2, 1, { dil: 1 }), relu(), { kind: 'pad', pads: [1, 0, 0, 1], name: 'pad' }, pool('avgpool', 2, 2, 1, true), conv(r, 3, 2, 2, 1, 0, { dil: 2 }), relu()];
    const s = chainOutputShape(layers, [2, 8, 8]) as [number, number, number];
    layers.push(flatten(s, 'NHWC'), dense(r, s[0] * s[1] * s[2], 3));
    const net = network([2, 8, 8], layers, 3);
    const chain = unrollNetwork(net);
    for (let t = 0; t < 5; t++) {
      const x = new Rng(seed + t).vec(128, 1);
      const a = forward(net, x);
      const b = fcChainForward(chain, x);
      for (let i = 0; i < a.length; i++) expect(b[i]!).toBeCloseTo(a[i]!, 10);
    }
  });

  it('max pooling and residual blocks are rejected by name', () => {
    const r = new Rng(1);
    expect(() => unrollNetwork(network([1, 4, 4], [conv(r, 1, 1, 3, 1, 1), relu(), pool('maxpool', 2, 2), flatten([1, 2, 2]), dense(r, 4, 1)], 1))).toThrow(/maxpool.*cannot be unrolled/);
  });

  it('Roesser and unrolled both ≥ lower bound on tiny CNNs; unrolled ≤ Roesser', async () => {
    const seed = freshSeed();
    const r = new Rng(seed);
    const net = network([1, 6, 6], [conv(r, 1, 2, 3, 1, 1), relu(), conv(r, 2, 2, 3, 2, 1), relu(), flatten([2, 3, 3]), dense(r, 18, 2)], 2);
    const ro = await checkSound(net, seed, 'roesser');
    const un = await checkSound(net, seed, 'unrolled');
    // Neuron-wise multipliers on the finite image dominate channel-shared ones on the infinite grid.
    expect(un.L).toBeLessThanOrEqual(ro.L * 1.001);
  }, 120_000);
});
