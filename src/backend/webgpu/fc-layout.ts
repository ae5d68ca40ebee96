/**
 * Flattens a LayeredSdp of fc/fcLast blocks into what the WGSL block kernels read: one f32
 * weights array, per-block and per-Q descriptors, and the descriptor lists of the batched GEMMs,
 * row scalings and quadratic forms of applyA, applyAT and solveNormal. Pure host code (no GPU),
 * recomputed from the LayeredSdp, so lmi/ stays untouched.
 */
import type { LayeredSdp } from '../../lmi/problem.js';
import type { GemmDesc } from './kernels/gemm.js';

export const NONE = 0xffffffff;

export interface BlockDesc {
  sOff: number;
  size: number;
  n: number;
  m: number;
  wOff: number;
  lamOff: number;
  qIn: number;
  qOut: number;
  tOff: number;
  ab2: number;
  apb: number;
}

export interface QDesc {
  qOff: number;
  m: number;
  prodOff: number;
  prodLd: number;
  consOff: number;
  consLd: number;
  prodLam: number;
}

/** T ← diag(c[cOff..]) · W (m×n at wOff) into temp at tOff. */
export interface ScaleDesc {
  wOff: number;
  n: number;
  m: number;
  cOff: number;
  tOff: number;
}

/** g[outOff + i] += coef · Σ_a W[i, a] · T[a, i], with W m×n at wOff and T n×m at tOff. */
export interface QuadDesc {
  wOff: number;
  n: number;
  m: number;
  tOff: number;
  outOff: number;
  coef: number;
}

export interface FcLayout {
  weights: Float32Array;
  blocks: BlockDesc[];
  qs: QDesc[];
  /** Elements of the temp buffer (ΛW, S·Wᵀ, R·Wᵀ share it; one region per fc block). */
  tempLength: number;
  /** 1 + Σλ: the reduced (ρ, λ) system of the normal equations. */
  reducedSize: number;
  applyA: { scale: ScaleDesc[]; gemm: GemmDesc[] };
  applyAT: { gemm: GemmDesc[]; quad: QuadDesc[] };
  normal: { gemmRhs: GemmDesc[]; quad: QuadDesc[]; scale: ScaleDesc[]; gemmQ: GemmDesc[] };
}

