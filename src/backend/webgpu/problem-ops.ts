/**
 * ProblemOps on the GPU for one prepared LayeredSdp. Everything the iterations touch is uploaded
 * or allocated here once (weights, descriptors, the reduced normal factor, temp and scratch);
 * each op records one compute pass and submits it, and only `read`/`norms` wait for the GPU.
 * Vectors cross the interface as Float64Array and live on the GPU as f32.
 */
import type { ProblemOps, Space, Vec } from '../backend.js';
import type { LayeredSdp } from '../../lmi/problem.js';
import { buildNormalSolver } from '../../lmi/normal.js';
import { GpuContext, Readback } from './context.js';
import { BLOCK_FIELDS, BLOCK_FLOATS, fcLayout, packStructs, QUAD_FIELDS, Q_FIELDS, SCALE_FIELDS, type FcLayout } from './fc-layout.js';
import { DescLaunch, type FcPipelines } from './kernels/fc.js';
import type { GemmKernel, GemmPlan } from './kernels/gemm.js';
import type { PsdKernel, PsdPlan } from './kernels/psd.js';
import { NO_TRANSPOSE, type CholeskyKernels, type TriPlan } from './kernels/cholesky.js';
import type { VecKernels } from './kernels/vec.js';

export interface Kernels {
  vec: VecKernels;
  psd: PsdKernel;
  gemm: GemmKernel;
  chol: CholeskyKernels;
  fc: FcPipelines;
}

class GpuVec implements Vec {
  constructor(
    readonly space: Space,
    readonly length: number,
    readonly buffer: GPUBuffer,
    readonly id: number,
  ) {}
}

let vecIds = 0;

export class WebGpuProblemOps implements ProblemOps {
  private readonly owned: GPUBuffer[] = [];
  private readonly vecs = new Set<GpuVec>();
  private readonly layout: FcLayout;
  private readonly weights: GPUBuffer;
  private readonly temp: GPUBuffer;
  private readonly rScratch: GPUBuffer;
  private readonly blockDesc: GPUBuffer;
  private readonly qDesc: GPUBuffer;
  private readonly factor: GPUBuffer;
  private readonly readback: Readback;
  private readonly psdPlan: PsdPlan;
  private readonly launches: Record<'assemble' | 'scaleA' | 'adjQ' | 'adjLam' | 'quadAT' | 'rhs' | 'quadN' | 'qInit' | 'scaleN', DescLaunch>;
  private readonly descs: Record<'scaleA' | 'quadAT' | 'quadN' | 'scaleN', GPUBuffer>;
  private readonly uniforms: { assemble: GPUBuffer; adjoint: GPUBuffer };
  private readonly gemms: { A: GemmPlan; AT: GemmPlan; rhs: GemmPlan; Q: GemmPlan };
  private readonly tri: TriPlan;
  private readonly rhoGroups = new Map<string, GPUBindGroup>();
  private disposed = false;

