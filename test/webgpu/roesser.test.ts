/**
 * The Roesser realisation products on the GPU (kernels/roesser.ts) against their f64 CPU
 * definitions (stage-math.ts dissipationProduct / adjointProduct), on the real realisations of
 * fresh random conv / strided / residual stages (sizes not multiples of the 16-wide tiles), with
 * the output buffers poisoned with NaN first so that any element the kernels skip is caught; and
 * the conv and 1-D optimisers driven through those products end at the same certified bound as
 * on the CPU.
 */
import { describe, expect, it } from 'vitest';
import { gpuContextOrSkip, poison, relErr } from './gpu-available.js';
import { GemmKernel } from '../../src/backend/webgpu/kernels/gemm.js';
import { GpuRoesserProducts, SplitRoesserProducts } from '../../src/backend/webgpu/kernels/roesser.js';
import { adjointProduct, dissipationProduct } from '../../src/lmi/stage/stage-math.js';
import { planStages } from '../../src/lmi/stage/structure.js';
import { solveNetwork } from '../../src/pipeline/solve.js';
import { WebGpuBackend } from '../../src/backend/webgpu/webgpu-backend.js';
import { freshSeed } from '../helpers/random.js';
import { Rng, conv, dense, flatten, network, relu, residual } from '../conv/helpers.js';
import { importOnnx } from '../../src/model/import.js';
import { loadSsmJson } from '../../src/model/ssm-json.js';

const ctx = await gpuContextOrSkip();

function randomSpd(r: Rng, n: number): Float64Array {
  const M = r.vec(n * n, 1);
  const P = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = i === j ? 0.5 : 0;
      for (let k = 0; k < n; k++) s += M[i * n + k]! * M[j * n + k]!;
      P[i * n + j] = s / n;
    }
  return P;
}

