/**
 * Host side of shaders/vec_ops.wgsl: fused linear combinations, the λ ≥ 0 clamp, and inner
 * products / squared norms of several vectors folded into one small buffer, so `norms` and
 * `dots` cost one read-back each.
 */
import { GpuContext, Readback } from '../context.js';

const WG = 256;
/** Most partial sums per vector in pass 1 (each thread then strides over the rest). */
const MAX_PARTIALS = 1024;

export interface VecBuf {
  readonly buffer: GPUBuffer;
  readonly length: number;
}

export class VecKernels {
  private readonly linParams: GPUBuffer;
  private readonly dummy: GPUBuffer;
  private readonly rangeParams = new Map<string, GPUBuffer>();
  private readonly normParams = new Map<string, GPUBuffer>();
  private readonly foldParams = new Map<number, GPUBuffer>();
  private partials: GPUBuffer | undefined;
  private sums: GPUBuffer | undefined;
  private slotCap = 0;
  private readonly readback: Readback;
  private readonly bindCache = new Map<string, GPUBindGroup>();
  private readonly ids = new WeakMap<GPUBuffer, number>();
  private nextId = 1;

  private constructor(
    private readonly ctx: GpuContext,
    private readonly pLin: GPUComputePipeline,
    private readonly pClamp: GPUComputePipeline,
    private readonly pPartial: GPUComputePipeline,
    private readonly pFold: GPUComputePipeline,
  ) {
    this.linParams = ctx.uniform(32, 'lincomb params');
    this.dummy = ctx.storage(16, 'lincomb dummy');
    this.readback = new Readback(ctx, 'norms readback');
  }

  static async create(ctx: GpuContext): Promise<VecKernels> {
    const [a, b, c, d] = await Promise.all([
      ctx.pipeline('vec_ops', 'lincomb'),
      ctx.pipeline('vec_ops', 'clamp_nonneg'),
      ctx.pipeline('vec_ops', 'dot_partial'),
      ctx.pipeline('vec_ops', 'dot_fold'),
    ]);
    return new VecKernels(ctx, a, b, c, d);
  }

  private id(b: GPUBuffer): number {
    let i = this.ids.get(b);
    if (i === undefined) this.ids.set(b, (i = this.nextId++));
    return i;
  }

  private cachedGroup(key: string, pl: GPUComputePipeline, bindings: GPUBuffer[]): GPUBindGroup {
    let g = this.bindCache.get(key);
    if (!g) {
      g = this.ctx.bindGroup(pl, bindings);
      this.bindCache.set(key, g);
    }
    return g;
  }

  /** out ← a·x + b·y + c·z over `n` elements; any input may be `out` itself. */
  lincomb(out: GPUBuffer, n: number, a: number, x: GPUBuffer, b = 0, y?: GPUBuffer, c = 0, z?: GPUBuffer): void {
    const terms = z ? 3 : y ? 2 : 1;
    if (z && !y) throw new Error('lincomb: z given without y');
    const ins = [x, y, z];
    let flags = terms << 4;
    const bound: GPUBuffer[] = [this.linParams, out];
    ins.forEach((v, k) => {
      if (v === out) flags |= 1 << k;
      bound.push(v && v !== out ? v : this.dummy);
    });
    const params = new ArrayBuffer(32);
    new Uint32Array(params, 0, 2).set([n, flags]);
    new Float32Array(params, 8, 3).set([a, b, c]);
    this.ctx.writeBytes(this.linParams, 0, params);
    const group = this.cachedGroup(`lin:${bound.map((g) => this.id(g)).join(',')}`, this.pLin, bound);
    const [gx, gy] = this.ctx.grid(Math.ceil(n / WG));
    this.ctx.run((pass) => {
      pass.setPipeline(this.pLin);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(gx, gy);
    }, 'lincomb');
  }

