import { describe, expect, it } from 'vitest';
import { gpuContextOrSkip, noGpuErrors, readF32, relErr } from './gpu-available.js';
import { PsdKernel } from '../../src/backend/webgpu/kernels/psd.js';
import { projectPsdInPlace } from '../../src/linalg/eig.js';
import { freshSeed, mulberry32, randomSymmetric } from '../helpers/random.js';

const ctx = await gpuContextOrSkip();

/** Runs the batched projection on blocks of the given sizes, returns max relative error vs f64. */
async function check(sizes: number[], nmaxOverride?: number): Promise<number> {
  const seed = freshSeed();
  const rand = mulberry32(seed);
  const c = ctx!;
  const kernel = await PsdKernel.create(c, nmaxOverride);
  // Blocks separated by a guard gap that must stay untouched (NaN-free check below).
  const blocks: { offset: number; size: number }[] = [];
  let off = 3;
  const mats: Float64Array[] = [];
  for (const n of sizes) {
    blocks.push({ offset: off, size: n });
    mats.push(randomSymmetric(n, rand));
    off += n * n + 5;
  }
  const host = new Float32Array(off).fill(7);
  blocks.forEach((b, k) => host.set(mats[k], b.offset));
  const buf = c.storage(off * 4, 'psd test');
  c.write(buf, 0, host);
  const plan = kernel.plan(blocks);
  const out = await noGpuErrors(c, async () => {
    c.run((pass) => plan.record(pass, buf));
    return readF32(c, buf, off);
  });
  let worst = 0;
  blocks.forEach((b, k) => {
    // Reference on the f32-rounded input so only the kernel's error is measured.
    const ref = Float64Array.from(Float32Array.from(mats[k]));
    projectPsdInPlace(ref, b.size);
    const got = out.subarray(b.offset, b.offset + b.size * b.size);
    const e = relErr(got, ref);
    worst = Math.max(worst, e);
    // Error bound for f32 Jacobi: ~1e-5·n relative to max(1, max|Π|) (ε_f32·n·sweeps with margin).
    expect(e, `seed ${seed} block ${k} n=${b.size}`).toBeLessThan(2e-5 * Math.max(b.size, 4));
  });
  // Gaps between blocks are untouched.
  for (let i = 0; i < off; i++) if (!blocks.some((b) => i >= b.offset && i < b.offset + b.size * b.size)) expect(out[i]).toBe(7);
  plan.destroy();
  buf.destroy();
  return worst;
}

describe.skipIf(!ctx)('webgpu PSD projection (Jacobi) vs f64 eig', () => {
  it('shared-memory kernel, mixed sizes 1..nmax in one batch', async () => {
    const k = await PsdKernel.create(ctx!);
    const e = await check([1, 3, 17, 2, 33, 5, k.nmax, 8]);
    console.log(`psd shared (nmax=${k.nmax}): max rel err ${e.toExponential(2)}`);
  });
  it('global-memory kernel for big blocks (65, 100, 129) mixed with small ones', async () => {
    const e = await check([65, 3, 100, 17, 129]);
    console.log(`psd global: max rel err ${e.toExponential(2)}`);
  });
  it('global kernel handles small sizes too (forced nmax=4)', async () => {
    await check([1, 3, 5, 17, 33], 4);
  });
  it('PSD and NSD inputs: identity-like and zero results', async () => {
    const c = ctx!;
    const kernel = await PsdKernel.create(c);
    const n = 17;
    const rand = mulberry32(freshSeed());
    const b = randomSymmetric(n, rand);
    // B Bᵀ is PSD (projection = itself), −B Bᵀ is NSD (projection = 0).
    const g = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) g[i * n + j] += b[i * n + k] * b[j * n + k];
    const host = new Float32Array(2 * n * n);
    host.set(g, 0);
    host.set(g.map((v) => -v), n * n);
    const buf = c.storage(host.byteLength, 'psd test 2');
    c.write(buf, 0, host);
    const plan = kernel.plan([{ offset: 0, size: n }, { offset: n * n, size: n }]);
    c.run((pass) => plan.record(pass, buf));
    const out = await readF32(c, buf, 2 * n * n);
    expect(relErr(out.subarray(0, n * n), Float32Array.from(g))).toBeLessThan(1e-4);
    expect(relErr(out.subarray(n * n), new Float64Array(n * n))).toBeLessThan(1e-4);
    plan.destroy();
    buf.destroy();
  });
});
