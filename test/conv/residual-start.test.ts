/**
 * The residual-stage start composed from its systems' own certificates (src/solver/residual-start.ts):
 * the S-procedure step for the inner activation, and the composed multipliers on fresh random
 * residual blocks — they must make the stage LMI hold at the composed ρ, and the certified gain
 * must be ≥ the block's empirical lower bound.
 */
import { describe, expect, it } from 'vitest';
import type { Layer } from '../../src/model/ir.js';
import { planStages } from '../../src/lmi/stage/structure.js';
import { stageForward } from '../../src/lmi/stage/stage-math.js';
import { runRecursion } from '../../src/lmi/stage/recursion.js';
import type { Stage } from '../../src/lmi/stage/stages.js';
import { certifyStages } from '../../src/certify/chain-certify.js';
import { refineStages, scaleParams, startParams } from '../../src/solver/refine-chain.js';
import { composeResidual, isResidualStage, qcStep, systemStage, type SystemCertificate } from '../../src/solver/residual-start.js';
import { freshSeed } from '../helpers/random.js';
import { Rng, conv, leaky, lowerBound, network, relu, residual } from './helpers.js';

function identity(n: number): Float64Array {
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  return I;
}

describe('QC step of the composition', () => {
  for (const [name, a, c] of [
    ['ReLU / tanh slope [0, 1]', 0, 1],
    ['LeakyReLU 0.1: [0.1, 1]', 0.1, 1.1],
    ['slope [−0.5, 1]', -0.5, 0.5],
    ['slope [0, 2]', 0, 2],
  ] as const) {
    it(name, () => {
      const { t, delta, beta2 } = qcStep(a, c);
      // ((1+δ)β² + 2ta)(2t − 1) ≥ t²c² with 2t > 1: the form in (v, w) is PSD.
      expect(2 * t).toBeGreaterThan(1);
      expect(((1 + delta) * beta2 + 2 * t * a) * (2 * t - 1)).toBeGreaterThanOrEqual(t * t * c * c);
      // ... and its 2×2 matrix really is PSD (checked independently of the formula above).
      const m11 = (1 + delta) * beta2 + 2 * t * a;
      const m12 = -t * c;
      const m22 = 2 * t - 1;
      expect(m11).toBeGreaterThan(0);
      expect(m11 * m22 - m12 * m12).toBeGreaterThanOrEqual(0);
      if (a === 0 && c === 1) expect(delta).toBeLessThan(0.051); // ReLU: no loss beyond the margin
    });
  }
});

describe('composed residual start on fresh random blocks', () => {
  const cases: [string, (r: Rng) => Layer[], number[]][] = [
    ['identity shortcut, ReLU', (r) => [residual([conv(r, 3, 3, 3, 1, 1), relu(), conv(r, 3, 3, 3, 1, 1)])], [3, 7, 7]],
    ['1×1 conv shortcut, stride 2, LeakyReLU', (r) => [residual([conv(r, 2, 3, 3, 2, 1), leaky(0.1), conv(r, 3, 3, 3, 1, 1)], [conv(r, 2, 3, 1, 2, 0)])], [2, 8, 8]],
  ];
  for (const [name, make, shape] of cases) {
    it(name, async () => {
      const seed = freshSeed();
      const r = new Rng(seed);
      const layers = make(r);
      const outSize = shape[1]! * shape[2]! * 3 / (name.includes('stride 2') ? 4 : 1);
      const net = network(shape, layers, outSize);
      const plan = planStages(net);
      expect(plan.stages.length).toBe(1);
      const st: Stage = plan.stages[0]!;
      expect(isResidualStage(st)).toBe(true);
      const own: SystemCertificate[] = [];
      for (let j = 0; j < 3; j++) {
        const ss = systemStage(st, j);
        const p = (await startParams([ss], 0))!;
        const ref = await refineStages([ss], p, { maxIter: 300 });
        own.push({ P1: ref.params[0]!.P[0]!.P1, P2: ref.params[0]!.P[0]!.P2, sigma: ref.g });
      }
      const { prm, rho } = composeResidual(st, own);
      const fw = stageForward(st, identity(st.qin.c), prm);
      expect(fw, `seed ${seed}: composed multipliers infeasible`).not.toBeNull();
      // The LMI holds at the composed ρ (normalised multipliers certify σ ≤ ρ).
      expect(fw!.g!, `seed ${seed}`).toBeLessThanOrEqual(rho * (1 + 1e-9));
      // Certified (f64, rigorous) from these multipliers, and sound against the true block.
      const g = runRecursion([st], [prm], { rho: 1 })!.g;
      const cert = await certifyStages(plan, scaleParams([prm], g), { rhoGuess: g });
      expect(cert.status, `seed ${seed}`).toBe('certified');
      expect(cert.L, `seed ${seed}`).toBeGreaterThanOrEqual(lowerBound(net, seed));
      expect(cert.L).toBeLessThanOrEqual(Math.sqrt(rho) * (1 + 1e-6));
    }, 120_000);
  }
});