describe.skipIf(!ctx)('webgpu Roesser products vs f64', () => {
  it('dissipation −FᵀPF and adjoint FΠFᵀ for every system of conv, strided and residual stages', async () => {
    const c = ctx!;
    const seed = freshSeed();
    const r = new Rng(seed);
    const net = network(
      [3, 12, 12],
      [conv(r, 3, 5, 3, 1, 1), relu(), conv(r, 5, 7, 4, 2, 1), relu(), residual([conv(r, 7, 7, 3, 1, 1), relu(), conv(r, 7, 7, 3, 1, 1)]), relu(), conv(r, 7, 3, 5, 1, 2)],
      3 * 6 * 6,
    );
    const systems = planStages(net).stages.flatMap((st) => st.systems);
    expect(systems.length).toBeGreaterThanOrEqual(5);
    const gpu = new GpuRoesserProducts(c, await GemmKernel.create(c), systems);
    try {
      const P = systems.map((sy) => ({ P1: randomSpd(r, sy.nx1), P2: randomSpd(r, sy.nx2) }));
      const bufs = (gpu as unknown as { bufs: Record<string, GPUBuffer> }).bufs;
      poison(c, bufs.DD!, bufs.DD!.size / 4);
      poison(c, bufs.PF!, bufs.PF!.size / 4);
      const D = await gpu.dissipation(P);
      let worstD = 0;
      systems.forEach((sy, j) => {
        const e = relErr(D[j]!, dissipationProduct(sy, P[j]!.P1, P[j]!.P2));
        worstD = Math.max(worstD, e);
        expect(e, `seed ${seed} system ${j} (${sy.nx1}+${sy.nx2} states, ${sy.nin} inputs)`).toBeLessThan(1e-5);
      });
      const Pi = systems.map((sy) => randomSpd(r, sy.nx1 + sy.nx2 + sy.nin));
      poison(c, bufs.X!, bufs.X!.size / 4);
      const X = await gpu.adjoint(Pi);
      let worstX = 0;
      systems.forEach((sy, j) => {
        const e = relErr(X[j]!, adjointProduct(sy, Pi[j]!));
        worstX = Math.max(worstX, e);
        expect(e, `seed ${seed} system ${j}`).toBeLessThan(1e-5);
      });
      console.log(`roesser products (${systems.length} systems): dissipation max rel err ${worstD.toExponential(2)}, adjoint ${worstX.toExponential(2)}`);
    } finally {
      gpu.dispose();
    }
  });

  it('work larger than one storage binding is split into groups with identical results; one oversized system is refused by name', async () => {
    const c = ctx!;
    const seed = freshSeed();
    const r = new Rng(seed);
    const net = network([3, 10, 10], [conv(r, 3, 6, 3, 1, 1), relu(), conv(r, 6, 6, 3, 1, 1), relu(), conv(r, 6, 6, 5, 1, 2), relu(), conv(r, 6, 2, 3, 1, 1)], 200);
    const systems = planStages(net).stages.flatMap((st) => st.systems);
    const gemm = await GemmKernel.create(c);
    const whole = new GpuRoesserProducts(c, gemm, systems);
    const largest = Math.max(...systems.map((sy) => 4 * Math.max((sy.nx1 + sy.nx2) * (sy.nx1 + sy.nx2 + sy.nin), (sy.nx1 + sy.nx2 + sy.nin) ** 2)));
    const split = new SplitRoesserProducts(c, gemm, systems, largest);
    try {
      expect(split.parts, `seed ${seed}`).toBeGreaterThan(1);
      const P = systems.map((sy) => ({ P1: randomSpd(r, sy.nx1), P2: randomSpd(r, sy.nx2) }));
      const [a, b] = [await whole.dissipation(P), await split.dissipation(P)];
      systems.forEach((_, j) => expect(relErr(b[j]!, a[j]!), `system ${j}`).toBe(0));
      const Pi = systems.map((sy) => randomSpd(r, sy.nx1 + sy.nx2 + sy.nin));
      const [x, y] = [await whole.adjoint(Pi), await split.adjoint(Pi)];
      systems.forEach((_, j) => expect(relErr(y[j]!, x[j]!), `system ${j}`).toBe(0));
      expect(() => new SplitRoesserProducts(c, gemm, systems, largest - 4)).toThrow(/model too large for this device: Roesser system '.*' needs \d+ bytes/);
    } finally {
      whole.dispose();
      split.dispose();
    }
  });

  it('the conv optimiser on WebGPU products certifies the same bound as on the CPU (0.5%)', async () => {
    const seed = freshSeed();
    const r = new Rng(seed);
    const net = network([2, 8, 8], [conv(r, 2, 4, 3, 1, 1), relu(), conv(r, 4, 4, 3, 2, 1), relu(), flatten([4, 4, 4]), dense(r, 64, 3)], 3);
    const backend = await WebGpuBackend.create();
    try {
      // L-BFGS, whose gradients use the backend's products (Newton, the default on so small a
      // chain, runs on the CPU and would make the comparison vacuous).
      const cpu = await solveNetwork(net, { formulation: 'roesser', noNaive: true, maxIter: 3000, solver: 'lbfgs' });
      const gpu = await solveNetwork(net, { formulation: 'roesser', noNaive: true, maxIter: 3000, solver: 'lbfgs', backend });
      expect(backend.traffic().submissions, 'the device ran the products').toBeGreaterThan(0);
      expect(cpu.status, `seed ${seed}`).toBe('certified');
      expect(gpu.status, `seed ${seed}`).toBe('certified');
      console.log(`[webgpu-conv] seed ${seed}: cpu ${cpu.upperBound} webgpu ${gpu.upperBound}`);
      expect(Math.abs(gpu.upperBound! / cpu.upperBound! - 1), `seed ${seed}`).toBeLessThan(5e-3);
    } finally {
      backend.dispose();
    }
  }, 300_000);

  it('1-D examples (Conv1d net, SSM net): the optimiser on WebGPU products certifies the CPU bound (0.5%)', async () => {
    const backend = await WebGpuBackend.create();
    try {
      for (const [name, net] of [['cnn1d.onnx', await importOnnx('examples/oned/cnn1d.onnx')], ['ssm-net.json', await loadSsmJson('examples/oned/ssm-net.json')]] as const) {
        const before = backend.traffic().submissions;
        const cpu = await solveNetwork(net, { noNaive: true, solver: 'lbfgs' });
        const gpu = await solveNetwork(net, { noNaive: true, solver: 'lbfgs', backend });
        expect(backend.traffic().submissions, `${name}: the device ran the products`).toBeGreaterThan(before);
        expect(cpu.status, name).toBe('certified');
        expect(gpu.status, name).toBe('certified');
        expect(gpu.bufferBytes, name).toBeGreaterThan(0);
        console.log(`[webgpu-oned] ${name}: cpu ${cpu.upperBound} webgpu ${gpu.upperBound}`);
        expect(Math.abs(gpu.upperBound! / cpu.upperBound! - 1), name).toBeLessThan(5e-3);
      }
    } finally {
      backend.dispose();
    }
  }, 300_000);
});
