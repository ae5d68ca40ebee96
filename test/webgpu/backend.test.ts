/**
 * The whole ProblemOps of WebGpuBackend against CpuBackend (f64) on random layered fc problems:
 * every op, widths that are not multiples of any workgroup size, blocks on both sides of the
 * shared-memory Jacobi limit, outputs poisoned with NaN before each op.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuContextOrSkip } from './gpu-available.js';
import { WebGpuBackend } from '../../src/backend/webgpu/webgpu-backend.js';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import type { ProblemOps, Vec } from '../../src/backend/backend.js';
import { layoutFcChain, type LayeredSdp } from '../../src/lmi/problem.js';
import { randomLayers } from '../helpers/chains.js';
import { freshSeed, gaussian, mulberry32 } from '../helpers/random.js';

const ctx = await gpuContextOrSkip();

/** Max |a−b| relative to max(1, ‖b‖∞). */
function rel(a: Float64Array, b: Float64Array): number {
  let scale = 1, e = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) return Infinity;
    e = Math.max(e, Math.abs(a[i] - b[i]));
  }
  return e / scale;
}

/** Symmetric random fill of every block of an s-vector (the cone projection expects symmetric blocks). */
function randomS(p: LayeredSdp, g: () => number): Float64Array {
  const s = new Float64Array(p.sLength).map(() => g());
  for (const b of p.blocks)
    for (let i = 0; i < b.size; i++)
      for (let j = 0; j < i; j++) s[b.sOffset + j * b.size + i] = s[b.sOffset + i * b.size + j];
  return s;
}

function randomX(p: LayeredSdp, g: () => number): Float64Array {
  const x = new Float64Array(p.xLength).map(() => g());
  // Symmetric Q's (as the solver keeps them).
  for (const q of p.qVars) for (let i = 0; i < q.size; i++) for (let j = 0; j < i; j++) x[q.offset + j * q.size + i] = x[q.offset + i * q.size + j];
  return x;
}

const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));

const CASES: { name: string; widths: number[]; slopes?: { alpha: number; beta: number } }[] = [
  { name: 'single linear layer (fcLast on ρI)', widths: [5, 3] },
  { name: '2 layers, ReLU slopes', widths: [3, 17, 1] },
  { name: '3 layers, leaky slopes, odd widths', widths: [17, 33, 5, 3], slopes: { alpha: 0.1, beta: 1 } },
  { name: '4 layers, wide (blocks above the shared Jacobi limit)', widths: [33, 65, 40, 17, 2], slopes: { alpha: 0.25, beta: 1 } },
  { name: 'αβ = 0 and a width-1 hidden layer', widths: [3, 1, 17, 4], slopes: { alpha: 0, beta: 1 } },
];

