/**
 * The primal-dual Newton solver on the layered stage SDP (src/solver/newton-chain.ts,
 * docs/method.md §6.4):
 *  - its affine model of every stage LMI equals the certifier's own assembly (conv, pooling with
 *    a diagonal interface weight, residual, dense), so it optimises exactly the SDP that is
 *    certified;
 *  - on a fresh random 3-conv chain and a random 6-layer MLP the certified bound from its
 *    multipliers is within 0.1 % of CSDP's optimum of lipdp's SDPA export of the same SDP;
 *  - it is deterministic: two runs give the same bound to 1e-12.
 */
import { describe, expect, it } from 'vitest';
import type { Layer, Network } from '../../src/model/ir.js';
import { planStages } from '../../src/lmi/stage/structure.js';
import { runRecursion } from '../../src/lmi/stage/recursion.js';
import { lmiSize } from '../../src/lmi/stage/stages.js';
import { assembleStageLmi, certifyStages } from '../../src/certify/chain-certify.js';
import { stageLevels, startParams } from '../../src/solver/refine-chain.js';
import { modelHkmHessian, modelStageLmi, newtonChain, newtonFits } from '../../src/solver/newton-chain.js';
import { solveNetwork } from '../../src/pipeline/solve.js';
import { stageSdpOracle } from '../../src/oracle/index.js';
import { freshSeed } from '../helpers/random.js';
import { oracleTestsEnabled } from '../helpers/oracle-policy.js';
import { Rng, conv, dense, flatten, network, pool, relu, residual } from '../conv/helpers.js';

/** Three 3×3 convolutions (c → c, pad 1) with ReLU between them. */
function convChain(r: Rng): Network {
  const c = 3;
  return network([c, 6, 6], [conv(r, c, c, 3, 1, 1), relu(), conv(r, c, c, 3, 1, 1), relu(), conv(r, c, c, 3, 1, 1)], c * 36);
}

/** Six dense layers of width 8 with ReLU between them. */
function mlp(r: Rng): Network {
  const w = 8;
  const layers: Layer[] = [];
  for (let i = 0; i < 6; i++) {
    if (i) layers.push(relu());
    layers.push(dense(r, w, w));
  }
  return network([w], layers, w);
}

const MODEL_NETS: [string, (r: Rng) => Network][] = [
  ['conv chain', convChain],
  ['mlp', mlp],
  ['conv + maxpool 3/2 + dense', (r) => network([1, 8, 8], [conv(r, 1, 2, 3, 1, 1), relu(), pool('maxpool', 3, 2, 1), flatten([2, 4, 4]), dense(r, 32, 2)], 2)],
  ['conv + avgpool + dense', (r) => network([1, 8, 8], [conv(r, 1, 3, 3, 1, 1), relu(), pool('avgpool', 2, 2), flatten([3, 4, 4]), dense(r, 48, 3)], 3)],
  ['strided convs (stride 2 in, stride 2 out)', (r) => network([2, 8, 8], [conv(r, 2, 3, 3, 2, 1), relu(), conv(r, 3, 3, 3, 1, 1), relu(), conv(r, 3, 2, 3, 2, 1)], 8)],
  ['residual identity + dense', (r) => network([2, 5, 5], [residual([conv(r, 2, 2, 3, 1, 1), relu(), conv(r, 2, 2, 3, 1, 1)]), relu(), flatten([2, 5, 5]), dense(r, 50, 2)], 2)],
];

describe('newton-chain: the HKM matrix equals its definition tr(A_i Z A_j Y)', () => {
  /** A random symmetric positive definite n × n matrix. */
  function spd(n: number, r: Rng): Float64Array {
    const B = r.vec(n * n, 1);
    const M = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = i === j ? n : 0;
        for (let q = 0; q < n; q++) s += B[i * n + q]! * B[j * n + q]!;
        M[i * n + j] = s;
      }
    return M;
  }
  // Stages with one and with several storage blocks (strided convs: two systems per stage), pooling, dense.
  for (const [name, make] of MODEL_NETS) {
    it(name, () => {
      const seed = freshSeed();
      const r = new Rng(seed);
      const plan = planStages(make(r));
      plan.stages.forEach((st, k) => {
        const n = lmiSize(st);
        const Z = spd(n, r);
        const Y = spd(n, r);
        const { H, A } = modelHkmHessian(plan.stages, k, Z, Y);
        const nv = A.length;
        // AZ_i = A_i·Z, AY_j = A_j·Y: H_ij = Σ_pq (A_i Z)_pq (A_j Y)_qp.
        const prod = (X: Float64Array, W: Float64Array): Float64Array => {
          const P = new Float64Array(n * n);
          for (let p = 0; p < n; p++) for (let q = 0; q < n; q++) { const x = X[p * n + q]!; if (x !== 0) for (let t = 0; t < n; t++) P[p * n + t] += x * W[q * n + t]!; } // prettier-ignore
          return P;
        };
        const AZ = A.map((Ai) => prod(Ai, Z));
        const AY = A.map((Aj) => prod(Aj, Y));
        let scale = 0;
        const want = new Float64Array(nv * nv);
        for (let i = 0; i < nv; i++)
          for (let j = 0; j < nv; j++) {
            let s = 0;
            let a = 0;
            for (let p = 0; p < n; p++) for (let q = 0; q < n; q++) { s += AZ[i]![p * n + q]! * AY[j]![q * n + p]!; a += Math.abs(AZ[i]![p * n + q]! * AY[j]![q * n + p]!); } // prettier-ignore
            want[i * nv + j] = s;
            scale = Math.max(scale, a);
          }
        for (let i = 0; i < nv * nv; i++) expect(Math.abs(H[i]! - want[i]!), `seed ${seed} stage ${k} entry ${i}`).toBeLessThanOrEqual(1e-12 * scale);
      });
    });
  }
});