export function fcLayout(p: LayeredSdp): FcLayout {
  let wLen = 0;
  let tLen = 0;
  const blocks: BlockDesc[] = [];
  for (const b of p.blocks) {
    const n = b.W.cols;
    const isFc = b.kind === 'fc';
    const m = isFc ? b.W.rows : 0;
    blocks.push({
      sOff: b.sOffset,
      size: b.size,
      n,
      m,
      wOff: isFc ? wLen : 0,
      lamOff: isFc ? b.lambdaOffset : 0,
      qIn: b.qIn < 0 ? NONE : p.qVars[b.qIn].offset,
      qOut: isFc ? p.qVars[b.qOut].offset : NONE,
      tOff: isFc ? tLen : 0,
      ab2: isFc ? 2 * b.alpha * b.beta : 0,
      apb: isFc ? b.alpha + b.beta : 0,
    });
    if (isFc) {
      wLen += m * n;
      tLen += m * n;
    }
  }
  const weights = new Float32Array(Math.max(1, wLen));
  p.blocks.forEach((b, k) => {
    if (b.kind === 'fc') weights.set(b.W.data, blocks[k].wOff);
  });

  const qs: QDesc[] = p.qVars.map((q, k) => {
    const pi = p.blocks.findIndex((b) => b.kind === 'fc' && b.qOut === k);
    const ci = p.blocks.findIndex((b) => b.qIn === k);
    if (pi < 0) throw new Error(`webgpu: Q_${k} has no producing fc block`);
    const prod = blocks[pi];
    const cons = ci >= 0 ? blocks[ci] : undefined;
    return {
      qOff: q.offset,
      m: q.size,
      prodOff: prod.sOff + prod.n * prod.size + prod.n,
      prodLd: prod.size,
      consOff: cons ? cons.sOff : NONE,
      consLd: cons ? cons.size : 0,
      prodLam: prod.lamOff,
    };
  });

  const fc = blocks.filter((b) => b.m > 0 && b.ab2 !== 0);
  const applyA = {
    scale: fc.map((b) => ({ wOff: b.wOff, n: b.n, m: b.m, cOff: b.lamOff, tOff: b.tOff })),
    // (1,1) corner += 2αβ · Wᵀ (ΛW)
    gemm: fc.map((b) => ({ M: b.n, N: b.n, K: b.m, transA: true, aOff: b.wOff, lda: b.n, bOff: b.tOff, ldb: b.n, cOff: b.sOff, ldc: b.size, alpha: b.ab2, beta: 1 })),
  };
  const applyAT = {
    // T = S11 · Wᵀ (n×m), then λ_i += 2αβ · w_iᵀ T_{:,i}
    gemm: fc.map((b) => ({ M: b.n, N: b.m, K: b.n, transB: true, aOff: b.sOff, lda: b.size, bOff: b.wOff, ldb: b.n, cOff: b.tOff, ldc: b.m, alpha: 1, beta: 0 })),
    quad: fc.map((b) => ({ wOff: b.wOff, n: b.n, m: b.m, tOff: b.tOff, outOff: b.lamOff, coef: b.ab2 })),
  };
  // Normal equations: only consumers of a Q (fc blocks with qIn ≥ 0) couple z to Q through W.
  const cons = fc.filter((b) => b.qIn !== NONE);
  const normal = {
    gemmRhs: cons.map((b) => ({ M: b.n, N: b.m, K: b.n, transB: true, aOff: b.qIn, lda: b.n, bOff: b.wOff, ldb: b.n, cOff: b.tOff, ldc: b.m, alpha: 1, beta: 0 })),
    quad: cons.map((b) => ({ wOff: b.wOff, n: b.n, m: b.m, tOff: b.tOff, outOff: b.lamOff, coef: -b.ab2 / 2 })),
    scale: cons.map((b) => ({ wOff: b.wOff, n: b.n, m: b.m, cOff: b.lamOff, tOff: b.tOff })),
    gemmQ: cons.map((b) => ({ M: b.n, N: b.n, K: b.m, transA: true, aOff: b.wOff, lda: b.n, bOff: b.tOff, ldb: b.n, cOff: b.qIn, ldc: b.n, alpha: -b.ab2 / 2, beta: 1 })),
  };
  return { weights, blocks, qs, tempLength: tLen, reducedSize: 1 + p.lambdaLength, applyA, applyAT, normal };
}

/** Packs records of numbers into a u32 buffer; fields listed in `floats` are stored as f32. */
export function packStructs<T extends object>(items: readonly T[], fields: readonly (keyof T)[], floats: readonly (keyof T)[], words: number): ArrayBuffer {
  const buf = new ArrayBuffer(Math.max(1, items.length) * words * 4);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  items.forEach((it, k) => {
    fields.forEach((name, i) => {
      const v = it[name] as unknown as number;
      if (floats.includes(name)) f[k * words + i] = v;
      else u[k * words + i] = v;
    });
  });
  return buf;
}

export const BLOCK_FIELDS: (keyof BlockDesc)[] = ['sOff', 'size', 'n', 'm', 'wOff', 'lamOff', 'qIn', 'qOut', 'tOff', 'ab2', 'apb'];
export const BLOCK_FLOATS: (keyof BlockDesc)[] = ['ab2', 'apb'];
export const Q_FIELDS: (keyof QDesc)[] = ['qOff', 'm', 'prodOff', 'prodLd', 'consOff', 'consLd', 'prodLam'];
export const SCALE_FIELDS: (keyof ScaleDesc)[] = ['wOff', 'n', 'm', 'cOff', 'tOff'];
export const QUAD_FIELDS: (keyof QuadDesc)[] = ['wOff', 'n', 'm', 'tOff', 'outOff', 'coef'];
