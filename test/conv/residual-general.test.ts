/**
 * Residual blocks whose branch is any chain of linear pieces and activations (docs/method.md §5):
 * conv → act → scale (Sub join), a one-conv branch, a three-conv branch, a strided branch ending in
 * a scale with a 1×1 strided conv shortcut, and the §5.2 delay counterexample with the factor as a
 * trailing scale. Models are built as ONNX (test/conv/residual-models.ts) and imported. Each bound
 * must certify, be ≥ an independent empirical lower bound, ≤ the naive product of the stages' own
 * gains, and on these small nets come within 0.5 % of CSDP's optimum of the exported SDP.
 */
import { describe, expect, it } from 'vitest';
import type { Network } from '../../src/model/ir.js';
import { jvp, sizeOf, layerInputShape } from '../../src/model/index.js';
import { LipdpError } from '../../src/model/errors.js';
import { planStages } from '../../src/lmi/stage/structure.js';
import { solveNetwork } from '../../src/pipeline/solve.js';
import { stageSdpOracle } from '../../src/oracle/index.js';
import { stageLevels } from '../../src/solver/refine-chain.js';
import { symEig } from '../../src/linalg/eig.js';
import { freshSeed } from '../helpers/random.js';
import { oracleTestsEnabled } from '../helpers/oracle-policy.js';
import { Rng, conv, dense, flatten, leaky, lowerBound, network, relu, residual } from './helpers.js';
import { type ConvBlock, convResNet, delayCounterexample } from './residual-models.js';

const KINDS: ConvBlock[] = ['conv-act-scale', 'one-conv', 'three-conv', 'strided-scale'];

/** ‖J‖₂ of the network at x (J assembled column by column with jvp). */
function jacobianNorm(net: Network, x: Float64Array): number {
  const n = x.length;
  const cols: Float64Array[] = [];
  const e = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    e[j] = 1;
    cols.push(Float64Array.from(jvp(net, x, e)));
    e[j] = 0;
  }
  const m = cols[0]!.length;
  const H = new Float64Array(n * n);
  for (let a = 0; a < n; a++)
    for (let b = a; b < n; b++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += cols[a]![i]! * cols[b]![i]!;
      H[a * n + b] = H[b * n + a] = s;
    }
  return Math.sqrt(symEig(H, n).values[n - 1]!);
}

describe('general residual branches: structure', () => {
  it('every block is one residual stage with one system per conv (+ skip) and one QC per inner activation', () => {
    const expect_ = { 'conv-act-scale': [2, 1], 'one-conv': [2, 0], 'three-conv': [4, 2], 'strided-scale': [3, 1] } as const;
    for (const kind of KINDS) {
      const plan = planStages(convResNet(kind, 1));
      const st = plan.stages[0]!;
      expect(st.kind, kind).toBe('residual');
      expect([st.systems.length, st.internal.length], kind).toEqual(expect_[kind]);
      expect(plan.stages.length, kind).toBe(2);
    }
  });

  it('a Sub join is a residual block whose subtracted path ends in ×(−1) (merged with the ×0.9: −0.9)', () => {
    const net = convResNet('conv-act-scale', 2);
    const res = net.layers[0]!;
    expect(res.kind).toBe('residual');
    if (res.kind !== 'residual') return;
    expect(res.shortcut).toEqual([]);
    const last = planStages(net) && res.branch[res.branch.length - 1]!;
    expect(last.kind).toBe('scaleshift');
    if (last.kind === 'scaleshift') for (const v of last.scale) expect(v).toBeCloseTo(-0.9, 6);
  });

  it('an activation feeding a padded conv inside the branch is modelled with a slope interval containing 0', () => {
    const r = new Rng(3);
    // leaky(0.1) → padded conv: [0.1, 1] widened to [0, 1] (a = αβ = 0); → scale only: kept.
    const padded = planStages(network([2, 5, 5], [residual([conv(r, 2, 2, 3, 1, 1), leaky(0.1), conv(r, 2, 2, 3, 1, 1)]), relu(), conv(r, 2, 1, 5)], 1));
    expect(padded.stages[0]!.internal[0]!.a).toBe(0);
    const unpadded = planStages(network([2, 5, 5], [residual([conv(r, 2, 2, 3, 1, 1), leaky(0.1), conv(r, 2, 2, 1)]), relu(), conv(r, 2, 1, 5)], 1));
    expect(unpadded.stages[0]!.internal[0]!.a).toBeCloseTo(0.1, 15);
  });

  it('still refused, one line naming the layer: two convs without an activation between them in a branch', () => {
    const r = new Rng(4);
    const c2 = conv(r, 2, 2, 3, 1, 1);
    const net = network([2, 5, 5], [residual([conv(r, 2, 2, 3, 1, 1), c2]), relu(), conv(r, 2, 1, 5)], 1);
    expect(() => planStages(net)).toThrow(LipdpError);
    expect(() => planStages(net)).toThrow(new RegExp(`layer '${c2.name}'.*two convs without an activation`));
  });
});

