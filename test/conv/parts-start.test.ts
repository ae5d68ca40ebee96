/**
 * The chain start from certificates of parts (src/solver/parts-start.ts): the whole is never
 * looser than the product of its parts, on fresh random conv chains.
 */
import { describe, expect, it } from 'vitest';
import { planStages } from '../../src/lmi/stage/structure.js';
import { runRecursion } from '../../src/lmi/stage/recursion.js';
import { certifyStages } from '../../src/certify/chain-certify.js';
import { chainParts, leafCuts, segment, startFromParts } from '../../src/solver/parts-start.js';
import { refineStages, scaleParams, startParams } from '../../src/solver/refine-chain.js';
import { solveNetwork } from '../../src/pipeline/solve.js';
import type { Layer } from '../../src/model/ir.js';
import type { Stage } from '../../src/lmi/stage/stages.js';
import { Rng, conv, lowerBound, network, relu, residual } from './helpers.js';

const SEED = (Date.now() % 100_000) + 1;

/** A chain of `n` 3×3 convs (c → c, pad 1) with ReLU between, the last one linear. */
function convChain(seed: number, n: number, c = 2, hw = 5) {
  const r = new Rng(seed);
  const layers: Layer[] = [];
  for (let k = 0; k < n; k++) {
    if (k) layers.push(relu());
    layers.push(conv(r, c, c, 3, 1, 1));
  }
  return network([c, hw, hw], layers, c * hw * hw);
}

const g = (stages: readonly Stage[], params: Parameters<typeof runRecursion>[1]): number => runRecursion(stages, params, { rho: 1 })!.g;

describe('parts start', () => {
  it('cuts chains into runs of at most 4 stages with at most one residual block', () => {
    const r = new Rng(3);
    const block = (): Layer => residual([conv(r, 2, 2, 3, 1, 1), relu(), conv(r, 2, 2, 3, 1, 1)]);
    const net = network([2, 4, 4], [conv(r, 2, 2, 3, 1, 1), relu(), block(), relu(), block(), relu(), conv(r, 2, 2, 3, 1, 1), relu(), conv(r, 2, 2, 3, 1, 1)], 32);
    const stages = planStages(net).stages;
    const kinds = stages.map((s) => s.kind);
    const cuts = leafCuts(stages);
    expect(cuts[0]).toBe(0);
    expect(cuts[cuts.length - 1]).toBe(stages.length);
    for (let i = 0; i + 1 < cuts.length; i++) {
      const part = kinds.slice(cuts[i], cuts[i + 1]);
      expect(part.length).toBeGreaterThan(0);
      expect(part.length).toBeLessThanOrEqual(4);
      expect(part.filter((k) => k === 'residual').length).toBeLessThanOrEqual(1);
    }
    expect(cuts.length - 1).toBeGreaterThanOrEqual(2);
  });

  it(`chained parts certify the whole at the product of the parts' gains (seed ${SEED})`, async () => {
    const stages = planStages(convChain(SEED, 6)).stages;
    const cut = 3;
    const parts = [];
    for (const [from, to] of [
      [0, cut],
      [cut, stages.length],
    ] as const) {
      const seg = segment(stages, from, to);
      const start = await startParams(seg, 100);
      const ref = await refineStages(seg, start!, { maxIter: 200 });
      parts.push({ from, to, params: ref.params, g: ref.g });
    }
    const joined = (await chainParts(stages, parts))!;
    expect(joined).not.toBeNull();
    const gWhole = g(stages, joined);
    // ReLU joins lose nothing: ρ of the whole ≤ the product of the parts' ρ (to rounding).
    expect(gWhole).toBeLessThanOrEqual(parts[0]!.g * parts[1]!.g * (1 + 1e-9));
    // And the certifier proves it on the whole chain.
    const cert = await certifyStages({ stages, outerGain: 1 }, scaleParams(joined, gWhole), { rhoGuess: gWhole });
    expect(cert.status).toBe('certified');
    expect(cert.L).toBeLessThanOrEqual(Math.sqrt(parts[0]!.g * parts[1]!.g) * (1 + 1e-6));
  });

  it(`the whole never certifies looser than its parts, and stays above the lower bound (seed ${SEED})`, async () => {
    const net = convChain(SEED + 1, 7);
    const stages = planStages(net).stages;
    const res = await startFromParts(stages, { partIter: 200 });
    expect(res).not.toBeNull();
    const product = res!.top.reduce((acc, p) => acc * p.g, 1);
    expect(g(stages, res!.start)).toBeLessThanOrEqual(product * (1 + 1e-9));
    const whole = await solveNetwork(net, { formulation: 'roesser', maxIter: 300, noNaive: true });
    expect(whole.status).toBe('certified');
    // Each top part certified on its own (as lipdp would certify that sub-network).
    let partsBound = 1;
    for (const p of res!.top) {
      const seg = segment(stages, p.from, p.to);
      const c = await certifyStages({ stages: seg, outerGain: 1 }, scaleParams(p.params, p.g), { rhoGuess: p.g });
      expect(c.status).toBe('certified');
      partsBound *= c.L;
    }
    expect(whole.upperBound!).toBeLessThanOrEqual(partsBound * (1 + 1e-6));
    expect(whole.upperBound!).toBeGreaterThanOrEqual(lowerBound(net, SEED, 3));
  });
});