describe('newton-chain: the affine stage model equals the certifier’s LMI', () => {
  for (const [name, make] of MODEL_NETS) {
    it(name, async () => {
      const seed = freshSeed();
      const plan = planStages(make(new Rng(seed)));
      const start = (await startParams(plan.stages, 0))!;
      expect(start, `seed ${seed}`).not.toBeNull();
      const rho = [1, 1e3, 1e6, 1e9].find((x) => runRecursion(plan.stages, start, { rho: x }) !== null)!;
      const r = runRecursion(plan.stages, start, { rho })!;
      plan.stages.forEach((st, k) => {
        const c = st.qin.c;
        const Qin = k === 0 ? Float64Array.from({ length: c * c }, (_, i) => (i % (c + 1) === 0 ? rho : 0)) : r.qs[k - 1]!;
        const Qout = st.last ? null : r.qs[k]!;
        const { M } = assembleStageLmi(st, Qin, start[k]!, Qout);
        const Mm = modelStageLmi(plan.stages, k, Qin, start[k]!, Qout);
        let scale = 0;
        for (const v of M) scale = Math.max(scale, Math.abs(v));
        for (let i = 0; i < M.length; i++) expect(Math.abs(Mm[i]! - M[i]!), `seed ${seed} stage ${k} entry ${i}`).toBeLessThanOrEqual(1e-12 * scale);
      });
    });
  }
});

describe('newton-chain: deterministic', () => {
  it('two runs on the same chain give the same bound', async () => {
    const seed = freshSeed();
    const plan = planStages(convChain(new Rng(seed)));
    const start = (await startParams(plan.stages, 0))!;
    const a = (await newtonChain(plan.stages, start))!;
    const b = (await newtonChain(plan.stages, start))!;
    expect(a.converged, `seed ${seed}`).toBe(true);
    expect(Math.abs(a.rho - b.rho)).toBeLessThanOrEqual(1e-12 * a.rho);
    const ca = await certifyStages(plan, a.params, { rhoGuess: a.rho });
    const cb = await certifyStages(plan, b.params, { rhoGuess: b.rho });
    expect(ca.status, `seed ${seed}`).toBe('certified');
    expect(Math.abs(ca.L - cb.L)).toBeLessThanOrEqual(1e-12 * ca.L);
    // The certified bound is the solver's ρ up to the certifier's margins.
    expect(ca.rho / a.rho, `seed ${seed}`).toBeLessThan(1 + 1e-6);
  });
});

describe.runIf(oracleTestsEnabled('csdp'))('newton-chain vs the CSDP optimum of the same SDP', () => {
  const nets: [string, (r: Rng) => Network][] = [['random 3-conv chain', convChain], ['random 6-layer MLP', mlp], ...MODEL_NETS.slice(2)];
  for (const [name, make] of nets) {
    it(name, async () => {
      const seed = freshSeed();
      const net = make(new Rng(seed));
      const plan = planStages(net);
      expect(newtonFits(plan.stages)).toBe(true);
      const ipm = await stageSdpOracle(plan, 'csdp', { levels: (await stageLevels(plan.stages))!, timeoutMs: 50_000 });
      const res = await solveNetwork(net, { formulation: 'roesser', solver: 'newton', noNaive: true });
      expect(res.status, `seed ${seed}`).toBe('certified');
      const L = res.upperBound!;
      console.log(`[newton-chain] ${name} seed ${seed}: lipdp ${L} csdp ${ipm.L} (${ipm.status}) ratio ${(L / ipm.L).toFixed(7)}`);
      expect(L, `seed ${seed}`).toBeGreaterThanOrEqual(ipm.L * (1 - 1e-5));
      expect(L / ipm.L, `seed ${seed}`).toBeLessThan(1.001);
    }, 60_000);
  }
});

