/**
 * The WebGPU backend (docs/method.md §7): f32 WGSL kernels from shaders/, on Dawn in Node or
 * navigator.gpu in browsers. `create()` acquires the device and compiles every pipeline up
 * front, so `prepare` only uploads data and a missing/broken GPU fails early with one line.
 */
import type { AdapterInfo, Backend, DeviceTraffic, ProblemOps } from '../backend.js';
import type { LayeredSdp } from '../../lmi/problem.js';
import { acquireGpu } from './device.js';
import { GpuContext } from './context.js';
import { VecKernels } from './kernels/vec.js';
import { PsdKernel } from './kernels/psd.js';
import { GemmKernel } from './kernels/gemm.js';
import { CholeskyKernels } from './kernels/cholesky.js';
import { fcPipelines } from './kernels/fc.js';
import { WebGpuProblemOps, type Kernels } from './problem-ops.js';
import { SplitRoesserProducts } from './kernels/roesser.js';
import type { RoesserProducts } from '../../lmi/conv/stage-math.js';
import type { Stage } from '../../lmi/conv/stages.js';

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly precision = 'f32' as const;
  private readonly open = new Set<ProblemOps>();

  private constructor(
    private readonly ctx: GpuContext,
    private readonly kernels: Kernels,
  ) {}

  get adapter(): AdapterInfo {
    return this.ctx.gpu.info;
  }

  traffic(): DeviceTraffic {
    return { ...this.ctx.traffic };
  }

  /** Largest block the shared-memory Jacobi kernel takes on this adapter (bigger ones use global memory). */
  get sharedJacobiMax(): number {
    return this.kernels.psd.nmax;
  }

  static async create(): Promise<WebGpuBackend> {
    const ctx = new GpuContext(await acquireGpu());
    const [vec, psd, gemm, chol, fc] = await Promise.all([
      VecKernels.create(ctx),
      PsdKernel.create(ctx),
      GemmKernel.create(ctx),
      CholeskyKernels.create(ctx),
      fcPipelines(ctx),
    ]);
    return new WebGpuBackend(ctx, { vec, psd, gemm, chol, fc });
  }

  async prepare(problem: LayeredSdp): Promise<ProblemOps> {
    this.ctx.device.pushErrorScope('validation');
    const ops = new WebGpuProblemOps(this.ctx, this.kernels, problem);
    const err = await this.ctx.device.popErrorScope();
    if (err) {
      ops.dispose();
      throw new Error(`webgpu backend: preparing the problem failed: ${err.message.split('\n')[0]}`);
    }
    this.open.add(ops);
    const dispose = ops.dispose.bind(ops);
    ops.dispose = () => {
      this.open.delete(ops);
      dispose();
    };
    return ops;
  }

  async roesserProducts(systems: readonly Stage['systems'][number][]): Promise<RoesserProducts> {
    this.ctx.device.pushErrorScope('validation');
    const prod = new SplitRoesserProducts(this.ctx, this.kernels.gemm, systems);
    const err = await this.ctx.device.popErrorScope();
    if (err) {
      prod.dispose();
      throw new Error(`webgpu backend: preparing the Roesser products failed: ${err.message.split('\n')[0]}`);
    }
    return prod;
  }

  /** Frees every prepared problem's buffers; the shared device stays (other backends may use it). */
  dispose(): void {
    for (const ops of [...this.open]) ops.dispose();
    this.kernels.vec.destroy();
  }
}
