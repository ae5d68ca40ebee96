/**
 * Kernel benchmarks, CPU (f64 reference) vs WebGPU (f32): time and GFLOP/s against block and
 * batch size for the PSD projection, Cholesky / triangular solves, GEMM, and the Roesser realisation products of conv chains. Prints Markdown tables.   Run: npx tsx bench/kernels.ts [--quick]
 *
 * FLOP counts are nominal (the work of the textbook dense algorithm, not what each implementation
 * executes): PSD projection 10n³ per block (≈ 9n³ for a symmetric eigendecomposition with vectors
 * plus the reconstruction), Cholesky n³/3, the two triangular solves 2n², GEMM 2MNK.
 * GPU times include submission and a wait for queue completion (no read-back).
 */
import { WebGpuBackend } from '../src/backend/webgpu/webgpu-backend.js';
import { CpuBackend } from '../src/backend/cpu/cpu-backend.js';
import { acquireGpu } from '../src/backend/webgpu/device.js';
import { GpuContext } from '../src/backend/webgpu/context.js';
import { PsdKernel } from '../src/backend/webgpu/kernels/psd.js';
import { GemmKernel, timeVariants } from '../src/backend/webgpu/kernels/gemm.js';
import { CHOLESKY_BLOCK, CholeskyKernels, NO_TRANSPOSE } from '../src/backend/webgpu/kernels/cholesky.js';
import { projectPsdInPlace } from '../src/linalg/eig.js';
import { choleskyInPlace, choleskySolve } from '../src/linalg/cholesky.js';
import type { Layer } from '../src/model/ir.js';
import { planStages } from '../src/lmi/stage/structure.js';

const quick = process.argv.includes('--quick');
const MIN_TIME = quick ? 0.05 : 0.3; // seconds per measurement

let seed = 12345;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;

function sym(n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rnd();
  return a;
}

function spd(n: number): Float64Array {
  const g = new Float64Array(n * n).map(rnd);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = i === j ? 1 : 0;
      for (let k = 0; k < n; k++) s += (g[i * n + k] * g[j * n + k]) / n;
      a[i * n + j] = a[j * n + i] = s;
    }
  return a;
}

/** Mean seconds per call of a synchronous CPU function. */
function timeCpu(f: () => void): number {
  f();
  let reps = 0;
  const t0 = performance.now();
  do {
    f();
    reps++;
  } while ((performance.now() - t0) / 1000 < MIN_TIME);
  return (performance.now() - t0) / 1000 / reps;
}

/** Mean seconds per call of GPU work (enqueue, then wait for the queue). */
/** Seconds per call of an awaited function, repeated for at least MIN_TIME. */
async function timeAsync(f: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  let reps = 0;
  do {
    await f();
    reps++;
  } while ((performance.now() - t0) / 1000 < MIN_TIME);
  return (performance.now() - t0) / 1000 / reps;
}

async function timeGpu(dev: GPUDevice, f: () => void | Promise<unknown>): Promise<number> {
  await f();
  await dev.queue.onSubmittedWorkDone();
  let reps = 0;
  const t0 = performance.now();
  do {
    await f();
    await dev.queue.onSubmittedWorkDone();
    reps++;
  } while ((performance.now() - t0) / 1000 < MIN_TIME);
  return (performance.now() - t0) / 1000 / reps;
}

const ms = (s: number) => (s * 1e3).toFixed(s < 1e-3 ? 3 : 2);
const gf = (flops: number, s: number) => (flops / s / 1e9).toFixed(3);

