import { describe, expect, it } from 'vitest';
import { gpuContextOrSkip, noGpuErrors, poison, readF32, relErr } from './gpu-available.js';
import { CHOLESKY_BLOCK, CholeskyKernels, NO_TRANSPOSE, type TriMode } from '../../src/backend/webgpu/kernels/cholesky.js';
import { GemmKernel } from '../../src/backend/webgpu/kernels/gemm.js';
import { choleskyInPlace, backSubst, forwardSubst } from '../../src/linalg/cholesky.js';
import { freshSeed, gaussian, mulberry32 } from '../helpers/random.js';

const ctx = await gpuContextOrSkip();

/** Well-conditioned SPD matrix: G Gᵀ/n + I. */
function spd(n: number, g: () => number): Float64Array {
  const G = new Float64Array(n * n).map(() => g());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = i === j ? 1 : 0;
      for (let k = 0; k < n; k++) s += (G[i * n + k] * G[j * n + k]) / n;
      a[i * n + j] = s;
    }
  return a;
}

const SIZES = [1, 3, 17, 33, 65, 100, 129];

describe.skipIf(!ctx)('webgpu batched Cholesky and triangular solves vs f64', () => {
  it('factor: mixed sizes in one batch, upper triangle zeroed, info = 0', async () => {
    const c = ctx!;
    const seed = freshSeed();
    const g = gaussian(mulberry32(seed));
    const mats = SIZES.map((n) => spd(n, g));
    let off = 0;
    const descs = SIZES.map((n) => { const d = { off, n }; off += n * n + 1; return d; });
    const host = new Float64Array(off);
    descs.forEach((d, k) => host.set(mats[k], d.off));
    const a = c.upload(host, 'chol A');
    const info = c.storage(4 * SIZES.length, 'info');
    poison(c, info, SIZES.length);
    const kern = await CholeskyKernels.create(c);
    const plan = kern.planFactor(a, descs, info);
    const out = await noGpuErrors(c, async () => {
      c.run((pass) => plan.record(pass));
      return readF32(c, a, off);
    });
    const inf = new Uint32Array((await readF32(c, info, SIZES.length)).buffer);
    descs.forEach((d, k) => {
      const ref = Float64Array.from(Float32Array.from(mats[k]));
      expect(choleskyInPlace(ref, d.n)).toBe(true);
      const e = relErr(out.subarray(d.off, d.off + d.n * d.n), ref);
      // f32 Cholesky backward error ~ n·ε; well-conditioned inputs keep the forward error alike.
      expect(e, `seed ${seed} n=${d.n}`).toBeLessThan(2e-6 * d.n + 1e-6);
      expect(inf[k]).toBe(0);
    });
    plan.destroy();
  });

  it('factor reports the failing pivot of an indefinite matrix', async () => {
    const c = ctx!;
    const n = 5;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) a[i * n + i] = i === 3 ? -1 : 2;
    const buf = c.upload(a, 'indef');
    const info = c.storage(4, 'info');
    const plan = (await CholeskyKernels.create(c)).planFactor(buf, [{ off: 0, n }], info);
    c.run((pass) => plan.record(pass));
    const inf = new Uint32Array((await readF32(c, info, 1)).buffer);
    expect(inf[0]).toBe(4);
  });

  it.each([1, 63, 64, 65, 130, 257])('blocked factor (GEMM trailing updates), n = %i at an offset: matches f64, upper triangle zeroed, info = 0', async (n) => {
    const c = ctx!;
    const seed = freshSeed();
    const g = gaussian(mulberry32(seed));
    const m = spd(n, g);
    const off = 7;
    const host = new Float64Array(off + n * n + 5).map(() => g());
    host.set(m, off);
    const a = c.upload(host, 'chol blocked');
    const info = c.storage(4, 'info');
    poison(c, info, 1);
    const plan = (await CholeskyKernels.create(c)).planBlockedFactor(a, off, n, info, await GemmKernel.create(c));
    const out = await noGpuErrors(c, async () => {
      c.run((pass) => plan.record(pass));
      return readF32(c, a, host.length);
    });
    const ref = Float64Array.from(Float32Array.from(m));
    expect(choleskyInPlace(ref, n)).toBe(true);
    expect(relErr(out.subarray(off, off + n * n), ref), `seed ${seed} n=${n}`).toBeLessThan(2e-6 * n + 1e-6);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(out[off + i * n + j]).toBe(0);
    // Nothing outside the matrix is touched.
    for (const i of [...Array(off).keys(), ...Array.from({ length: 5 }, (_, k) => off + n * n + k)]) expect(out[i]).toBe(Math.fround(host[i]!));
    expect(new Uint32Array((await readF32(c, info, 1)).buffer)[0]).toBe(0);
    plan.destroy();
  });

  it('blocked factor reports a failing pivot in a later panel', async () => {
    const c = ctx!;
    const n = 2 * CHOLESKY_BLOCK + 20;
    const bad = CHOLESKY_BLOCK + 37;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) a[i * n + i] = i === bad ? -1 : 2;
    const buf = c.upload(a, 'indef');
    const info = c.storage(4, 'info');
    const plan = (await CholeskyKernels.create(c)).planBlockedFactor(buf, 0, n, info, await GemmKernel.create(c));
    c.run((pass) => plan.record(pass));
    expect(new Uint32Array((await readF32(c, info, 1)).buffer)[0]).toBe(bad + 1);
    plan.destroy();
  });

  for (const mode of ['forward', 'backward', 'solve'] as TriMode[])
    for (const withU of [true, false])
      it(`${mode} substitution (${withU ? 'with' : 'without'} transposed copy), mixed sizes`, async () => {
        const c = ctx!;
        const seed = freshSeed();
        const g = gaussian(mulberry32(seed));
        const Ls = SIZES.map((n) => { const a = spd(n, g); choleskyInPlace(a, n); return a; });
        let fo = 0, bo = 0;
        const systems = SIZES.map((n) => {
          const s = { n, lOff: fo, uOff: withU ? fo + n * n : NO_TRANSPOSE, bOff: bo };
          fo += n * n * (withU ? 2 : 1);
          bo += n + 2;
          return s;
        });
        const fac = new Float64Array(fo);
        const rhs = new Float64Array(bo).map(() => g());
        systems.forEach((s, k) => {
          fac.set(Ls[k], s.lOff);
          if (withU) for (let i = 0; i < s.n; i++) for (let j = 0; j < s.n; j++) fac[s.uOff + j * s.n + i] = Ls[k][i * s.n + j];
        });
        const fb = c.upload(fac, 'L'), xb = c.upload(rhs, 'rhs');
        const plan = (await CholeskyKernels.create(c)).planTri(mode, fb, systems);
        const out = await noGpuErrors(c, async () => {
          c.run((pass) => plan.record(pass, xb));
          return readF32(c, xb, bo);
        });
        systems.forEach((s, k) => {
          const L = Float64Array.from(Float32Array.from(Ls[k]));
          const x = Float64Array.from(Float32Array.from(rhs.subarray(s.bOff, s.bOff + s.n)));
          if (mode !== 'backward') forwardSubst(L, s.n, x);
          if (mode !== 'forward') backSubst(L, s.n, x);
          const e = relErr(out.subarray(s.bOff, s.bOff + s.n), x);
          expect(e, `seed ${seed} n=${s.n}`).toBeLessThan(5e-6 * s.n + 1e-6);
          // Padding between systems untouched.
          expect(out[s.bOff + s.n]).toBe(Math.fround(rhs[s.bOff + s.n]));
        });
        plan.destroy();
      });
});
