import { describe, expect, it } from 'vitest';
import { gpuContextOrSkip, noGpuErrors, poison, readF32, relErr } from './gpu-available.js';
import { GemmKernel, timeVariants, type GemmDesc } from '../../src/backend/webgpu/kernels/gemm.js';
import { freshSeed, gaussian, mulberry32 } from '../helpers/random.js';

const ctx = await gpuContextOrSkip();

/** f64 reference of one strided GEMM on host arrays. */
function refGemm(d: GemmDesc, A: Float64Array, B: Float64Array, C: Float64Array): void {
  for (let i = 0; i < d.M; i++)
    for (let j = 0; j < d.N; j++) {
      let s = 0;
      for (let k = 0; k < d.K; k++) {
        const a = d.transA ? A[d.aOff + k * d.lda + i] : A[d.aOff + i * d.lda + k];
        const b = d.transB ? B[d.bOff + j * d.ldb + k] : B[d.bOff + k * d.ldb + j];
        s += a * b;
      }
      const ci = d.cOff + i * d.ldc + j;
      C[ci] = d.alpha * s + (d.beta !== 0 ? d.beta * C[ci] : 0);
    }
}

describe.skipIf(!ctx)('webgpu batched GEMM vs f64', () => {
  it.each(['tiled', 'register'] as const)('%s: mixed shapes, transposes, strides, offsets, β ∈ {0, 1}; untouched C elements stay put', async (variant) => {
    const c = ctx!;
    const seed = freshSeed();
    const g = gaussian(mulberry32(seed));
    // Edges of both variants' tiles (16, and 64 per workgroup / 8 per invocation) on both sides.
    const shapes: [number, number, number][] = [[1, 1, 1], [3, 17, 5], [17, 33, 65], [65, 3, 100], [100, 129, 17], [33, 33, 33], [64, 64, 9], [71, 130, 3]];
    const descs: GemmDesc[] = [];
    let aLen = 0, bLen = 0, cLen = 0;
    shapes.forEach(([M, N, K], idx) => {
      const transA = idx % 2 === 1;
      const transB = idx % 3 === 1;
      const lda = (transA ? M : K) + (idx % 2); // padded leading dimensions
      const ldb = (transB ? K : N) + 1;
      const ldc = N + 3;
      const aRows = transA ? K : M;
      const bRows = transB ? N : K;
      descs.push({ M, N, K, transA, transB, aOff: aLen + 1, lda, bOff: bLen + 2, ldb, cOff: cLen + 3, ldc, alpha: 0.75 + idx, beta: idx % 2 });
      aLen += aRows * lda + 1;
      bLen += bRows * ldb + 2;
      cLen += M * ldc + 3;
    });
    const A = new Float64Array(aLen).map(() => g());
    const B = new Float64Array(bLen).map(() => g());
    const C0 = new Float64Array(cLen).map(() => g());
    // β=0 problems must not read C: poison their C region (NaN) — it must be overwritten.
    const C = Float64Array.from(Float32Array.from(C0));
    for (const d of descs) if (d.beta === 0) for (let i = 0; i < d.M; i++) for (let j = 0; j < d.N; j++) C[d.cOff + i * d.ldc + j] = NaN;
    const Af = Float64Array.from(Float32Array.from(A));
    const Bf = Float64Array.from(Float32Array.from(B));
    const ref = C.slice();
    for (const d of descs) refGemm(d, Af, Bf, ref);
    const ab = c.upload(A, 'A'), bb = c.upload(B, 'B'), cb = c.upload(C, 'C');
    const kernel = await GemmKernel.create(c, variant);
    expect(kernel.variant).toBe(variant);
    const plan = kernel.plan(descs);
    const out = await noGpuErrors(c, async () => {
      c.run((pass) => plan.record(pass, ab, bb, cb));
      return readF32(c, cb, cLen);
    });
    let worst = 0;
    for (const d of descs) {
      const got: number[] = [], want: number[] = [];
      for (let i = 0; i < d.M; i++) for (let j = 0; j < d.N; j++) { got.push(out[d.cOff + i * d.ldc + j]); want.push(ref[d.cOff + i * d.ldc + j]); }
      const e = relErr(got, want);
      worst = Math.max(worst, e);
      // f32 dot products of length K: error ≲ K·ε_f32·Σ|a||b| ≈ 1e-6·K relative to the output scale.
      expect(e, `seed ${seed} ${d.M}x${d.N}x${d.K}`).toBeLessThan(2e-6 * Math.max(d.K, 8) * Math.sqrt(d.K));
    }
    // Elements outside every C sub-block are untouched (they are the f32-rounded C0).
    const inside = new Uint8Array(cLen);
    for (const d of descs) for (let i = 0; i < d.M; i++) for (let j = 0; j < d.N; j++) inside[d.cOff + i * d.ldc + j] = 1;
    for (let i = 0; i < cLen; i++) if (!inside[i]) expect(out[i]).toBe(Math.fround(C0[i]));
    console.log(`gemm ${variant}: max rel err ${worst.toExponential(2)} over ${descs.length} problems`);
    plan.destroy();
    [ab, bb, cb].forEach((b) => b.destroy());
  });
  it('the default variant is picked once per device (by timing both) and is one of the two', async () => {
    const c = ctx!;
    const t = await timeVariants(c);
    console.log(`gemm variants on ${c.gpu.info.description}: tiled ${t.tiled.toFixed(2)} ms, register ${t.register.toFixed(2)} ms`);
    const [a, b] = [await GemmKernel.create(c), await GemmKernel.create(c)];
    expect(a.variant).toBe(b.variant);
    expect(['tiled', 'register']).toContain(a.variant);
  });
  it('poisoned output with β=0 single problem (1×129 · 129×1)', async () => {
    const c = ctx!;
    const g = gaussian(mulberry32(freshSeed()));
    const K = 129;
    const A = new Float64Array(K).map(() => g()), B = new Float64Array(K).map(() => g());
    const d: GemmDesc = { M: 1, N: 1, K, aOff: 0, lda: K, bOff: 0, ldb: 1, cOff: 0, ldc: 1, alpha: 1, beta: 0 };
    const ab = c.upload(A, 'A'), bb = c.upload(B, 'B'), cb = c.storage(16, 'C');
    poison(c, cb, 4);
    const plan = (await GemmKernel.create(c)).plan([d]);
    c.run((pass) => plan.record(pass, ab, bb, cb));
    const out = await readF32(c, cb, 1);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.fround(A[k]) * Math.fround(B[k]);
    expect(Math.abs(out[0] - s)).toBeLessThan(1e-4 * Math.sqrt(K));
    plan.destroy();
  });
});
