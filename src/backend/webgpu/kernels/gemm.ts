/**
 * Host side of shaders/gemm.wgsl: a batch of strided GEMMs C ← α·op(A)·op(B) + β·C that share the
 * three buffers, planned once (descriptors uploaded at prepare time) and recorded per call.
 */
import type { GpuContext } from '../context.js';

export interface GemmDesc {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly transA?: boolean;
  readonly transB?: boolean;
  readonly aOff: number;
  readonly lda: number;
  readonly bOff: number;
  readonly ldb: number;
  readonly cOff: number;
  readonly ldc: number;
  readonly alpha: number;
  readonly beta: number;
}

const TILE = 16;
const WORDS = 12;

export function packGemm(descs: readonly GemmDesc[]): ArrayBuffer {
  const buf = new ArrayBuffer(Math.max(1, descs.length) * WORDS * 4);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  descs.forEach((d, k) => {
    const o = k * WORDS;
    u.set([d.M, d.N, d.K, (d.transA ? 1 : 0) | (d.transB ? 2 : 0), d.aOff, d.lda, d.bOff, d.ldb, d.cOff, d.ldc], o);
    f[o + 10] = d.alpha;
    f[o + 11] = d.beta;
  });
  return buf;
}

export class GemmKernel {
  private constructor(
    private readonly ctx: GpuContext,
    readonly pipeline: GPUComputePipeline,
  ) {}

  static async create(ctx: GpuContext): Promise<GemmKernel> {
    return new GemmKernel(ctx, await ctx.pipeline('gemm', 'gemm'));
  }

  /** Descriptors are fixed; the buffers are bound per call (cached by the caller's key). */
  plan(descs: readonly GemmDesc[]): GemmPlan {
    return new GemmPlan(this.ctx, this, descs.filter((d) => d.M > 0 && d.N > 0));
  }
}

export class GemmPlan {
  private readonly desc: GPUBuffer;
  private readonly gx: number;
  private readonly gy: number;
  private readonly groups = new Map<string, GPUBindGroup>();
  readonly count: number;

  constructor(
    private readonly ctx: GpuContext,
    private readonly kernel: GemmKernel,
    descs: readonly GemmDesc[],
  ) {
    this.count = descs.length;
    if (descs.length > ctx.gpu.limits.maxComputeWorkgroupsPerDimension) throw new Error('gemm: batch larger than the dispatch limit');
    const buf = packGemm(descs);
    this.desc = ctx.storage(buf.byteLength, 'gemm descs');
    ctx.writeBytes(this.desc, 0, buf);
    this.gx = Math.max(1, ...descs.map((d) => Math.ceil(d.N / TILE)));
    this.gy = Math.max(1, ...descs.map((d) => Math.ceil(d.M / TILE)));
  }

  /** Records the batch; `key` names the (a, b, c) buffer triple for the bind-group cache. */
  record(pass: GPUComputePassEncoder, a: GPUBuffer, b: GPUBuffer, c: GPUBuffer, key = ''): void {
    if (this.count === 0) return;
    let g = this.groups.get(key);
    if (!g || !key) {
      g = this.ctx.bindGroup(this.kernel.pipeline, [a, b, c, this.desc]);
      if (key) this.groups.set(key, g);
    }
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, g);
    pass.dispatchWorkgroups(this.gx, this.gy, this.count);
  }

  get bytes(): number {
    return this.desc.size;
  }

  destroy(): void {
    this.desc.destroy();
  }
}
