/**
 * Host side of shaders/cholesky.wgsl (batched in-place factorisation) and shaders/trsv.wgsl
 * (batched forward/backward substitution with a Cholesky factor), one workgroup per matrix; and
 * the blocked factorisation of one larger matrix, whose trailing updates are GEMMs (gemm.ts).
 */
import type { GpuContext } from '../context.js';
import type { GemmKernel } from './gemm.js';

/** Panel width of the blocked route (one workgroup factors each b × b diagonal block). */
export const CHOLESKY_BLOCK = 64;

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
    private readonly pPanel: GPUComputePipeline,
    private readonly pZero: GPUComputePipeline,
    private readonly pTri: Record<TriMode, GPUComputePipeline>,
  ) {}

  static async create(ctx: GpuContext): Promise<CholeskyKernels> {
    const [f, pn, z, fw, bw, sv] = await Promise.all([
      ctx.pipeline('cholesky', 'factor'),
      ctx.pipeline('cholesky', 'panel_solve'),
      ctx.pipeline('cholesky', 'zero_upper'),
      ctx.pipeline('trsv', 'forward'),
      ctx.pipeline('trsv', 'backward'),
      ctx.pipeline('trsv', 'solve'),
    ]);
    return new CholeskyKernels(ctx, f, pn, z, { forward: fw, backward: bw, solve: sv });
  }

  /** Plans in-place factorisations of matrices at (off, n) in `a`; info gets 0 or failing pivot+1. */
  planFactor(a: GPUBuffer, mats: readonly { off: number; n: number }[], info: GPUBuffer): { record(pass: GPUComputePassEncoder): void; destroy(): void } {
    const desc = this.ctx.upload(new Uint32Array(mats.flatMap((m) => [m.off, m.n, m.n, 0])), 'cholesky mats');
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

  /**
   * Plans the in-place factorisation of one n × n matrix at `off` in `a`, blocked: per panel of
   * CHOLESKY_BLOCK columns, the diagonal block by the one-workgroup kernel, the rows below it by
   * panel_solve, then the trailing matrix A22 −= L21·L21ᵀ by one GEMM (the whole square, so the
   * upper triangle, zeroed at the end, is scratch). info[0] gets 0 or the failing pivot + 1. All
   * of it is recorded into one compute pass: 3 dispatches per panel, plus one.
   */
  planBlockedFactor(a: GPUBuffer, off: number, n: number, info: GPUBuffer, gemm: GemmKernel): { record(pass: GPUComputePassEncoder): void; destroy(): void } {
    const ctx = this.ctx;
    const B = CHOLESKY_BLOCK;
    const align = Math.max(256, ctx.gpu.limits.minStorageBufferOffsetAlignment);
    const panels: { k0: number; b: number; rows: number }[] = [];
    for (let k0 = 0; k0 < n; k0 += B) panels.push({ k0, b: Math.min(B, n - k0), rows: Math.max(0, n - k0 - B) });
    // One 256-byte slot per panel for its diagonal block (Mat) and its panel step (Panel), bound
    // at that slot's offset; the last slot describes the whole matrix for zero_upper.
    const words = align / 4;
    const desc = new Uint32Array((panels.length + 1) * 2 * words);
    panels.forEach((p, i) => {
      const diag = off + p.k0 * n + p.k0;
      desc.set([diag, p.b, n, p.k0], 2 * i * words);
      desc.set([diag, diag + p.b * n, n, p.b, p.rows], (2 * i + 1) * words);
    });
    desc.set([off, off, n, 0, n], 2 * panels.length * words);
    const descBuf = ctx.upload(desc, 'cholesky blocked descs');
    const scratch = ctx.storage(Math.max(4, Math.max(...panels.map((p) => p.rows)) * B * 4), 'cholesky panel');
    const at = (slot: number, size: number): { buffer: GPUBuffer; offset: number; size: number } => ({ buffer: descBuf, offset: slot * align, size });
    const steps = panels.map((p, i) => ({
      p,
      factor: ctx.bindGroup(this.pFactor, [a, at(2 * i, 16), info]),
      panel: ctx.bindGroup(this.pPanel, [a, at(2 * i + 1, 20), scratch]),
      update: p.rows > 0 ? gemm.plan([{ M: p.rows, N: p.rows, K: p.b, transB: true, aOff: 0, lda: p.b, bOff: 0, ldb: p.b, cOff: off + (p.k0 + p.b) * n + p.k0 + p.b, ldc: n, alpha: -1, beta: 1 }]) : null,
    }));
    const zero = ctx.bindGroup(this.pZero, [a, at(2 * panels.length, 20)]);
    const zeroGrid = ctx.grid(Math.ceil((n * n) / 64));
    const [pFactor, pPanel, pZero] = [this.pFactor, this.pPanel, this.pZero];
    return {
      record(pass) {
        for (const s of steps) {
          pass.setPipeline(pFactor);
          pass.setBindGroup(0, s.factor);
          pass.dispatchWorkgroups(1);
          if (!s.update) continue;
          pass.setPipeline(pPanel);
          pass.setBindGroup(0, s.panel);
          pass.dispatchWorkgroups(Math.ceil(s.p.rows / 64));
          s.update.record(pass, scratch, scratch, a, 'blocked');
        }
        pass.setPipeline(pZero);
        pass.setBindGroup(0, zero);
        pass.dispatchWorkgroups(zeroGrid[0], zeroGrid[1]);
      },
      destroy: () => {
        descBuf.destroy();
        scratch.destroy();
        steps.forEach((s) => s.update?.destroy());
      },
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
