/**
 * Pipelines of the fc block kernels (fc_assemble, fc_adjoint, normal_rhs, normal_q) and a helper
 * for their common launch shape: workgroup_id.y = descriptor index, a grid-stride loop in x.
 */
import type { GpuContext } from '../context.js';

export interface FcPipelines {
  assemble: GPUComputePipeline;
  scaleRows: GPUComputePipeline;
  adjointQ: GPUComputePipeline;
  adjointLam: GPUComputePipeline;
  adjointRho: GPUComputePipeline;
  quadRows: GPUComputePipeline;
  rhsInit: GPUComputePipeline;
  qInit: GPUComputePipeline;
}

export async function fcPipelines(ctx: GpuContext): Promise<FcPipelines> {
  const [assemble, scaleRows, adjointQ, adjointLam, adjointRho, quadRows, rhsInit, qInit] = await Promise.all([
    ctx.pipeline('fc_assemble', 'assemble'),
    ctx.pipeline('fc_assemble', 'scale_rows'),
    ctx.pipeline('fc_adjoint', 'adjoint_q'),
    ctx.pipeline('fc_adjoint', 'adjoint_lam'),
    ctx.pipeline('fc_adjoint', 'adjoint_rho'),
    ctx.pipeline('fc_adjoint', 'quad_rows'),
    ctx.pipeline('normal_rhs', 'rhs_init'),
    ctx.pipeline('normal_q', 'q_init'),
  ]);
  return { assemble, scaleRows, adjointQ, adjointLam, adjointRho, quadRows, rhsInit, qInit };
}

const WG = 256;
/** Cap on x workgroups per descriptor; the kernels grid-stride over the rest. */
const MAX_X = 4096;

/** One launch over `count` descriptors whose largest work item count is `maxItems`. */
export class DescLaunch {
  private readonly gx: number;
  private readonly groups = new Map<string, GPUBindGroup>();

  constructor(
    private readonly ctx: GpuContext,
    private readonly pipeline: GPUComputePipeline,
    private readonly count: number,
    maxItems: number,
  ) {
    this.gx = Math.max(1, Math.min(MAX_X, Math.ceil(maxItems / WG)));
    if (count > ctx.gpu.limits.maxComputeWorkgroupsPerDimension) throw new Error('webgpu: too many blocks for one dispatch');
  }

  record(pass: GPUComputePassEncoder, bindings: GPUBuffer[], key: string): void {
    if (this.count === 0) return;
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = this.ctx.bindGroup(this.pipeline, bindings)));
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, g);
    pass.dispatchWorkgroups(this.gx, this.count);
  }
}