  constructor(
    private readonly ctx: GpuContext,
    private readonly k: Kernels,
    private readonly p: LayeredSdp,
  ) {
    for (const b of p.blocks)
      if ((b as { kind: string }).kind !== 'fc' && (b as { kind: string }).kind !== 'fcLast')
        throw new Error(`webgpu backend: block kind '${(b as { kind: string }).kind}' is not implemented on the GPU yet`);
    const lim = ctx.gpu.limits.maxStorageBufferBindingSize;
    const L = (this.layout = fcLayout(p));
    const nz = L.reducedSize;
    // Both L and Lᵀ when they fit one binding (contiguous forward substitution), else L alone.
    const withU = 2 * nz * nz * 4 <= lim;
    for (const [what, bytes] of [
      ['the s vector (all LMI blocks)', p.sLength * 4],
      ['the x vector', p.xLength * 4],
      ['the layer weights', L.weights.byteLength],
      ['the block temp buffer', L.tempLength * 4],
      ['the reduced normal factor', nz * nz * 4],
    ] as const)
      if (bytes > lim) throw new Error(`model too large for this device: ${what} needs ${bytes} bytes, limit ${lim} (maxStorageBufferBindingSize)`);

    const own = (b: GPUBuffer) => (this.owned.push(b), b);
    this.weights = own(ctx.upload(L.weights, 'weights'));
    this.temp = own(ctx.storage(L.tempLength * 4, 'block temp'));
    this.rScratch = own(ctx.storage(p.xLength * 4, 'normal rhs copy'));
    this.blockDesc = own(ctx.upload(new Uint32Array(packStructs(L.blocks, BLOCK_FIELDS, BLOCK_FLOATS, 12)), 'block descs'));
    this.qDesc = own(ctx.upload(new Uint32Array(packStructs(L.qs, Q_FIELDS, [], 8)), 'q descs'));
    const up = (items: object[], fields: string[], floats: string[], label: string) =>
      own(ctx.upload(new Uint32Array(packStructs(items as Record<string, number>[], fields, floats, 8)), label));
    this.descs = {
      scaleA: up(L.applyA.scale, SCALE_FIELDS, [], 'scale A'),
      quadAT: up(L.applyAT.quad, QUAD_FIELDS, ['coef'], 'quad AT'),
      quadN: up(L.normal.quad, QUAD_FIELDS, ['coef'], 'quad N'),
      scaleN: up(L.normal.scale, SCALE_FIELDS, [], 'scale N'),
    };
    this.uniforms = {
      assemble: own(ctx.uploadUniform(new Uint32Array([L.blocks.length, p.nonnegOffset, p.lambdaLength, 0]), 'assemble globals')),
      adjoint: own(ctx.uploadUniform(new Uint32Array([p.nonnegOffset, 0, 0, 0]), 'adjoint globals')),
    };

    // Reduced normal system: factored once in f64 on the CPU (lmi/normal.ts), solved on the GPU.
    const f64 = buildNormalSolver(p).factor;
    const fac = new Float32Array(withU ? 2 * nz * nz : nz * nz);
    fac.set(f64);
    if (withU) for (let i = 0; i < nz; i++) for (let j = 0; j <= i; j++) fac[nz * nz + j * nz + i] = f64[i * nz + j];
    this.factor = own(ctx.upload(fac, 'normal factor'));
    this.tri = k.chol.planTri('solve', this.factor, [{ n: nz, lOff: 0, uOff: withU ? nz * nz : NO_TRANSPOSE, bOff: 0 }]);

    const fc = k.fc;
    const maxSize2 = Math.max(0, ...L.blocks.map((b) => b.size * b.size));
    const maxM = Math.max(0, ...L.blocks.map((b) => b.m));
    const maxMN = Math.max(0, ...L.blocks.map((b) => b.m * b.n));
    const maxQ2 = Math.max(0, ...L.qs.map((q) => q.m * q.m));
    this.launches = {
      assemble: new DescLaunch(ctx, fc.assemble, L.blocks.length + 1, Math.max(maxSize2, p.lambdaLength)),
      scaleA: new DescLaunch(ctx, fc.scaleRows, L.applyA.scale.length, maxMN),
      adjQ: new DescLaunch(ctx, fc.adjointQ, L.qs.length, maxQ2),
      adjLam: new DescLaunch(ctx, fc.adjointLam, L.blocks.length, maxM),
      quadAT: new DescLaunch(ctx, fc.quadRows, L.applyAT.quad.length, maxM),
      rhs: new DescLaunch(ctx, fc.rhsInit, L.blocks.length, maxM),
      quadN: new DescLaunch(ctx, fc.quadRows, L.normal.quad.length, maxM),
      qInit: new DescLaunch(ctx, fc.qInit, L.qs.length, maxQ2),
      scaleN: new DescLaunch(ctx, fc.scaleRows, L.normal.scale.length, maxMN),
    };
    this.gemms = {
      A: k.gemm.plan(L.applyA.gemm),
      AT: k.gemm.plan(L.applyAT.gemm),
      rhs: k.gemm.plan(L.normal.gemmRhs),
      Q: k.gemm.plan(L.normal.gemmQ),
    };
    this.psdPlan = k.psd.plan(p.blocks.map((b) => ({ offset: b.sOffset, size: b.size })));
    this.readback = new Readback(ctx, 'vector readback');
  }

  private check(v: Vec, space: Space, what: string): GpuVec {
    if (this.disposed) throw new Error('webgpu backend: problem was disposed');
    if (!(v instanceof GpuVec) || !this.vecs.has(v)) throw new Error(`webgpu backend: ${what} is not a vector of this problem`);
    if (v.space !== space) throw new Error(`webgpu backend: ${what} must be an ${space}-vector, got ${v.space}`);
    return v;
  }

  createVector(space: Space, init?: Float64Array): Vec {
    const n = space === 'x' ? this.p.xLength : this.p.sLength;
    if (init && init.length !== n) throw new Error(`webgpu backend: ${space}-vector needs ${n} entries, got ${init.length}`);
    const buf = this.ctx.storage(n * 4, `${space}-vector`);
    if (init) this.ctx.write(buf, 0, init);
    const v = new GpuVec(space, n, buf, ++vecIds);
    this.vecs.add(v);
    return v;
  }

  write(v: Vec, data: Float64Array): void {
    const g = this.check(v, v.space, 'write target');
    if (data.length !== g.length) throw new Error(`webgpu backend: write needs ${g.length} entries, got ${data.length}`);
    this.ctx.write(g.buffer, 0, data);
  }

  async read(v: Vec): Promise<Float64Array> {
    const g = this.check(v, v.space, 'read source');
    return Float64Array.from(await this.readback.read(g.buffer, 0, g.length * 4));
  }

  lincomb(out: Vec, a: number, x: Vec, b = 0, y?: Vec, c = 0, z?: Vec): void {
    const o = this.check(out, out.space, 'lincomb out');
    const gx = this.check(x, out.space, 'lincomb x');
    const gy = y && this.check(y, out.space, 'lincomb y');
    const gz = z && this.check(z, out.space, 'lincomb z');
    // As on the CPU: z counts only together with y.
    this.k.vec.lincomb(o.buffer, o.length, a, gx.buffer, b, gy?.buffer, c, gy ? gz?.buffer : undefined);
  }