describe.skipIf(!ctx)('WebGpuBackend ProblemOps vs CpuBackend', () => {
  let gpu: WebGpuBackend;
  const cpu = new CpuBackend();
  beforeAll(async () => {
    gpu = await WebGpuBackend.create();
  });
  afterAll(() => gpu?.dispose());

  it('reports name, precision and adapter info', () => {
    expect(gpu.name).toBe('webgpu');
    expect(gpu.precision).toBe('f32');
    expect(gpu.adapter).toBeDefined();
    console.log('adapter:', JSON.stringify(gpu.adapter), 'shared Jacobi max n =', gpu.sharedJacobiMax);
  });

  for (const tc of CASES)
    it(`every op agrees: ${tc.name} (widths ${tc.widths.join('-')})`, async () => {
      const seed = freshSeed();
      const g = gaussian(mulberry32(seed ^ 0x5eed));
      const p = layoutFcChain(randomLayers(tc.widths, seed, tc.slopes ?? { alpha: 0, beta: 1 }));
      const G = await gpu.prepare(p);
      const C = await cpu.prepare(p);
      const nanX = new Float64Array(p.xLength).fill(NaN);
      const nanS = new Float64Array(p.sLength).fill(NaN);
      const tag = `seed ${seed}`;
      const errs: Record<string, number> = {};
      const both = (ops: ProblemOps[], f: (o: ProblemOps) => Vec) => ops.map(f);

      // Inputs rounded to f32 so only the kernels' arithmetic is compared.
      const x0 = f32(randomX(p, g)), s0 = f32(randomS(p, g)), x1 = f32(randomX(p, g));
      const [gx, cx] = both([G, C], (o) => o.createVector('x', x0));
      const [gs, cs] = both([G, C], (o) => o.createVector('s', s0));
      const [gx1, cx1] = both([G, C], (o) => o.createVector('x', x1));
      const [gxo, cxo] = both([G, C], (o) => o.createVector('x', nanX));
      const [gso, cso] = both([G, C], (o) => o.createVector('s', nanS));

      // read/write round trip
      expect(rel(await G.read(gx), x0), tag).toBe(0);

      // applyA (output poisoned)
      G.applyA(gx, gso);
      C.applyA(cx, cso);
      errs.applyA = rel(await G.read(gso), await C.read(cso));

      // applyAT
      G.write(gxo, nanX);
      G.applyAT(gs, gxo);
      C.applyAT(cs, cxo);
      errs.applyAT = rel(await G.read(gxo), await C.read(cxo));

      // solveNormal, distinct and aliased in/out
      G.write(gxo, nanX);
      G.solveNormal(gx, gxo);
      C.solveNormal(cx, cxo);
      errs.solveNormal = rel(await G.read(gxo), await C.read(cxo));
      G.solveNormal(gx1, gx1);
      C.solveNormal(cx1, cx1);
      errs.solveNormalAliased = rel(await G.read(gx1), await C.read(cx1));
      G.write(gx1, x1);
      C.write(cx1, x1);

      // projectCone (in place)
      const [gp, cp] = both([G, C], (o) => o.createVector('s', s0));
      G.projectCone(gp);
      C.projectCone(cp);
      errs.projectCone = rel(await G.read(gp), await C.read(cp));

      // lincomb: 1, 2, 3 terms, aliased output, z without y ignored
      G.write(gxo, nanX);
      G.lincomb(gxo, 0.5, gx, -2, gx1, 0.25, gx);
      C.lincomb(cxo, 0.5, cx, -2, cx1, 0.25, cx);
      errs.lincomb3 = rel(await G.read(gxo), await C.read(cxo));
      G.lincomb(gxo, 1.5, gxo, 3, gx);
      C.lincomb(cxo, 1.5, cxo, 3, cx);
      errs.lincombAliased = rel(await G.read(gxo), await C.read(cxo));
      G.lincomb(gxo, -1, gx);
      C.lincomb(cxo, -1, cx);
      errs.lincomb1 = rel(await G.read(gxo), await C.read(cxo));
      G.lincomb(gso, 2, gs, 0, undefined, 5, gs);
      C.lincomb(cso, 2, cs, 0, undefined, 5, cs);
      errs.lincombZnoY = rel(await G.read(gso), await C.read(cso));

      // norms: several vectors of both spaces in one round trip
      // (reference: f64 norms of the very f32 vectors the GPU holds, so upstream differences
      // — e.g. in the projection — do not count against the reduction)
      const gn = await G.norms([gx, gs, gx1, gp]);
      const cn = (await Promise.all([gx, gs, gx1, gp].map((v) => G.read(v)))).map((a) => Math.sqrt(a.reduce((t, v) => t + v * v, 0)));
      errs.norms = Math.max(...gn.map((v, i) => Math.abs(v - cn[i]) / Math.max(1, cn[i])));

      // dots: same-space pairs (incl. a vector with itself), vs f64 dots of the GPU-held f32 vectors
      const pairs = [[gx, gx1], [gs, gp], [gx, gx]] as const;
      const gd = await G.dots(pairs);
      const hd = await Promise.all(pairs.map(async ([a, b]) => {
        const [u, v] = [await G.read(a), await G.read(b)];
        let d = 0, nu = 0, nv = 0;
        for (let i = 0; i < u.length; i++) { d += u[i] * v[i]; nu += u[i] * u[i]; nv += v[i] * v[i]; }
        return [d, Math.sqrt(nu * nv)];
      }));
      errs.dots = Math.max(...gd.map((v, i) => Math.abs(v - hd[i][0]) / Math.max(1, hd[i][1])));
      expect(G.bufferBytes()).toBeGreaterThan(0);
      // Bounds (f32, inputs O(1)): elementwise ops ~1e-6; block products are short dot products
      // (≤ 65 terms) then the normal solve amplifies by cond(reduced system); the Jacobi PSD
      // projection error is ~1e-5·n.
      const maxN = Math.max(...p.blocks.map((b) => b.size));
      const bound: Record<string, number> = {
        applyA: 1e-5, applyAT: 1e-5, solveNormal: 1e-4, solveNormalAliased: 1e-4, projectCone: 2e-5 * maxN,
        lincomb3: 1e-6, lincombAliased: 1e-6, lincomb1: 1e-7, lincombZnoY: 1e-6, norms: 1e-6, dots: 1e-6,
      };
      console.log(`${tc.name}: ${Object.entries(errs).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ')}`);
      for (const [k, v] of Object.entries(errs)) expect(v, `${tag} ${k}`).toBeLessThan(bound[k]);
      G.dispose();
      C.dispose();
    });

  it('rejects vectors of another space or problem with a clear error', async () => {
    const p = layoutFcChain(randomLayers([3, 4, 2], 1));
    const G = await gpu.prepare(p);
    const H = await gpu.prepare(p);
    const x = G.createVector('x');
    const s = G.createVector('s');
    expect(() => G.applyA(s, x)).toThrow(/x-vector/);
    expect(() => H.projectCone(s)).toThrow(/not a vector of this problem/);
    G.dispose();
    H.dispose();
  });
});