describe('general residual branches: still refused, one line naming the layer', () => {
  it('a strided conv that is not the first conv of the branch', () => {
    const r = new Rng(5);
    const c2 = conv(r, 2, 2, 3, 2, 1);
    const net = network([2, 6, 6], [residual([conv(r, 2, 2, 3, 1, 1), relu(), c2], [conv(r, 2, 2, 1, 2)]), relu(), conv(r, 2, 1, 3)], 1);
    expect(() => planStages(net)).toThrow(new RegExp(`layer '${c2.name}'.*only the first conv`));
  });

  it('a residual block on the flatten of a feature map', () => {
    const r = new Rng(6);
    const blk = residual([dense(r, 18, 18), relu(), dense(r, 18, 18)]);
    const net = network([2, 3, 3], [conv(r, 2, 2, 3, 1, 1), relu(), flatten([2, 3, 3]), blk, relu(), dense(r, 18, 2)], 2);
    expect(() => planStages(net)).toThrow(new RegExp(`layer '${blk.name}'.*directly after the flatten`));
  });
});

describe('general residual branches: certified, ≥ lower bound, ≤ naive product', () => {
  for (const kind of KINDS) {
    it(kind, async () => {
      const seed = freshSeed();
      const net = convResNet(kind, seed);
      const t = performance.now();
      const res = await solveNetwork(net, { formulation: 'roesser' });
      const secs = (performance.now() - t) / 1000;
      expect(res.status, `seed ${seed}`).toBe('certified');
      const L = res.upperBound!;
      const lower = lowerBound(net, seed);
      console.log(`[residual-general] ${kind} seed ${seed}: L ${L} naive ${res.naiveBound} lower ${lower} (${secs.toFixed(1)} s)`);
      expect(L, `seed ${seed}`).toBeGreaterThanOrEqual(lower);
      expect(L, `seed ${seed}`).toBeLessThanOrEqual(res.naiveBound!);
      if (oracleTestsEnabled('csdp')) {
        const plan = planStages(net);
        const ipm = await stageSdpOracle(plan, 'csdp', { levels: (await stageLevels(plan.stages))!, timeoutMs: 60_000 });
        console.log(`[residual-general] ${kind} seed ${seed}: csdp ${ipm.L} (${ipm.status}) ratio ${(L / ipm.L).toFixed(6)}`);
        // Nothing verifies below the SDP optimum (up to the IPM's accuracy); the optimiser gets close.
        expect(L, `seed ${seed}`).toBeGreaterThanOrEqual(ipm.L * (1 - 1e-5));
        // Within 0.5 % of the IPM, also where CSDP ends "inaccurate" (the strided block's
        // pure-delay skip drives its P toward infinity; the certifier takes any P, and the
        // interior-point solve lands within 1e-4 on 24 seeds of that kind).
        expect(L / ipm.L, `seed ${seed}`).toBeLessThan(1.005);
      }
    }, 60_000);
  }
});

describe('docs/method.md §5.2 delay counterexample with a trailing scale in the branch', () => {
  for (const taps of [1, 2] as const) {
    it(`u − 0.9·ReLU(shift u), ${taps} tap conv(s), ×0.9 after the activation: certified ≥ the true constant`, async () => {
      const net = delayCounterexample(taps);
      const plan = planStages(net);
      expect(plan.stages.length).toBe(1);
      const res = await solveNetwork(net, { formulation: 'roesser' });
      expect(res.status).toBe('certified');
      const L = res.upperBound!;
      // All ReLUs active (large positive input): the block is linear there, u ↦ u − 0.9·S u, so its
      // Jacobian norm is a lower bound on the Lipschitz constant.
      const n = sizeOf(layerInputShape(net));
      const x = Float64Array.from({ length: n }, (_, i) => 10 + (i % 7) * 0.1);
      const exact = jacobianNorm(net, x);
      const lower = lowerBound(net, 3);
      console.log(`[residual-general] counterexample ${taps} tap(s): L ${L} all-active ‖J‖ ${exact} lower ${lower}`);
      // 2 taps is the network of docs/method.md §5.2 (‖J‖ = 1.8588889236 on 14×14 with the factor
      // 0.9 exactly; the ONNX file stores it in float32, 0.89999998, which moves ‖J‖ by 2e-8).
      if (taps === 2) expect(exact).toBeCloseTo(1.8588889236, 6);
      expect(exact).toBeGreaterThan(1.8);
      expect(L).toBeGreaterThanOrEqual(exact);
      expect(L).toBeGreaterThanOrEqual(lower);
    }, 60_000);
  }
});
