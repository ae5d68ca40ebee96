/**
 * Host side of the batched PSD projection. Blocks with n ≤ nmax (set by the adapter's
 * workgroup storage: 2n² + n + 4 floats must fit) go to the shared-memory Jacobi kernel, one
 * workgroup each, all in one dispatch; bigger blocks go to the global-memory Jacobi kernel with
 * a scratch buffer for their eigenvectors.
 */
import type { GpuContext } from '../context.js';

export interface PsdBlock {
  /** Element offset of the n×n row-major block in the buffer. */
  readonly offset: number;
  readonly size: number;
}

/** Largest n whose Jacobi state (A, V, rotation table, flags) fits `bytes` of workgroup storage. */
export function sharedJacobiMax(bytes: number): number {
  let n = 1;
  while (4 * (2 * (n + 1) * (n + 1) + 2 * Math.ceil((n + 1) / 2) + 4) <= bytes) n++;
  return n;
}

export class PsdKernel {
  private constructor(
    private readonly ctx: GpuContext,
    readonly nmax: number,
    private readonly pShared: GPUComputePipeline,
    private readonly pGlobal: GPUComputePipeline,
  ) {}

  static async create(ctx: GpuContext, nmaxOverride?: number): Promise<PsdKernel> {
    const nmax = nmaxOverride ?? sharedJacobiMax(ctx.gpu.limits.maxComputeWorkgroupStorageSize);
    const [a, b] = await Promise.all([ctx.pipeline('psd_jacobi', 'project', { NMAX: nmax }), ctx.pipeline('psd_jacobi_global', 'project')]);
    return new PsdKernel(ctx, nmax, a, b);
  }

  /** Prepares descriptors and scratch for a fixed block layout; the target buffer is bound per call. */
  plan(blocks: readonly PsdBlock[]): PsdPlan {
    return new PsdPlan(this.ctx, this, blocks);
  }

  /** @internal */
  get pipelines(): { shared: GPUComputePipeline; global: GPUComputePipeline } {
    return { shared: this.pShared, global: this.pGlobal };
  }
}

export class PsdPlan {
  private readonly small: { desc: GPUBuffer; count: number } | undefined;
  private readonly big: { desc: GPUBuffer; scratch: GPUBuffer; count: number } | undefined;
  private readonly owned: GPUBuffer[] = [];
  private readonly groups = new Map<GPUBuffer, [GPUBindGroup | undefined, GPUBindGroup | undefined]>();

  constructor(private readonly ctx: GpuContext, kernel: PsdKernel, blocks: readonly PsdBlock[]) {
    const lim = ctx.gpu.limits.maxComputeWorkgroupsPerDimension;
    const small = blocks.filter((b) => b.size > 0 && b.size <= kernel.nmax);
    const big = blocks.filter((b) => b.size > kernel.nmax);
    if (small.length > lim || big.length > lim) throw new Error(`psd: more than ${lim} blocks in one batch`);
    if (small.length) {
      const desc = ctx.upload(new Uint32Array(small.flatMap((b) => [b.offset, b.size])), 'psd blocks');
      this.owned.push(desc);
      this.small = { desc, count: small.length };
    }
    if (big.length) {
      let soff = 0;
      const d: number[] = [];
      for (const b of big) {
        d.push(b.offset, b.size, soff, 0);
        soff += b.size * b.size + b.size + 2 * Math.ceil(b.size / 2);
      }
      const bytes = soff * 4;
      if (bytes > ctx.gpu.limits.maxStorageBufferBindingSize)
        throw new Error(`psd: Jacobi scratch for large blocks needs ${bytes} bytes, device binding limit is ${ctx.gpu.limits.maxStorageBufferBindingSize}`);
      const desc = ctx.upload(new Uint32Array(d), 'psd big blocks');
      const scratch = ctx.storage(bytes, 'psd scratch');
      this.owned.push(desc, scratch);
      this.big = { desc, scratch, count: big.length };
    }
    this.kernel = kernel;
  }

  private readonly kernel: PsdKernel;

  /** Records the projection of every planned block of `target`, in place. */
  record(pass: GPUComputePassEncoder, target: GPUBuffer): void {
    const { shared, global } = this.kernel.pipelines;
    let g = this.groups.get(target);
    if (!g) {
      g = [
        this.small && this.ctx.bindGroup(shared, [target, this.small.desc]),
        this.big && this.ctx.bindGroup(global, [target, this.big.desc, this.big.scratch]),
      ];
      this.groups.set(target, g);
    }
    if (this.small) {
      pass.setPipeline(shared);
      pass.setBindGroup(0, g[0]!);
      pass.dispatchWorkgroups(this.small.count);
    }
    if (this.big) {
      pass.setPipeline(global);
      pass.setBindGroup(0, g[1]!);
      pass.dispatchWorkgroups(this.big.count);
    }
  }

  get bytes(): number {
    return this.owned.reduce((s, b) => s + b.size, 0);
  }

  destroy(): void {
    this.owned.forEach((b) => b.destroy());
  }
}
