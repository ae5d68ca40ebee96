import { describe, expect, it } from 'vitest';
import { parseSsmJson } from '../../src/model/ssm-json.js';
import { lowerOneD } from '../../src/lmi/oned/stages.js';
import { evaluateOneD, oneDProblem, packParams, scaleOneDParams, startParams } from '../../src/solver/refine-oned.js';
import { certifyOneD } from '../../src/certify/oned-certify.js';
import { buildSsmNetJson } from '../../examples/oned/make-oned-examples.js';
import { gaussian, rng } from './helpers.js';

describe('refine-oned gradient', () => {
  it('matches central finite differences (smoothing and barriers on), at a perturbed point', () => {
    const net = parseSsmJson(buildSsmNetJson());
    const stages = lowerOneD(net);
    const s = startParams(stages);
    if ('unstable' in s) throw new Error('start failed');
    const p = oneDProblem(stages, s.pScale);
    const g = gaussian(rng(4));
    const th = packParams(p, s.params).map((v) => v * (1 + 0.02 * g()));
    const mu = 0.3;
    const beta = 0.01;
    const e = evaluateOneD(p, th, true, mu, beta);
    expect(Number.isFinite(e.f)).toBe(true);
    for (let i = 0; i < th.length; i++) {
      const h = 1e-6 * Math.max(1, Math.abs(th[i]!));
      const tp = th.slice();
      tp[i] += h;
      const tm = th.slice();
      tm[i] -= h;
      const fd = (evaluateOneD(p, tp, false, mu, beta).f - evaluateOneD(p, tm, false, mu, beta).f) / (2 * h);
      expect(Math.abs(fd - e.grad[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
    }
  });
});

describe('oned certificate', () => {
  it('the feasible start certifies, and the verification rejects a P that is not positive definite', async () => {
    const net = parseSsmJson(buildSsmNetJson());
    const stages = lowerOneD(net);
    const s = startParams(stages);
    if ('unstable' in s) throw new Error('start failed');
    const p = oneDProblem(stages, s.pScale);
    const g0 = evaluateOneD(p, packParams(p, s.params), false).f;
    const params = scaleOneDParams(s.params, g0);
    const ok = await certifyOneD(stages, params, { rhoGuess: g0 });
    expect(ok.status).toBe('certified');
    // The smallest ρ for these fixed multipliers is g0 (up to the bisection tolerance and margins).
    expect(ok.rho / g0).toBeGreaterThan(1 - 1e-6);
    expect(ok.rho / g0).toBeLessThan(1.001);
    const badP = params.Ps.map((P) => P.map((v) => -v));
    expect((await certifyOneD(stages, { lambdas: params.lambdas, Ps: badP })).status).toBe('failed');
  });

  it('an unstable SSM has no start (infinite ℓ2 gain)', () => {
    const net = parseSsmJson(JSON.stringify({ input: { channels: 1 }, layers: [{ type: 'ssm', A: [[1.05]], B: [[1]], C: [[1]] }] }));
    const s = startParams(lowerOneD(net));
    expect('unstable' in s).toBe(true);
  });
});
