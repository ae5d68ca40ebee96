/**
 * Float64 reference backend: vectors are Float64Arrays, block products are the reference
 * operators of lmi/fc-ops.ts, the PSD projection is Householder + implicit QR (linalg/eig.ts).
 */
import type { Backend, ProblemOps, Space, Vec } from '../backend.js';
import type { LayeredSdp } from '../../lmi/problem.js';
import { applyA, applyAT } from '../../lmi/fc-ops.js';
import { buildNormalSolver } from '../../lmi/normal.js';
import { projectPsdInPlace } from '../../linalg/eig.js';
import { cpuRoesserProducts, type RoesserProducts } from '../../lmi/conv/stage-math.js';
import type { Stage } from '../../lmi/conv/stages.js';

class CpuVec implements Vec {
  constructor(
    readonly space: Space,
    readonly data: Float64Array,
  ) {}
  get length(): number {
    return this.data.length;
  }
}

function d(v: Vec): Float64Array {
  return (v as CpuVec).data;
}

class CpuProblemOps implements ProblemOps {
  private readonly normal;
  private bytes = 0;

  constructor(private readonly p: LayeredSdp) {
    this.normal = buildNormalSolver(p);
    this.bytes += this.normal.factor.byteLength;
  }

  createVector(space: Space, init?: Float64Array): Vec {
    const n = space === 'x' ? this.p.xLength : this.p.sLength;
    const data = new Float64Array(n);
    if (init) {
      if (init.length !== n) throw new Error(`cpu backend: ${space}-vector needs ${n} entries, got ${init.length}`);
      data.set(init);
    }
    this.bytes += data.byteLength;
    return new CpuVec(space, data);
  }

  write(v: Vec, data: Float64Array): void {
    d(v).set(data);
  }

  async read(v: Vec): Promise<Float64Array> {
    return Float64Array.from(d(v));
  }

  lincomb(out: Vec, a: number, x: Vec, b = 0, y?: Vec, c = 0, z?: Vec): void {
    const o = d(out);
    const xd = d(x);
    const yd = y ? d(y) : undefined;
    const zd = z ? d(z) : undefined;
    const n = o.length;
    if (yd && zd) for (let i = 0; i < n; i++) o[i] = a * xd[i] + b * yd[i] + c * zd[i];
    else if (yd) for (let i = 0; i < n; i++) o[i] = a * xd[i] + b * yd[i];
    else for (let i = 0; i < n; i++) o[i] = a * xd[i];
  }

  applyA(x: Vec, out: Vec): void {
    applyA(this.p, d(x), d(out));
  }

  applyAT(s: Vec, out: Vec): void {
    applyAT(this.p, d(s), d(out));
  }

  solveNormal(r: Vec, out: Vec): void {
    this.normal.solve(d(r), d(out));
  }

  projectCone(v: Vec): void {
    const s = d(v);
    for (const blk of this.p.blocks) projectPsdInPlace(s.subarray(blk.sOffset, blk.sOffset + blk.size * blk.size), blk.size);
    for (let i = this.p.nonnegOffset; i < this.p.sLength; i++) if (s[i] < 0) s[i] = 0;
  }

  async norms(vs: readonly Vec[]): Promise<number[]> {
    return vs.map((v) => {
      const a = d(v);
      let s = 0;
      for (let i = 0; i < a.length; i++) s += a[i] * a[i];
      return Math.sqrt(s);
    });
  }

  async dots(pairs: readonly (readonly [Vec, Vec])[]): Promise<number[]> {
    return pairs.map(([a, b]) => {
      const x = d(a);
      const y = d(b);
      let s = 0;
      for (let i = 0; i < x.length; i++) s += x[i] * y[i];
      return s;
    });
  }

  bufferBytes(): number {
    return this.bytes;
  }

  dispose(): void {}
}

export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly precision = 'f64' as const;
  async prepare(problem: LayeredSdp): Promise<ProblemOps> {
    return new CpuProblemOps(problem);
  }
  async roesserProducts(systems: readonly Stage['systems'][number][]): Promise<RoesserProducts> {
    return cpuRoesserProducts(systems);
  }
  dispose(): void {}
}
