/**
 * Dense chains on the one solver core (src/pipeline/solve.ts, formulation 'fc'): the wide first
 * layer planned as ρ ⊗ I_n (verified with m × m tests), the certifier's recursion on the compressed
 * first stage, the schedule rule, the public certifyFcChain adapter, and a fresh random dense net
 * against CSDP's optimum of the same SDP.
 */
import { describe, expect, it } from 'vitest';
import { planStages } from '../../src/lmi/stage/structure.js';
import { compressFirstStage } from '../../src/lmi/stage/compress.js';
import { isKronDense, type StageParams } from '../../src/lmi/stage/stages.js';
import { certifyStages } from '../../src/certify/chain-certify.js';
import { certifyFcChain } from '../../src/certify/fc-certify.js';
import { recursionSteps } from '../../src/lmi/stage/recursion.js';
import { chooseFormulation, solveNetwork } from '../../src/pipeline/solve.js';
import { ParamLayout, ROESSER_SCHEDULE, STATELESS_SCHEDULE, evaluateConvG, scheduleFor, scaleParams, stageLevels, startParams } from '../../src/solver/refine-chain.js';
import { stageSdpOracle } from '../../src/oracle/index.js';
import { chainNetwork, toFcChain } from '../../src/model/lower.js';
import { runStepsSync } from '../../src/util/steps.js';
import { freshSeed } from '../helpers/random.js';
import { oracleTestsEnabled } from '../helpers/oracle-policy.js';
import { Rng, conv, dense, lowerBound, network, relu, tanh } from './helpers.js';

/** The multipliers of the closed-form start, scaled to certify at their own g. */
async function startOf(stages: Parameters<typeof startParams>[0]): Promise<{ params: StageParams[]; g: number }> {
  const p = (await startParams(stages, 0))!;
  const g = runStepsSync(recursionSteps(stages, p, { rho: 1 }))!.g;
  return { params: scaleParams(p, g), g };
}

