/**
 * The WebGPU backend (docs/method.md §7): f32 WGSL kernels from shaders/, on Dawn in Node or
 * navigator.gpu in browsers. `create()` acquires the device and compiles its pipelines up front,
 * so a missing/broken GPU fails early with one line.
 */
import type { AdapterInfo, Backend, DeviceTraffic } from '../backend.js';
import { acquireGpu } from './device.js';
import { GpuContext } from './context.js';
import { GemmKernel } from './kernels/gemm.js';
import { SplitRoesserProducts } from './kernels/roesser.js';
import type { RoesserProducts } from '../../lmi/stage/stage-math.js';
import type { Stage } from '../../lmi/stage/stages.js';

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly precision = 'f32' as const;
  private constructor(
    private readonly ctx: GpuContext,
    private readonly gemm: GemmKernel,
  ) {}

  get adapter(): AdapterInfo {
    return this.ctx.gpu.info;
  }

  traffic(): DeviceTraffic {
    return { ...this.ctx.traffic };
  }

  static async create(): Promise<WebGpuBackend> {
    const ctx = new GpuContext(await acquireGpu());
    return new WebGpuBackend(ctx, await GemmKernel.create(ctx));
  }

  async roesserProducts(systems: readonly Stage['systems'][number][]): Promise<RoesserProducts> {
    this.ctx.device.pushErrorScope('validation');
    const prod = new SplitRoesserProducts(this.ctx, this.gemm, systems);
    const err = await this.ctx.device.popErrorScope();
    if (err) {
      prod.dispose();
      throw new Error(`webgpu backend: preparing the Roesser products failed: ${err.message.split('\n')[0]}`);
    }
    return prod;
  }

  /** Each product set frees its own buffers; the shared device stays (other backends may use it). */
  dispose(): void {}
}
