/**
 * The ADMM x-update solves (AᵀA) x = r. For the layered SDP this has closed-form structure:
 *
 * - every Q_k appears in exactly two blocks with coefficient ±1 (−Q_k in block k, +Q_k in block
 *   k+1), so the Q–Q part of AᵀA is 2·I;
 * - the "small" variables z = (ρ, λ) couple to Q_k only through matrices g_v (the part of A e_v
 *   lying where Q_k sits): g = −2 e_i e_iᵀ for λ_{k,i}, g = 2αβ w_j w_jᵀ for λ_{k+1,j}.
 *
 * Eliminating Q leaves a dense system H z = r_z − Σ_Q ⟨g_v, r_Q⟩/2 in the small variables only
 * (block tridiagonal over layers, size 1 + Σλ), factored once by Cholesky; then
 * Q = (r_Q − Σ_v z_v g_v)/2. Entries of H (for W ∈ R^{m×n}, G = WWᵀ, a = αβ, c = α+β):
 *   λ_i·λ_j (same layer):  κ a² G_ij² + δ_ij (2c² G_ii + 3)  with κ = 4 if the layer's input is ρI,
 *                                                           else 2 (the Q_in elimination removes half)
 *   λ_{k,i}·λ_{k+1,j}:     2 a_{k+1} W_{k+1}[j,i]²
 *   ρ·ρ: n_0;   ρ·λ_{1,i}: 2 a_1 G_ii.
 */
import { choleskyInPlace, choleskySolve } from '../linalg/cholesky.js';
import type { FcBlock, LayeredSdp } from './problem.js';

export interface NormalSolver {
  /** Solves (AᵀA) x = r, overwriting x. r is not modified. */
  solve(r: Float64Array, x: Float64Array): void;
  /** Dimension of the reduced (ρ, λ) system; exposed for diagnostics. */
  readonly reducedSize: number;
  /** The Cholesky factor of the reduced system (row-major, lower), for backends that solve elsewhere. */
  readonly factor: Float64Array;
}

export function buildNormalSolver(p: LayeredSdp): NormalSolver {
  const nz = 1 + p.lambdaLength;
  const H = new Float64Array(nz * nz);
  const fcBlocks = p.blocks.filter((b): b is FcBlock => b.kind === 'fc');
  // Small-variable index of λ offset o in x is o itself (x = [ρ, λ..., Q...]).
  let prev: FcBlock | undefined;
  for (const blk of p.blocks) {
    if (blk.kind === 'fcLast') {
      if (blk.qIn < 0) H[0] += blk.size;
      continue;
    }
    const { W, alpha, beta } = blk;
    const n = W.cols;
    const m = W.rows;
    const a = alpha * beta;
    const c = alpha + beta;
    const G = gramRows(W.data, m, n);
    const kappa = blk.qIn < 0 ? 4 : 2;
    const o = blk.lambdaOffset;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        const gij = G[i * m + j];
        H[(o + i) * nz + o + j] += kappa * a * a * gij * gij;
      }
      H[(o + i) * nz + o + i] += 2 * c * c * G[i * m + i] + 3;
    }
    if (blk.qIn < 0) {
      H[0] += n;
      for (let i = 0; i < m; i++) {
        const v = 2 * a * G[i * m + i];
        H[o + i] += v;
        H[(o + i) * nz] += v;
      }
    } else if (prev !== undefined && a !== 0) {
      const po = prev.lambdaOffset;
      for (let j = 0; j < m; j++)
        for (let i = 0; i < n; i++) {
          const w = W.data[j * n + i];
          const v = 2 * a * w * w;
          H[(po + i) * nz + o + j] += v;
          H[(o + j) * nz + po + i] += v;
        }
    }
    prev = blk;
  }
  const factor = H;
  if (!choleskyInPlace(factor, nz)) throw new Error('normal equations: reduced system is not positive definite');

  // For each Q_k: the fc block that produces it (−Q_k) and the block that consumes it (+Q_k).
  const producer = new Map<number, FcBlock>();
  const consumer = new Map<number, FcBlock>();
  for (const b of fcBlocks) {
    producer.set(b.qOut, b);
    if (b.qIn >= 0) consumer.set(b.qIn, b);
  }

  const z = new Float64Array(nz);
  const tmp = new Float64Array(Math.max(1, ...p.qVars.map((q) => q.size)));

  return {
    reducedSize: nz,
    factor,
    solve(r: Float64Array, x: Float64Array): void {
      // z-rhs: r_z − Σ_Q ⟨g_v, r_Q⟩/2
      z.set(r.subarray(0, nz));
      p.qVars.forEach((q, k) => {
        const prod = producer.get(k)!;
        const m = q.size;
        for (let i = 0; i < m; i++) z[prod.lambdaOffset + i] -= (-2 * r[q.offset + i * m + i]) / 2;
        const cons = consumer.get(k);
        if (cons && cons.alpha * cons.beta !== 0) {
          const a2 = 2 * cons.alpha * cons.beta;
          const { W } = cons;
          const n = W.cols; // = m
          for (let j = 0; j < W.rows; j++) {
            // w_jᵀ R w_j
            let quad = 0;
            for (let aa = 0; aa < n; aa++) {
              let t = 0;
              const row = q.offset + aa * n;
              for (let bb = 0; bb < n; bb++) t += r[row + bb] * W.data[j * n + bb];
              quad += W.data[j * n + aa] * t;
            }
            z[cons.lambdaOffset + j] -= (a2 * quad) / 2;
          }
        }
      });
      choleskySolve(factor, nz, z);
      x.set(z, 0);
      // Q = (r_Q − Σ_v z_v g_v)/2
      p.qVars.forEach((q, k) => {
        const m = q.size;
        const prod = producer.get(k)!;
        for (let i = 0; i < m * m; i++) x[q.offset + i] = r[q.offset + i] / 2;
        for (let i = 0; i < m; i++) x[q.offset + i * m + i] += z[prod.lambdaOffset + i]; // −(−2 z)/2
        const cons = consumer.get(k);
        if (cons && cons.alpha * cons.beta !== 0) {
          const a = cons.alpha * cons.beta; // −(2a Σ z_j w_j w_jᵀ)/2
          const { W } = cons;
          const n = W.cols;
          for (let j = 0; j < W.rows; j++) {
            const zj = a * z[cons.lambdaOffset + j];
            if (zj === 0) continue;
            for (let aa = 0; aa < n; aa++) {
              const v = zj * W.data[j * n + aa];
              tmp[aa] = v;
            }
            for (let aa = 0; aa < n; aa++) {
              const row = q.offset + aa * n;
              for (let bb = 0; bb < n; bb++) x[row + bb] -= tmp[aa] * W.data[j * n + bb];
            }
          }
        }
      });
    },
  };
}

function gramRows(w: Float64Array, m: number, n: number): Float64Array {
  const g = new Float64Array(m * m);
  for (let i = 0; i < m; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += w[i * n + k] * w[j * n + k];
      g[i * m + j] = s;
      g[j * m + i] = s;
    }
  return g;
}
