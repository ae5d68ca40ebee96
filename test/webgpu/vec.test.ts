import { describe, expect, it } from 'vitest';
import { gpuContextOrSkip, noGpuErrors, poison, readF32, relErr } from './gpu-available.js';
import { VecKernels } from '../../src/backend/webgpu/kernels/vec.js';
import { freshSeed, gaussian, mulberry32 } from '../helpers/random.js';

const ctx = await gpuContextOrSkip();
const SIZES = [1, 3, 17, 33, 65, 100, 129, 1023, 70_001];

describe.skipIf(!ctx)('webgpu vec_ops vs f64', () => {
  it('lincomb with 1, 2, 3 terms and aliased output, poisoned output, sizes 1..70001', async () => {
    const c = ctx!;
    const vk = await VecKernels.create(c);
    const seed = freshSeed();
    const g = gaussian(mulberry32(seed));
    for (const n of SIZES) {
      const [x, y, z] = [0, 1, 2].map(() => Float64Array.from(Float32Array.from(new Float64Array(n).map(() => g()))));
      const [bx, by, bz] = [x, y, z].map((a) => c.upload(a, 'v'));
      const out = c.storage(n * 4, 'out');
      await noGpuErrors(c, async () => {
        for (const terms of [1, 2, 3]) {
          poison(c, out, n);
          vk.lincomb(out, n, 0.5, bx, terms > 1 ? -1.5 : 0, terms > 1 ? by : undefined, terms > 2 ? 2 : 0, terms > 2 ? bz : undefined);
          const ref = x.map((v, i) => 0.5 * v + (terms > 1 ? -1.5 * y[i] : 0) + (terms > 2 ? 2 * z[i] : 0));
          // 3 products + 2 adds in f32: ≤ ~4 ulp of the largest term.
          expect(relErr(await readF32(c, out, n), ref), `seed ${seed} n=${n} terms=${terms}`).toBeLessThan(3e-6);
        }
        // aliased: y ← 2y − x + y
        vk.lincomb(by, n, 2, by, -1, bx, 1, by);
        expect(relErr(await readF32(c, by, n), y.map((v, i) => 3 * v - x[i])), `seed ${seed} n=${n} aliased`).toBeLessThan(3e-6);
      });
      [bx, by, bz, out].forEach((b) => b.destroy());
    }
    vk.destroy();
  });

  it('norms of several vectors of different lengths in one read-back', async () => {
    const c = ctx!;
    const vk = await VecKernels.create(c);
    const seed = freshSeed();
    const g = gaussian(mulberry32(seed));
    const vs = SIZES.concat([600_000]).map((n) => Float32Array.from(new Float64Array(n).map(() => g() * 3)));
    const bufs = vs.map((v) => ({ buffer: c.upload(v, 'v'), length: v.length }));
    const got = await noGpuErrors(c, () => vk.norms(bufs));
    vs.forEach((v, k) => {
      const ref = Math.sqrt(v.reduce((s, a) => s + a * a, 0));
      // tree reduction in f32: relative error ~ log2(n)·ε_f32.
      expect(Math.abs(got[k] - ref) / ref, `seed ${seed} n=${v.length}`).toBeLessThan(2e-6);
    });
    // Calling again with fewer vectors reuses the buffers and stays correct.
    const again = await vk.norms(bufs.slice(0, 2));
    expect(again.length).toBe(2);
    expect(Math.abs(again[1] - got[1])).toBeLessThan(1e-6 * got[1]);
    bufs.forEach((b) => b.buffer.destroy());
    vk.destroy();
  });

  it('clamp_nonneg touches only its range', async () => {
    const c = ctx!;
    const vk = await VecKernels.create(c);
    const n = 129;
    const v = Float32Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (i + 1));
    const b = c.upload(v, 'v');
    c.run((pass) => vk.recordClamp(pass, b, 17, 65));
    const out = await readF32(c, b, n);
    for (let i = 0; i < n; i++) expect(out[i]).toBe(i >= 17 && i < 82 ? Math.max(0, v[i]) : v[i]);
    b.destroy();
    vk.destroy();
  });
});
