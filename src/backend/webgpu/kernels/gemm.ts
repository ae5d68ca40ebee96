/**
 * Host side of shaders/gemm.wgsl: a batch of strided GEMMs C ← α·op(A)·op(B) + β·C that share the
 * three buffers, planned once (descriptors uploaded at prepare time) and recorded per call.
 *
 * Two variants of the op, same descriptors and bindings: 'tiled' (16 × 16 outputs per workgroup,
 * operands staged in workgroup memory) and 'register' (8 × 8 outputs per invocation held in
 * registers, 64 × 64 per workgroup, no workgroup memory or barriers). Which is faster depends on
 * the adapter, so GemmKernel.create times both on one problem per device and keeps the faster
 * (bench/kernels.ts prints both and the choice).
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

const WORDS = 12;

export type GemmVariant = 'tiled' | 'register';

/** Entry point and output tile (rows = columns) of one workgroup, per variant. */
const VARIANTS: Record<GemmVariant, { entry: string; tile: number }> = {
  tiled: { entry: 'gemm', tile: 16 },
  register: { entry: 'gemm_reg', tile: 64 },
};

/** The variant picked per device (a device is one adapter): timed once, then reused. */
const chosen = new WeakMap<GPUDevice, Promise<GemmVariant>>();

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
    readonly variant: GemmVariant,
  ) {}

  /** `variant`: force one ('auto', the default: the faster on this device, see timeVariants). */
  static async create(ctx: GpuContext, variant: GemmVariant | 'auto' = 'auto'): Promise<GemmKernel> {
    let v: GemmVariant;
    if (variant !== 'auto') v = variant;
    else {
      let pick = chosen.get(ctx.device);
      if (!pick) {
        pick = timeVariants(ctx).then((t) => (t.register < t.tiled ? 'register' : 'tiled'));
        chosen.set(ctx.device, pick);
      }
      v = await pick;
    }
    return new GemmKernel(ctx, await ctx.pipeline('gemm', VARIANTS[v].entry), v);
  }

  get tile(): number {
    return VARIANTS[this.variant].tile;
  }

  /** Descriptors are fixed; the buffers are bound per call (cached by the caller's key). */
  plan(descs: readonly GemmDesc[]): GemmPlan {
    return new GemmPlan(this.ctx, this, descs.filter((d) => d.M > 0 && d.N > 0));
  }
}

/**
 * Milliseconds per run of each variant on a batch of four 128 × 128 × 128 products (the size of the
 * Roesser products of a 32-channel conv; 256³ picks the same on lavapipe), after one untimed run
 * that compiles the pipeline. Best of three runs, each waited for on the queue.
 */
export async function timeVariants(ctx: GpuContext): Promise<Record<GemmVariant, number>> {
  const n = 128;
  const batch = 4;
  const data = new Float32Array(batch * n * n).map((_, i) => ((i * 7919) % 97) / 97 - 0.5);
  const a = ctx.upload(data, 'gemm tune A');
  const c = ctx.storage(data.byteLength, 'gemm tune C');
  const out = {} as Record<GemmVariant, number>;
  try {
    for (const v of Object.keys(VARIANTS) as GemmVariant[]) {
      const k = await GemmKernel.create(ctx, v);
      const plan = k.plan(Array.from({ length: batch }, (_, i) => ({ M: n, N: n, K: n, transA: true, aOff: i * n * n, lda: n, bOff: i * n * n, ldb: n, cOff: i * n * n, ldc: n, alpha: 1, beta: 0 })));
      let best = Infinity;
      for (let r = 0; r < 4; r++) {
        const t = performance.now();
        ctx.run((pass) => plan.record(pass, a, a, c));
        await ctx.device.queue.onSubmittedWorkDone();
        if (r > 0) best = Math.min(best, performance.now() - t);
      }
      plan.destroy();
      out[v] = best;
    }
  } finally {
    a.destroy();
    c.destroy();
  }
  return out;
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
    const tile = kernel.tile;
    this.gx = Math.max(1, ...descs.map((d) => Math.ceil(d.N / tile)));
    this.gy = Math.max(1, ...descs.map((d) => Math.ceil(d.M / tile)));
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
