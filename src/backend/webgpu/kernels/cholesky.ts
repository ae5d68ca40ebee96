/**
 * Host side of shaders/cholesky.wgsl (batched in-place factorisation) and shaders/trsv.wgsl
 * (batched forward/backward substitution with a Cholesky factor), one workgroup per matrix.
 */
import type { GpuContext } from '../context.js';

export const NO_TRANSPOSE = 0xffffffff;

export interface TriSystem {
  readonly n: number;
  /** Offset of L (row-major lower, n×n) in the factor buffer. */
  readonly lOff: number;
  /** Offset of Lᵀ stored row-major (contiguous forward steps), or NO_TRANSPOSE. */
  readonly uOff: number;
  /** Offset of the right-hand side in the vector buffer (solved in place). */
  readonly bOff: number;
}

export type TriMode = 'forward' | 'backward' | 'solve';

export class CholeskyKernels {
  private constructor(
    private readonly ctx: GpuContext,
    private readonly pFactor: GPUComputePipeline,
    private readonly pTri: Record<TriMode, GPUComputePipeline>,
  ) {}

  static async create(ctx: GpuContext): Promise<CholeskyKernels> {
    const [f, fw, bw, sv] = await Promise.all([
      ctx.pipeline('cholesky', 'factor'),
      ctx.pipeline('trsv', 'forward'),
      ctx.pipeline('trsv', 'backward'),
      ctx.pipeline('trsv', 'solve'),
    ]);
    return new CholeskyKernels(ctx, f, { forward: fw, backward: bw, solve: sv });
  }

  /** Plans in-place factorisations of matrices at (off, n) in `a`; info gets 0 or failing pivot+1. */
  planFactor(a: GPUBuffer, mats: readonly { off: number; n: number }[], info: GPUBuffer): { record(pass: GPUComputePassEncoder): void; destroy(): void } {
    const desc = this.ctx.upload(new Uint32Array(mats.flatMap((m) => [m.off, m.n])), 'cholesky mats');
    const group = this.ctx.bindGroup(this.pFactor, [a, desc, info]);
    const pl = this.pFactor;
    return {
      record(pass) {
        if (!mats.length) return;
        pass.setPipeline(pl);
        pass.setBindGroup(0, group);
        pass.dispatchWorkgroups(mats.length);
      },
      destroy: () => desc.destroy(),
    };
  }

  /** Plans triangular solves of the systems; the vector buffer is bound per call. */
  planTri(mode: TriMode, factor: GPUBuffer, systems: readonly TriSystem[]): TriPlan {
    return new TriPlan(this.ctx, this.pTri[mode], factor, systems);
  }
}

export class TriPlan {
  private readonly desc: GPUBuffer;
  private readonly groups = new Map<GPUBuffer, GPUBindGroup>();

  constructor(
    private readonly ctx: GpuContext,
    private readonly pipeline: GPUComputePipeline,
    private readonly factor: GPUBuffer,
    private readonly systems: readonly TriSystem[],
  ) {
    this.desc = ctx.upload(new Uint32Array(systems.flatMap((s) => [s.n, s.lOff, s.uOff, s.bOff])), 'trsv systems');
  }

  record(pass: GPUComputePassEncoder, x: GPUBuffer): void {
    if (!this.systems.length) return;
    let g = this.groups.get(x);
    if (!g) this.groups.set(x, (g = this.ctx.bindGroup(this.pipeline, [this.factor, x, this.desc])));
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, g);
    pass.dispatchWorkgroups(this.systems.length);
  }

  destroy(): void {
    this.desc.destroy();
  }
}
