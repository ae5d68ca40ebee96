/**
 * The Roesser realisation products of convolutional stage chains on the GPU (f32), for every
 * system of every stage in one batch (lmi/stage/stage-math.ts RoesserProducts). With F = [A B]
 * (nx × d) and P = blkdiag(P1, P2):
 *   dissipation: PF = P·F, then D = −Fᵀ·PF   (d × d: −AᵀPA, −AᵀPB, −BᵀPB)
 *   adjoint:     FΠ = F·Π, then X = FΠ·Fᵀ   (nx × nx)
 * Two dispatches of the batched strided GEMM (shaders/gemm.wgsl) each, one read-back. F is
 * uploaded once; P and Π are written per call into buffers allocated once (no per-call
 * allocation besides the host arrays handed back).
 */
import type { Stage } from '../../../lmi/stage/stages.js';
import type { RoesserProducts } from '../../../lmi/stage/stage-math.js';
import { systemF } from '../../../lmi/stage/stage-math.js';
import { Readback, type GpuContext } from '../context.js';
import type { GemmKernel, GemmPlan } from './gemm.js';

type System = Stage['systems'][number];

interface Layout {
  readonly nx: number;
  readonly d: number;
  /** Element offsets of this system's F (nx×d), P (nx×nx), PF/FΠ (nx×d), D/Π (d×d), X (nx×nx). */
  readonly f: number;
  readonly p: number;
  readonly pf: number;
  readonly dd: number;
  readonly x: number;
}

export class GpuRoesserProducts implements RoesserProducts {
  readonly precision = 'f32' as const;
  private readonly layout: Layout[];
  private readonly bufs: { F: GPUBuffer; P: GPUBuffer; PF: GPUBuffer; DD: GPUBuffer; X: GPUBuffer };
  private readonly plans: { pf: GemmPlan; d: GemmPlan; fpi: GemmPlan; x: GemmPlan };
  private readonly readback: Readback;
  private readonly sizes: { p: number; dd: number; x: number };

  constructor(
    private readonly ctx: GpuContext,
    gemm: GemmKernel,
    private readonly systems: readonly System[],
  ) {
    let f = 0;
    let p = 0;
    let dd = 0;
    let x = 0;
    this.layout = systems.map((sy) => {
      const nx = sy.nx1 + sy.nx2;
      const d = nx + sy.nin;
      const l = { nx, d, f, p, pf: f, dd, x };
      f += nx * d;
      p += nx * nx;
      dd += d * d;
      x += nx * nx;
      return l;
    });
    this.sizes = { p, dd, x };
    const Fall = new Float32Array(Math.max(f, 1));
    systems.forEach((sy, j) => Fall.set(systemF(sy), this.layout[j]!.f));
    this.bufs = {
      F: ctx.upload(Fall, 'roesser F'),
      P: ctx.storage(p * 4, 'roesser P'),
      PF: ctx.storage(f * 4, 'roesser PF / FΠ'),
      DD: ctx.storage(dd * 4, 'roesser D / Π'),
      X: ctx.storage(x * 4, 'roesser X'),
    };
    const L = this.layout;
    this.plans = {
      // PF = P·F
      pf: gemm.plan(L.map((l) => ({ M: l.nx, N: l.d, K: l.nx, aOff: l.p, lda: l.nx, bOff: l.f, ldb: l.d, cOff: l.pf, ldc: l.d, alpha: 1, beta: 0 }))),
      // D = −Fᵀ·PF
      d: gemm.plan(L.map((l) => ({ M: l.d, N: l.d, K: l.nx, transA: true, aOff: l.f, lda: l.d, bOff: l.pf, ldb: l.d, cOff: l.dd, ldc: l.d, alpha: -1, beta: 0 }))),
      // FΠ = F·Π
      fpi: gemm.plan(L.map((l) => ({ M: l.nx, N: l.d, K: l.d, aOff: l.f, lda: l.d, bOff: l.dd, ldb: l.d, cOff: l.pf, ldc: l.d, alpha: 1, beta: 0 }))),
      // X = FΠ·Fᵀ
      x: gemm.plan(L.map((l) => ({ M: l.nx, N: l.nx, K: l.d, transB: true, aOff: l.pf, lda: l.d, bOff: l.f, ldb: l.d, cOff: l.x, ldc: l.nx, alpha: 1, beta: 0 }))),
    };
    this.readback = new Readback(ctx, 'roesser readback');
  }