describe('dense chains on the solver core', () => {
  it('plans a wide first layer as ρ ⊗ I_n and certifies it like the plain n × n form, from the compressed recursion', async () => {
    const seed = freshSeed();
    const r = new Rng(seed);
    const net = network([90], [dense(r, 90, 12), relu(), dense(r, 12, 9), tanh(), dense(r, 9, 4)], 4);
    const plan = planStages(net);
    const first = plan.stages[0]!;
    expect(first.qin).toEqual({ c: 1, rep: 90, order: 'channel-major' });
    expect(isKronDense(first)).toBe(true);
    // The same chain with the first stage's incoming weight as a plain 90 × 90 matrix.
    const plain = { ...plan, stages: [{ ...first, qin: { c: 90, rep: 1, order: 'channel-major' as const } }, ...plan.stages.slice(1)] };
    expect(isKronDense(plain.stages[0]!)).toBe(false);
    const compressed = compressFirstStage(plan).stages;
    expect(compressed[0]!.nz).toBe(12);
    const { params, g } = await startOf(compressed);
    const kron = await certifyStages(plan, params, { rhoGuess: g, recursionStages: compressed });
    const full = await certifyStages(plain, params, { rhoGuess: g });
    expect(kron.status, `seed ${seed}`).toBe('certified');
    expect(full.status, `seed ${seed}`).toBe('certified');
    expect(Math.abs(kron.L / full.L - 1), `seed ${seed}: ${kron.L} vs ${full.L}`).toBeLessThan(1e-6);
    expect(kron.L, `seed ${seed}`).toBeGreaterThanOrEqual(lowerBound(net, seed));
  });

  it('refuses recursion stages that do not match the plan', async () => {
    const r = new Rng(3);
    const plan = planStages(network([20], [dense(r, 20, 6), relu(), dense(r, 6, 2)], 2));
    const { params, g } = await startOf(compressFirstStage(plan).stages);
    await expect(certifyStages(plan, params, { rhoGuess: g, recursionStages: plan.stages.slice(1) })).rejects.toThrow(/recursion stages/);
  });

  it('picks the formulation and the schedule by the chain', () => {
    const r = new Rng(5);
    const mlp = network([10], [dense(r, 10, 8), relu(), dense(r, 8, 3)], 3);
    const cnn = network([1, 6, 6], [conv(r, 1, 2, 3, 1, 1), relu(), conv(r, 2, 1, 3, 1, 1)], 36);
    expect(chooseFormulation(mlp, 'auto')).toBe('fc');
    expect(chooseFormulation(mlp, 'fc')).toBe('fc');
    expect(chooseFormulation(mlp, 'roesser')).toBe('roesser');
    expect(chooseFormulation(cnn, 'fc')).not.toBe('fc');
    expect(scheduleFor(planStages(mlp).stages)).toBe(STATELESS_SCHEDULE);
    expect(scheduleFor(planStages(cnn).stages)).toBe(ROESSER_SCHEDULE);
  });

  it('the stateless barrier (log det N left out where N = Q_in): value and reverse-pass gradient', async () => {
    const seed = freshSeed();
    const r = new Rng(seed);
    const plan = compressFirstStage(planStages(network([24], [dense(r, 24, 7), relu(), dense(r, 7, 6), tanh(), dense(r, 6, 3)], 3)));
    const layout = new ParamLayout(plan.stages);
    const th = layout.pack((await startParams(plan.stages, 0))!);
    for (let i = 0; i < th.length; i++) th[i] += 0.05 * Math.sin(1.3 * i + seed);
    const [mu, barrier] = [0.01, 0.02];
    const plain = evaluateConvG(layout, th, mu, false, 0).f;
    const all = evaluateConvG(layout, th, mu, false, barrier, false).f;
    const { f, grad } = evaluateConvG(layout, th, mu, true, barrier, true);
    // Every stage here has N = Q_in (dense, αβ = 0): leaving log det N out changes the value.
    expect(Number.isFinite(f) && Number.isFinite(all) && Number.isFinite(plain), `seed ${seed}`).toBe(true);
    expect(f, `seed ${seed}`).not.toBe(all);
    expect(f, `seed ${seed}`).not.toBe(plain);
    for (let i = 0; i < th.length; i++) {
      const h = 1e-6;
      const tp = Float64Array.from(th);
      tp[i] += h;
      const tm = Float64Array.from(th);
      tm[i] -= h;
      const fd = (evaluateConvG(layout, tp, mu, false, barrier, true).f - evaluateConvG(layout, tm, mu, false, barrier, true).f) / (2 * h);
      expect(Math.abs(grad[i]! - fd), `seed ${seed} θ[${i}]: ${grad[i]} vs ${fd}`).toBeLessThanOrEqual(1e-4 * (Math.abs(fd) + 1e-2 * Math.abs(f)));
    }
  });

  it('certifyFcChain: the adapter certifies given multipliers and rejects bad ones', async () => {
    const seed = freshSeed();
    const r = new Rng(seed);
    const net = network([30], [dense(r, 30, 8), relu(), dense(r, 8, 6), relu(), dense(r, 6, 3)], 3);
    const chain = toFcChain(net);
    const plan = planStages(chainNetwork(chain, 'test'));
    const { params, g } = await startOf(compressFirstStage(plan).stages);
    const lambdas = params.slice(0, -1).map((p) => p.lamOut!);
    const cert = await certifyFcChain(chain, lambdas, { rhoGuess: g });
    expect(cert.status, `seed ${seed}`).toBe('certified');
    expect(cert.L, `seed ${seed}`).toBeGreaterThanOrEqual(lowerBound(net, seed));
    const negative = lambdas.map((l, k) => (k === 0 ? l.map((v, i) => (i === 0 ? -v : v)) : l));
    expect((await certifyFcChain(chain, negative, { rhoGuess: g })).status).toBe('failed');
    await expect(certifyFcChain(chain, lambdas.slice(1))).rejects.toThrow(/need 2 multiplier vectors/);
  });

  it.runIf(oracleTestsEnabled('csdp'))('a random 3-layer net: the default path certifies within 1e-5 of CSDP on the same SDP', async () => {
    const seed = freshSeed();
    const r = new Rng(seed);
    const net = network([40], [dense(r, 40, 16), relu(), dense(r, 16, 12), tanh(), dense(r, 12, 5)], 5);
    const res = await solveNetwork(net, { formulation: 'auto' });
    expect(res.formulation).toBe('fc');
    expect(res.status, `seed ${seed}`).toBe('certified');
    const plan = planStages(chainNetwork(toFcChain(net), 'test'));
    const ipm = await stageSdpOracle(plan, 'csdp', { levels: (await stageLevels(plan.stages))!, timeoutMs: 60_000 });
    console.log(`[dense-core] seed ${seed}: lipdp ${res.upperBound} csdp ${ipm.L} (${ipm.status}) ratio ${(res.upperBound! / ipm.L).toFixed(8)}`);
    expect(res.upperBound!, `seed ${seed}`).toBeGreaterThanOrEqual(ipm.L * (1 - 1e-6));
    expect(res.upperBound! / ipm.L, `seed ${seed}`).toBeLessThan(1 + 1e-5);
  }, 90_000);
});