function table(title: string, head: string[], rows: (string | number)[][]): void {
  console.log(`\n### ${title}\n`);
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

async function main(): Promise<void> {
  const gpu = await acquireGpu();
  const ctx = new GpuContext(gpu);
  const dev = ctx.device;
  const info = gpu.info;
  console.log(`Adapter: ${info.vendor ?? '?'} / ${info.architecture ?? '?'} / ${info.device ?? '?'} (${info.description ?? ''})`);

  // ---- PSD projection ----
  const psd = await PsdKernel.create(ctx);
  const psdRows: (string | number)[][] = [];
  const psdCases: [number, number][] = quick
    ? [[16, 1], [16, 64], [63, 16], [100, 1]]
    : [[8, 1], [8, 256], [16, 1], [16, 64], [32, 16], [32, 64], [63, 1], [63, 16], [63, 64], [100, 1], [100, 8], [129, 4]];
  for (const [n, batch] of psdCases) {
    const mats = Array.from({ length: batch }, () => sym(n));
    const host = new Float32Array(batch * n * n);
    mats.forEach((m, k) => host.set(m, k * n * n));
    const buf = ctx.upload(host, 'psd bench');
    const plan = psd.plan(mats.map((_, k) => ({ offset: k * n * n, size: n })));
    const tg = await timeGpu(dev, () => {
      ctx.write(buf, 0, host); // fresh input each time (projection is idempotent otherwise)
      ctx.run((pass) => plan.record(pass, buf));
    });
    const work = mats.map((m) => m.slice());
    const tc = timeCpu(() => work.forEach((m, k) => (m.set(mats[k]), projectPsdInPlace(m, n))));
    const flops = 10 * n ** 3 * batch;
    psdRows.push([n, batch, n <= psd.nmax ? 'shared' : 'global', ms(tc), gf(flops, tc), ms(tg), gf(flops, tg), (tc / tg).toFixed(2)]);
    plan.destroy();
    buf.destroy();
  }
  table(`PSD projection (shared-memory Jacobi up to n = ${psd.nmax})`, ['n', 'batch', 'GPU route', 'CPU ms', 'CPU GFLOP/s', 'GPU ms', 'GPU GFLOP/s', 'CPU/GPU'], psdRows);

  // ---- Cholesky and triangular solves ----
  const chol = await CholeskyKernels.create(ctx);
  const cholRows: (string | number)[][] = [];
  const cholCases: [number, number][] = quick ? [[33, 8], [129, 1]] : [[17, 64], [33, 16], [65, 8], [129, 1], [129, 8], [257, 1], [513, 1], [1025, 1]];
  const cholGemm = await GemmKernel.create(ctx);
  for (const [n, batch] of cholCases) {
    const mats = Array.from({ length: batch }, () => spd(n));
    const host = new Float32Array(batch * n * n);
    mats.forEach((m, k) => host.set(m, k * n * n));
    const buf = ctx.upload(host, 'chol bench');
    const info = ctx.storage(4 * batch, 'info');
    const fplan = chol.planFactor(buf, mats.map((_, k) => ({ off: k * n * n, n })), info);
    const tgF = await timeGpu(dev, () => {
      ctx.write(buf, 0, host);
      ctx.run((pass) => fplan.record(pass));
    });
    const rhs = ctx.storage(4 * n * batch, 'rhs');
    const tplan = chol.planTri('solve', buf, mats.map((_, k) => ({ n, lOff: k * n * n, uOff: NO_TRANSPOSE, bOff: k * n })));
    const tgS = await timeGpu(dev, () => ctx.run((pass) => tplan.record(pass, rhs)));
    const work = mats.map((m) => m.slice());
    const tcF = timeCpu(() => work.forEach((m, k) => (m.set(mats[k]), choleskyInPlace(m, n))));
    const b = new Float64Array(n);
    const tcS = timeCpu(() => work.forEach((m) => (b.fill(1), choleskySolve(m, n, b))));
    // The blocked route (GEMM trailing updates) for single matrices larger than one panel.
    let blocked = ['–', '–'];
    if (batch === 1 && n > CHOLESKY_BLOCK) {
      const bplan = chol.planBlockedFactor(buf, 0, n, info, cholGemm);
      const tgB = await timeGpu(dev, () => {
        ctx.write(buf, 0, host);
        ctx.run((pass) => bplan.record(pass));
      });
      blocked = [ms(tgB), gf(n ** 3 / 3, tgB)];
      bplan.destroy();
    }
    cholRows.push([n, batch, ms(tcF), gf((n ** 3 / 3) * batch, tcF), ms(tgF), gf((n ** 3 / 3) * batch, tgF), ...blocked, ms(tcS), ms(tgS)]);
    fplan.destroy();
    tplan.destroy();
    [buf, info, rhs].forEach((x) => x.destroy());
  }
  table(`Cholesky factorisation and the two triangular solves (GPU: one workgroup per matrix; blocked: ${CHOLESKY_BLOCK}-column panels, trailing update by the ${cholGemm.variant} GEMM)`, ['n', 'batch', 'CPU factor ms', 'CPU GFLOP/s', 'GPU factor ms', 'GPU GFLOP/s', 'GPU blocked ms', 'GPU blocked GFLOP/s', 'CPU solve ms', 'GPU solve ms'], cholRows);

  // ---- GEMM ----
  const tuned = await timeVariants(ctx);
  const pick = await GemmKernel.create(ctx);
  console.log(`GEMM variant picked for ${gpu.info.description}: ${pick.variant} (4 × 128³: tiled ${tuned.tiled.toFixed(2)} ms, register ${tuned.register.toFixed(2)} ms)`);
  const gemmRows: (string | number)[][] = [];
  const gemmCases: [number, number][] = quick ? [[64, 8], [256, 1]] : [[33, 64], [64, 16], [128, 4], [256, 1], [256, 4], [512, 1]];
  for (const [n, batch] of gemmCases) {
    const A = new Float64Array(batch * n * n).map(rnd);
    const B = new Float64Array(batch * n * n).map(rnd);
    const ab = ctx.upload(A, 'A'), bb = ctx.upload(B, 'B'), cb = ctx.storage(batch * n * n * 4, 'C');
    const C = new Float64Array(n * n);
    const tc = timeCpu(() => {
      for (let k = 0; k < batch; k++) {
        const o = k * n * n;
        C.fill(0);
        for (let kk = 0; kk < n; kk++)
          for (let i = 0; i < n; i++) {
            const a = A[o + kk * n + i];
            for (let j = 0; j < n; j++) C[i * n + j] += a * B[o + kk * n + j];
          }
      }
    });
    const flops = 2 * n ** 3 * batch;
    const row: (string | number)[] = [`${n}×${n}×${n}`, batch, ms(tc), gf(flops, tc)];
    for (const variant of ['tiled', 'register'] as const) {
      const plan = (await GemmKernel.create(ctx, variant)).plan(Array.from({ length: batch }, (_, k) => ({ M: n, N: n, K: n, transA: true, aOff: k * n * n, lda: n, bOff: k * n * n, ldb: n, cOff: k * n * n, ldc: n, alpha: 1, beta: 0 })));
      const tg = await timeGpu(dev, () => ctx.run((pass) => plan.record(pass, ab, bb, cb, 'bench')));
      row.push(ms(tg), gf(flops, tg));
      if (variant === pick.variant) row.push((tc / tg).toFixed(2));
      plan.destroy();
    }
    gemmRows.push(row);
    [ab, bb, cb].forEach((x) => x.destroy());
  }
  table(`GEMM C = AᵀB (f64 triple loop on the CPU vs the two f32 WGSL variants; picked: ${pick.variant})`, ['shape', 'batch', 'CPU ms', 'CPU GFLOP/s', 'tiled ms', 'tiled GFLOP/s', 'register ms', 'register GFLOP/s', 'CPU/picked'], gemmRows.map((r) => (pick.variant === 'tiled' ? [...r.slice(0, 6), ...r.slice(7), r[6]!] : r)));

  const wgpu = await WebGpuBackend.create();
  const cpu = new CpuBackend();
  // ---- Roesser realisation products of a conv chain (one optimiser evaluation's worth) ----
  const roesserRows: (string | number)[][] = [];
  const chains: [number, number][] = quick ? [[8, 3]] : [[8, 3], [16, 5], [32, 3], [32, 9]];
  for (const [ch, depth] of chains) {
    const layers: Layer[] = [];
    for (let k = 0; k < depth; k++) {
      const cin = k === 0 ? 3 : ch;
      layers.push({ kind: 'conv2d', kernel: new Float64Array(ch * cin * 9).map(() => rnd() / Math.sqrt(9 * cin)), cout: ch, cin, kh: 3, kw: 3, bias: new Float64Array(ch), stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], groups: 1, name: `c${k}` });
      if (k < depth - 1) layers.push({ kind: 'activation', fn: 'relu', slope: { alpha: 0, beta: 1 }, name: `r${k}` });
    }
    const systems = planStages({ inputShape: [3, 16, 16], layers, outputSize: ch * 256, source: 'bench' }).stages.flatMap((st) => st.systems);
    const P = systems.map((sy) => ({ P1: spd(sy.nx1), P2: spd(sy.nx2) }));
    const Pi = systems.map((sy) => spd(sy.nx1 + sy.nx2 + sy.nin));
    const gpuProd = await wgpu.roesserProducts(systems);
    const cpuProd = await cpu.roesserProducts(systems);
    const both = (prod: typeof gpuProd) => async () => {
      await prod.dissipation(P);
      await prod.adjoint(Pi);
    };
    const tc = await timeAsync(both(cpuProd));
    const tg = await timeAsync(both(gpuProd));
    // PF (nx·nx·d), FᵀPF (d·d·nx), FΠ (nx·d·d), FΠFᵀ (nx·nx·d), 2 flops each.
    const flops = systems.reduce((a, sy) => {
      const nx = sy.nx1 + sy.nx2;
      const d = nx + sy.nin;
      return a + 2 * (2 * nx * nx * d + 2 * d * d * nx);
    }, 0);
    const sizes = [...new Set(systems.map((sy) => `${sy.nx1 + sy.nx2}×${sy.nx1 + sy.nx2 + sy.nin}`))].join(', ');
    roesserRows.push([`${depth}× conv 3×3, ${ch} ch`, systems.length, sizes, ms(tc), gf(flops, tc), ms(tg), gf(flops, tg), (tc / tg).toFixed(2)]);
    gpuProd.dispose();
  }
  table('Roesser products −FᵀPF and FΠFᵀ for every system of a conv chain (incl. upload and read-back on the GPU)', ['chain', 'systems', 'F sizes (nx×d)', 'CPU ms', 'CPU GFLOP/s', 'GPU ms', 'GPU GFLOP/s', 'CPU/GPU'], roesserRows);
  wgpu.dispose();
  dev.destroy();
}

await main();
