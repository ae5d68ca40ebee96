/**
 * Matrix-free block operators of the layered SDP (reference implementation, Float64):
 *   applyA:    s ← A x          (the linear part of every block, and the λ copy)
 *   constantB: b                (the constant part: −WᵀW in the last block)
 *   applyAT:   x ← Aᵀ s         (adjoint w.r.t. the Frobenius inner product on full storage)
 * Both backends must agree with these; the CPU backend calls them directly.
 */
import type { FcBlock, FcLastBlock, LayeredSdp } from './problem.js';

export function applyA(p: LayeredSdp, x: Float64Array, s: Float64Array): void {
  for (const blk of p.blocks) {
    if (blk.kind === 'fc') applyFc(p, blk, x, s);
    else applyFcLast(p, blk, x, s);
  }
  s.set(x.subarray(1, 1 + p.lambdaLength), p.nonnegOffset);
}

/** Writes the incoming weight (Q_in, or ρI) into the leading n×n corner of a block. */
function writeIncoming(p: LayeredSdp, qIn: number, n: number, size: number, x: Float64Array, s: Float64Array, off: number): void {
  if (qIn < 0) {
    const rho = x[p.rhoIndex];
    for (let i = 0; i < n; i++) {
      const r = off + i * size;
      for (let j = 0; j < n; j++) s[r + j] = 0;
      s[r + i] = rho;
    }
  } else {
    const q = p.qVars[qIn];
    for (let i = 0; i < n; i++) s.set(x.subarray(q.offset + i * n, q.offset + i * n + n), off + i * size);
  }
}

function applyFc(p: LayeredSdp, blk: FcBlock, x: Float64Array, s: Float64Array): void {
  const { W, alpha, beta, size } = blk;
  const n = W.cols;
  const m = W.rows;
  const off = blk.sOffset;
  const lam = x.subarray(blk.lambdaOffset, blk.lambdaOffset + m);
  writeIncoming(p, blk.qIn, n, size, x, s, off);
  const ab2 = 2 * alpha * beta;
  if (ab2 !== 0) {
    // + 2αβ WᵀΛW
    for (let i = 0; i < m; i++) {
      const c = ab2 * lam[i];
      if (c === 0) continue;
      const wi = i * n;
      for (let a = 0; a < n; a++) {
        const ca = c * W.data[wi + a];
        const r = off + a * size;
        for (let b = 0; b < n; b++) s[r + b] += ca * W.data[wi + b];
      }
    }
  }
  const apb = alpha + beta;
  const q = p.qVars[blk.qOut];
  for (let i = 0; i < m; i++) {
    const ri = off + (n + i) * size;
    const c = -apb * lam[i];
    for (let j = 0; j < n; j++) {
      const v = c * W.data[i * n + j];
      s[ri + j] = v; // (2,1) block: −(α+β) ΛW
      s[off + j * size + n + i] = v; // (1,2) block: its transpose
    }
    const qi = q.offset + i * m;
    for (let j = 0; j < m; j++) s[ri + n + j] = -x[qi + j];
    s[ri + n + i] += 2 * lam[i];
  }
}

function applyFcLast(p: LayeredSdp, blk: FcLastBlock, x: Float64Array, s: Float64Array): void {
  writeIncoming(p, blk.qIn, blk.size, blk.size, x, s, blk.sOffset);
}

/** The constant part b of s = A x + b. */
export function constantB(p: LayeredSdp): Float64Array {
  const b = new Float64Array(p.sLength);
  for (const blk of p.blocks) {
    if (blk.kind !== 'fcLast') continue;
    const { W, size } = blk;
    const n = W.cols;
    // −WᵀW
    for (let k = 0; k < W.rows; k++) {
      const wk = k * n;
      for (let a = 0; a < n; a++) {
        const wa = W.data[wk + a];
        if (wa === 0) continue;
        const r = blk.sOffset + a * size;
        for (let c = 0; c < n; c++) b[r + c] -= wa * W.data[wk + c];
      }
    }
  }
  return b;
}

/** g ← Aᵀ s (overwrites g). */
export function applyAT(p: LayeredSdp, s: Float64Array, g: Float64Array): void {
  g.fill(0);
  for (const blk of p.blocks) {
    if (blk.kind === 'fc') adjointFc(p, blk, s, g);
    else adjointIncoming(p, blk.qIn, blk.size, blk.size, s, blk.sOffset, g);
  }
  const lam = g.subarray(1, 1 + p.lambdaLength);
  for (let i = 0; i < p.lambdaLength; i++) lam[i] += s[p.nonnegOffset + i];
}

function adjointIncoming(p: LayeredSdp, qIn: number, n: number, size: number, s: Float64Array, off: number, g: Float64Array): void {
  if (qIn < 0) {
    let tr = 0;
    for (let i = 0; i < n; i++) tr += s[off + i * size + i];
    g[p.rhoIndex] += tr;
  } else {
    const q = p.qVars[qIn];
    for (let i = 0; i < n; i++) {
      const r = off + i * size;
      const qi = q.offset + i * n;
      for (let j = 0; j < n; j++) g[qi + j] += s[r + j];
    }
  }
}

function adjointFc(p: LayeredSdp, blk: FcBlock, s: Float64Array, g: Float64Array): void {
  const { W, alpha, beta, size } = blk;
  const n = W.cols;
  const m = W.rows;
  const off = blk.sOffset;
  adjointIncoming(p, blk.qIn, n, size, s, off, g);
  const ab2 = 2 * alpha * beta;
  const apb = alpha + beta;
  const tmp = new Float64Array(n);
  const q = p.qVars[blk.qOut];
  for (let i = 0; i < m; i++) {
    const wi = i * n;
    let v = 0;
    if (ab2 !== 0) {
      // w_iᵀ S11 w_i
      for (let a = 0; a < n; a++) {
        let t = 0;
        const r = off + a * size;
        for (let b = 0; b < n; b++) t += s[r + b] * W.data[wi + b];
        tmp[a] = t;
      }
      let quad = 0;
      for (let a = 0; a < n; a++) quad += W.data[wi + a] * tmp[a];
      v += ab2 * quad;
    }
    // −(α+β)(⟨S21_i, w_i⟩ + ⟨S12_{:,i}, w_i⟩)
    const ri = off + (n + i) * size;
    let cross = 0;
    for (let j = 0; j < n; j++) cross += (s[ri + j] + s[off + j * size + n + i]) * W.data[wi + j];
    v -= apb * cross;
    v += 2 * s[ri + n + i];
    g[blk.lambdaOffset + i] += v;
    const qi = q.offset + i * m;
    for (let j = 0; j < m; j++) g[qi + j] -= s[ri + n + j];
  }
}