  applyA(x: Vec, out: Vec): void {
    const gx = this.check(x, 'x', 'applyA input').buffer;
    const gs = this.check(out, 's', 'applyA output').buffer;
    const key = `${(x as GpuVec).id}:${(out as GpuVec).id}`;
    this.ctx.run((pass) => {
      this.launches.assemble.record(pass, [gx, gs, this.weights, this.blockDesc, this.uniforms.assemble], key);
      this.launches.scaleA.record(pass, [gx, this.temp, this.weights, this.descs.scaleA], key);
      this.gemms.A.record(pass, this.weights, this.temp, gs, key);
    }, 'applyA');
  }

  applyAT(s: Vec, out: Vec): void {
    const gs = this.check(s, 's', 'applyAT input').buffer;
    const gx = this.check(out, 'x', 'applyAT output').buffer;
    const key = `${(s as GpuVec).id}:${(out as GpuVec).id}`;
    let rho = this.rhoGroups.get(key);
    if (!rho) this.rhoGroups.set(key, (rho = this.ctx.bindGroup(this.k.fc.adjointRho, [gs, gx, this.blockDesc])));
    this.ctx.run((pass) => {
      this.launches.adjQ.record(pass, [gs, gx, this.qDesc], key);
      this.launches.adjLam.record(pass, [gs, gx, this.weights, this.blockDesc, this.uniforms.adjoint], key);
      pass.setPipeline(this.k.fc.adjointRho);
      pass.setBindGroup(0, rho);
      pass.dispatchWorkgroups(1);
      this.gemms.AT.record(pass, gs, this.weights, this.temp, key);
      this.launches.quadAT.record(pass, [this.temp, gx, this.weights, this.descs.quadAT], key);
    }, 'applyAT');
  }

  solveNormal(r: Vec, out: Vec): void {
    const gr0 = this.check(r, 'x', 'solveNormal rhs');
    const go = this.check(out, 'x', 'solveNormal output').buffer;
    // The kernels read r while writing out; if they alias, solve from a copy of r.
    const gr = gr0.buffer === go ? this.rScratch : gr0.buffer;
    const key = `${gr === this.rScratch ? 'scratch' : (r as GpuVec).id}:${(out as GpuVec).id}`;
    assertAlive(this.ctx);
    const enc = this.ctx.device.createCommandEncoder({ label: 'solveNormal' });
    if (gr === this.rScratch) enc.copyBufferToBuffer(go, 0, this.rScratch, 0, this.p.xLength * 4);
    const pass = enc.beginComputePass();
    this.launches.rhs.record(pass, [gr, go, this.blockDesc], key);
    this.gemms.rhs.record(pass, gr, this.weights, this.temp, key);
    this.launches.quadN.record(pass, [this.temp, go, this.weights, this.descs.quadN], key);
    this.tri.record(pass, go);
    this.launches.qInit.record(pass, [gr, go, this.qDesc], key);
    this.launches.scaleN.record(pass, [go, this.temp, this.weights, this.descs.scaleN], key);
    this.gemms.Q.record(pass, this.weights, this.temp, go, key);
    pass.end();
    this.ctx.submit(enc.finish());
  }

  projectCone(v: Vec): void {
    const g = this.check(v, 's', 'projectCone argument').buffer;
    this.ctx.run((pass) => {
      this.psdPlan.record(pass, g);
      this.k.vec.recordClamp(pass, g, this.p.nonnegOffset, this.p.lambdaLength);
    }, 'projectCone');
  }

  async norms(vs: readonly Vec[]): Promise<number[]> {
    const gs = vs.map((v, i) => this.check(v, v.space, `norms[${i}]`));
    return this.k.vec.norms(gs);
  }

  async dots(pairs: readonly (readonly [Vec, Vec])[]): Promise<number[]> {
    const gs = pairs.map(([a, b], i) => {
      const ga = this.check(a, a.space, `dots[${i}][0]`);
      return [ga, this.check(b, a.space, `dots[${i}][1]`)] as const;
    });
    return this.k.vec.dots(gs);
  }

  bufferBytes(): number {
    let b = 0;
    for (const o of this.owned) b += o.size;
    for (const v of this.vecs) b += v.buffer.size;
    return b + this.psdPlan.bytes + this.readback.bytes + Object.values(this.gemms).reduce((s, g) => s + g.bytes, 0);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.owned.forEach((b) => b.destroy());
    this.vecs.forEach((v) => v.buffer.destroy());
    this.vecs.clear();
    this.psdPlan.destroy();
    this.readback.destroy();
    Object.values(this.gemms).forEach((g) => g.destroy());
    this.tri.destroy();
  }
}

function assertAlive(ctx: GpuContext): void {
  if (ctx.gpu.lostReason) throw new Error(ctx.gpu.lostReason);
}
