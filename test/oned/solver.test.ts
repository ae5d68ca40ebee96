/**
 * 1-D signal networks on the solver core: the lowering to the stage chain (lmi/oned/stages.ts
 * oneDStagePlan), the certificate's verdict on good and bad multipliers, and the Schur test that
 * refuses unstable layers.
 */
import { describe, expect, it } from 'vitest';
import { parseSsmJson } from '../../src/model/ssm-json.js';
import { importOnnx } from '../../src/model/import.js';
import { lowerOneD, oneDStagePlan, schurStable } from '../../src/lmi/oned/stages.js';
import { lmiSize } from '../../src/lmi/stage/stages.js';
import { startParams, scaleParams } from '../../src/solver/refine-chain.js';
import { recursionSteps } from '../../src/lmi/stage/recursion.js';
import { runSteps } from '../../src/solver/budget.js';
import { certifyStages } from '../../src/certify/chain-certify.js';
import { solveNetwork } from '../../src/pipeline/solve.js';
import { buildSsmNetJson } from '../../examples/oned/make-oned-examples.js';
import { gaussian, rng } from './helpers.js';

describe('1-D stages as a stage chain', () => {
  it('z = [u; x], v = D u + C x, Q̃ = I_stride ⊗ Q_in, one Roesser system with horizontal state only', async () => {
    const net = await importOnnx('examples/oned/cnn1d.onnx');
    const stages = lowerOneD(net);
    const plan = oneDStagePlan(stages);
    // LMI sizes nx + stride·cin + cout (hidden stages), nx + stride·cin (the last).
    expect(plan.stages.map(lmiSize)).toEqual(stages.map((o, k) => o.sys.A.rows + o.sys.B.cols + (k < stages.length - 1 ? o.cout : 0)));
    plan.stages.forEach((st, k) => {
      const o = stages[k]!;
      const nx = o.sys.A.rows;
      const nin = o.sys.B.cols;
      expect(st.qin).toEqual({ c: o.cin, rep: o.stride, order: 'pixel-major' });
      expect(st.nz).toBe(nin + nx);
      expect(st.last).toBe(k === stages.length - 1);
      if (nx > 0) expect(st.systems[0]).toMatchObject({ nx1: 0, nx2: nx, xOff: nin, inOff: 0, nin });
      // v = G z reproduces D u + C x on a random z.
      const g = gaussian(rng(k + 1));
      const z = Float64Array.from({ length: st.nz }, () => g());
      for (let i = 0; i < o.cout; i++) {
        let v = 0;
        let ref = 0;
        for (let j = 0; j < st.nz; j++) v += st.out.G.data[i * st.nz + j]! * z[j]!;
        for (let j = 0; j < nin; j++) ref += o.sys.D.data[i * nin + j]! * z[j]!;
        for (let j = 0; j < nx; j++) ref += o.sys.C.data[i * nx + j]! * z[nin + j]!;
        expect(v).toBeCloseTo(ref, 12);
      }
    });
    expect(plan.stages.some((st) => st.qin.rep > 1)).toBe(true);
  });

  it('the start certifies at its own g; the certificate rejects a P that is not positive definite', async () => {
    const plan = oneDStagePlan(lowerOneD(parseSsmJson(buildSsmNetJson())));
    const start = (await startParams(plan.stages, 0))!;
    const g0 = (await runSteps(recursionSteps(plan.stages, start, { rho: 1 })))!.g;
    const params = scaleParams(start, g0);
    const ok = await certifyStages(plan, params, { rhoGuess: g0 });
    expect(ok.status).toBe('certified');
    expect(ok.rho / g0).toBeGreaterThan(1 - 1e-6);
    expect(ok.rho / g0).toBeLessThan(1.001);
    const k = plan.stages.findIndex((st) => st.systems.length > 0);
    const bad = params.map((p, i) => (i === k ? { ...p, P: p.P.map((b) => ({ P1: b.P1, P2: b.P2.map((v) => -v) })) } : p));
    expect((await certifyStages(plan, bad, { rhoGuess: g0 })).status).toBe('failed');
  });
});

describe('Schur stability of 1-D layers', () => {
  it('stable: a rotation of radius 0.99, a Jordan-like [[0.9, 5], [0, 0.9]] (‖A‖ > 5); unstable: radius 1.01 and 1', () => {
    const m = (a: number, b: number, c: number, d: number) => ({ rows: 2, cols: 2, data: Float64Array.of(a, b, c, d) });
    const rot = (r: number) => m(r * Math.cos(0.3), r * Math.sin(0.3), -r * Math.sin(0.3), r * Math.cos(0.3));
    expect(schurStable(rot(0.99))).toBe(true);
    expect(schurStable(m(0.9, 5, 0, 0.9))).toBe(true);
    expect(schurStable(rot(1.01))).toBe(false);
    expect(schurStable(rot(1))).toBe(false);
  });

  it('an unstable SSM fails with a one-line reason naming the stage (its ℓ2 gain is infinite)', async () => {
    const net = parseSsmJson(JSON.stringify({ input: { channels: 1 }, layers: [{ type: 'ssm', A: [[1.05]], B: [[1]], C: [[1]] }] }));
    const r = await solveNetwork(net);
    expect(r.status).toBe('failed');
    expect(r.upperBound).toBeNull();
    expect(r.reason).toMatch(/stage 0 .*not Schur stable/);
  });
});