  /** Records v[offset, offset+n) ← max(v, 0) into an open pass. */
  recordClamp(pass: GPUComputePassEncoder, v: GPUBuffer, offset: number, n: number): void {
    if (n === 0) return;
    const key = `${this.id(v)}:${offset}:${n}`;
    let u = this.rangeParams.get(key);
    if (!u) {
      u = this.ctx.uploadUniform(new Uint32Array([offset, n, 0, 0]), 'clamp params');
      this.rangeParams.set(key, u);
    }
    const group = this.cachedGroup(`clamp:${key}`, this.pClamp, [u, v]);
    const [gx, gy] = this.ctx.grid(Math.ceil(n / WG));
    pass.setPipeline(this.pClamp);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(gx, gy);
  }

  private ensureSlots(k: number): void {
    if (k <= this.slotCap) return;
    this.slotCap = Math.max(k, 4);
    this.partials?.destroy();
    this.sums?.destroy();
    this.partials = this.ctx.storage(this.slotCap * MAX_PARTIALS * 4, 'norm partials');
    this.sums = this.ctx.storage(this.slotCap * 4, 'norm sums');
    this.bindCache.forEach((_, key) => key.startsWith('norm') && this.bindCache.delete(key));
  }

  /** Euclidean norms (f64 on the host from f32 sums of squares), one read-back for all. */
  async norms(vs: readonly VecBuf[]): Promise<number[]> {
    return (await this.dots(vs.map((v) => [v, v] as const))).map((s) => Math.sqrt(Math.max(0, s)));
  }

  /** Inner products ⟨a, b⟩ of same-length pairs, one read-back for all. */
  async dots(pairs: readonly (readonly [VecBuf, VecBuf])[]): Promise<number[]> {
    if (pairs.length === 0) return [];
    for (const [a, b] of pairs) if (a.length !== b.length) throw new Error(`dots: lengths differ (${a.length} vs ${b.length})`);
    const vs = pairs.map(([a]) => a);
    this.ensureSlots(vs.length);
    const partials = this.partials!;
    const sums = this.sums!;
    const groupsOf = (n: number) => Math.max(1, Math.min(MAX_PARTIALS, Math.ceil(n / (WG * 4))));
    const maxGroups = Math.max(...vs.map((v) => groupsOf(v.length)));
    this.ctx.run((pass) => {
      // All slots use the same number of partials (short vectors' extra workgroups write 0),
      // so a single fold dispatch covers every slot.
      vs.forEach((v, slot) => {
        const groups = maxGroups;
        const key = `${v.length}:${slot}:${groups}`;
        let u = this.normParams.get(key);
        if (!u) {
          u = this.ctx.uploadUniform(new Uint32Array([v.length, slot, groups, MAX_PARTIALS]), 'norm params');
          this.normParams.set(key, u);
        }
        pass.setPipeline(this.pPartial);
        const w = pairs[slot][1].buffer;
        pass.setBindGroup(0, this.cachedGroup(`norm:${key}:${this.id(v.buffer)}:${this.id(w)}:${this.id(partials)}`, this.pPartial, [u, v.buffer, w, partials]));
        pass.dispatchWorkgroups(groups);
      });
      let f = this.foldParams.get(maxGroups);
      if (!f) {
        f = this.ctx.uploadUniform(new Uint32Array([maxGroups, MAX_PARTIALS, 0, 0]), 'fold params');
        this.foldParams.set(maxGroups, f);
      }
      pass.setPipeline(this.pFold);
      pass.setBindGroup(0, this.cachedGroup(`normfold:${maxGroups}:${this.id(partials)}`, this.pFold, [f, partials, sums]));
      pass.dispatchWorkgroups(vs.length);
    }, 'norms');
    const s = await this.readback.read(sums, 0, vs.length * 4);
    return Array.from(s);
  }

  get bytes(): number {
    return (this.partials?.size ?? 0) + (this.sums?.size ?? 0) + this.readback.bytes + 48;
  }

  destroy(): void {
    this.readback.destroy();
    this.partials?.destroy();
    this.sums?.destroy();
    this.linParams.destroy();
    this.dummy.destroy();
    for (const m of [this.rangeParams, this.normParams]) m.forEach((b) => b.destroy());
    this.foldParams.forEach((b) => b.destroy());
  }
}