  async dissipation(P: readonly { readonly P1: Float64Array; readonly P2: Float64Array }[]): Promise<Float64Array[]> {
    const host = new Float32Array(Math.max(this.sizes.p, 1));
    this.systems.forEach((sy, j) => {
      const { nx, p } = this.layout[j]!;
      const { P1, P2 } = P[j]!;
      for (let r = 0; r < sy.nx1; r++) for (let q = 0; q < sy.nx1; q++) host[p + r * nx + q] = P1[r * sy.nx1 + q]!;
      for (let r = 0; r < sy.nx2; r++) for (let q = 0; q < sy.nx2; q++) host[p + (sy.nx1 + r) * nx + sy.nx1 + q] = P2[r * sy.nx2 + q]!;
    });
    this.ctx.write(this.bufs.P, 0, host);
    this.ctx.run((pass) => {
      this.plans.pf.record(pass, this.bufs.P, this.bufs.F, this.bufs.PF, 'pf');
      this.plans.d.record(pass, this.bufs.F, this.bufs.PF, this.bufs.DD, 'd');
    }, 'roesser dissipation');
    const out = await this.readback.read(this.bufs.DD, 0, this.sizes.dd * 4);
    return this.layout.map((l) => Float64Array.from(out.subarray(l.dd, l.dd + l.d * l.d)));
  }

  async adjoint(Pi: readonly Float64Array[]): Promise<Float64Array[]> {
    const host = new Float32Array(Math.max(this.sizes.dd, 1));
    this.layout.forEach((l, j) => host.set(Pi[j]!, l.dd));
    this.ctx.write(this.bufs.DD, 0, host);
    this.ctx.run((pass) => {
      this.plans.fpi.record(pass, this.bufs.F, this.bufs.DD, this.bufs.PF, 'fpi');
      this.plans.x.record(pass, this.bufs.PF, this.bufs.F, this.bufs.X, 'x');
    }, 'roesser adjoint');
    const out = await this.readback.read(this.bufs.X, 0, this.sizes.x * 4);
    return this.layout.map((l) => Float64Array.from(out.subarray(l.x, l.x + l.nx * l.nx)));
  }

  bufferBytes(): number {
    const b = this.bufs;
    return b.F.size + b.P.size + b.PF.size + b.DD.size + b.X.size + this.readback.bytes + this.plans.pf.bytes * 4;
  }

  dispose(): void {
    for (const b of Object.values(this.bufs)) b.destroy();
    for (const p of Object.values(this.plans)) p.destroy();
    this.readback.destroy();
  }
}

/** Bytes of the largest buffer one system needs (the F / PF buffers or the d × d one). */
function systemBytes(sy: System): number {
  const nx = sy.nx1 + sy.nx2;
  const d = nx + sy.nin;
  return 4 * Math.max(nx * d, d * d);
}

/**
 * The products for any number of systems: split into consecutive groups whose buffers each fit
 * one storage binding (`maxBytes`, the adapter's maxStorageBufferBindingSize by default), one
 * GpuRoesserProducts per group, run one after the other. A single system larger than a binding
 * is refused with a message naming the sizes.
 */
export class SplitRoesserProducts implements RoesserProducts {
  readonly precision = 'f32' as const;
  private readonly groups: { readonly prod: GpuRoesserProducts; readonly from: number; readonly to: number }[] = [];

  constructor(ctx: GpuContext, gemm: GemmKernel, systems: readonly System[], maxBytes = ctx.gpu.limits.maxStorageBufferBindingSize) {
    let from = 0;
    while (from < systems.length) {
      let to = from;
      let bytes = 0;
      while (to < systems.length && bytes + systemBytes(systems[to]!) <= maxBytes) bytes += systemBytes(systems[to++]!);
      if (to === from) {
        this.dispose();
        throw new Error(`model too large for this device: Roesser system '${systems[from]!.name}' needs ${systemBytes(systems[from]!)} bytes in one buffer, limit ${maxBytes} (maxStorageBufferBindingSize)`);
      }
      this.groups.push({ prod: new GpuRoesserProducts(ctx, gemm, systems.slice(from, to)), from, to });
      from = to;
    }
  }

  /** Number of groups the systems were split into. */
  get parts(): number {
    return this.groups.length;
  }

  async dissipation(P: readonly { readonly P1: Float64Array; readonly P2: Float64Array }[]): Promise<Float64Array[]> {
    const out: Float64Array[] = [];
    for (const g of this.groups) out.push(...(await g.prod.dissipation(P.slice(g.from, g.to))));
    return out;
  }

  async adjoint(Pi: readonly Float64Array[]): Promise<Float64Array[]> {
    const out: Float64Array[] = [];
    for (const g of this.groups) out.push(...(await g.prod.adjoint(Pi.slice(g.from, g.to))));
    return out;
  }

  bufferBytes(): number {
    return this.groups.reduce((a, g) => a + g.prod.bufferBytes(), 0);
  }

  dispose(): void {
    for (const g of this.groups) g.prod.dispose();
    this.groups.length = 0;
  }
}
