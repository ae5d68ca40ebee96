/**
 * Solver-free checks of the SDPA export: that the blocks are exactly the LMIs of docs/method.md §2 / §3.1
 * (rebuilt here densely from the formulas), that normalisation is the claimed congruence, and that
 * the text format is well formed.
 */
import { describe, expect, it } from 'vitest';
import {
  assembleBlocks,
  buildLayeredSdp,
  buildLipSdpNeuron,
  toSdpaText,
  unscaleSolution,
  type SdpaProblem,
} from '../../src/lmi/sdpa.js';
import type { FcChain, Matrix } from '../../src/model/ir.js';
import { spectralNormEstimate } from '../../src/linalg/dense.js';
import { makeRng, randomChain, randomMatrix, spectralNorm, testSeed, type ActivationKey } from './helpers.js';

const seed = testSeed();
console.log(`[sdpa.test] seed ${seed} (set LIPDP_TEST_SEED to replay)`);
const rng = makeRng(seed);

const ACTS: ActivationKey[] = ['relu', 'leaky', 'tanh', 'sigmoid'];

/** Dense helpers over row-major arrays, written straight from the formulas. */
function gram(W: Matrix, lam?: Float64Array): Matrix {
  // Wᵀ diag(lam) W (lam = 1 when absent)
  const n = W.cols;
  const d = new Float64Array(n * n);
  for (let a = 0; a < n; a++)
    for (let b = 0; b < n; b++) {
      let s = 0;
      for (let i = 0; i < W.rows; i++) s += (lam ? lam[i]! : 1) * W.data[i * n + a]! * W.data[i * n + b]!;
      d[a * n + b] = s;
    }
  return { rows: n, cols: n, data: d };
}

function putBlock(M: Float64Array, n: number, r0: number, c0: number, A: Matrix, f: number): void {
  for (let i = 0; i < A.rows; i++)
    for (let j = 0; j < A.cols; j++) M[(r0 + i) * n + c0 + j] = M[(r0 + i) * n + c0 + j]! + f * A.data[i * A.cols + j]!;
}

function diagM(v: ArrayLike<number>): Matrix {
  const n = v.length;
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) d[i * n + i] = v[i]!;
  return { rows: n, cols: n, data: d };
}

function transposeTimesDiag(W: Matrix, lam: Float64Array): Matrix {
  // Wᵀ Λ: (cols × rows)
  const d = new Float64Array(W.cols * W.rows);
  for (let i = 0; i < W.rows; i++) for (let j = 0; j < W.cols; j++) d[j * W.rows + i] = W.data[i * W.cols + j]! * lam[i]!;
  return { rows: W.cols, cols: W.rows, data: d };
}

function transpose(A: Matrix): Matrix {
  const d = new Float64Array(A.rows * A.cols);
  for (let i = 0; i < A.rows; i++) for (let j = 0; j < A.cols; j++) d[j * A.rows + i] = A.data[i * A.cols + j]!;
  return { rows: A.cols, cols: A.rows, data: d };
}

function randomX(p: SdpaProblem): Float64Array {
  return Float64Array.from({ length: p.c.length }, () => rng() * 2 - 1);
}

/** Pull (rho, λ_k, Q_k) out of x by the variable map. */
function decode(p: SdpaProblem, x: Float64Array, widths: number[]) {
  const lam = widths.map((n) => new Float64Array(n));
  const Q = widths.map((n) => new Float64Array(n * n));
  let rho = NaN;
  p.vars.forEach((v, i) => {
    if (v.kind === 'rho') rho = x[i]!;
    else if (v.kind === 'lambda') lam[v.layer]![v.index] = x[i]!;
    else if (v.kind === 'Q') {
      const n = widths[v.layer]!;
      Q[v.layer]![v.i * n + v.j] = x[i]!;
      Q[v.layer]![v.j * n + v.i] = x[i]!;
    }
  });
  return { rho, lam, Q };
}

function expectClose(a: Float64Array, b: Float64Array, tol = 1e-12): void {
  expect(a.length).toBe(b.length);
  let scale = 1;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < a.length; i++) {
    if (Math.abs(a[i]! - b[i]!) > tol * scale) throw new Error(`entry ${i}: ${a[i]} vs ${b[i]}`);
  }
}

function randomWidths(depth: number, maxW: number): number[] {
  return Array.from({ length: depth + 1 }, () => 1 + Math.floor(rng() * maxW));
}

function randomActs(depth: number): ActivationKey[] {
  return Array.from({ length: Math.max(depth - 1, 0) }, () => ACTS[Math.floor(rng() * ACTS.length)]!);
}

describe('SDPA export: structure', () => {
  it('has the documented variables and blocks', () => {
    const chain = randomChain(rng, [3, 4, 5, 2], ['relu', 'tanh']);
    const lay = buildLayeredSdp(chain);
    expect(lay.c.length).toBe(1 + 4 + 10 + 5 + 15);
    expect(lay.blockSizes).toEqual([7, 9, 5, -9]);
    expect(lay.vars[0]).toEqual({ kind: 'rho' });
    expect(lay.vars[1]).toEqual({ kind: 'lambda', layer: 1, index: 0 });
    expect(lay.vars[5]).toEqual({ kind: 'Q', layer: 1, i: 0, j: 0 });
    const mono = buildLipSdpNeuron(chain);
    expect(mono.c.length).toBe(1 + 9);
    expect(mono.blockSizes).toEqual([12, -9]);
    for (const p of [lay, mono]) {
      expect(Array.from(p.c)).toEqual(Array.from(p.vars, (v) => (v.kind === 'rho' ? 1 : 0)));
      expect(p.rhoScale).toBe(1);
      expect(p.F.length).toBe(p.c.length + 1);
    }
  });

  it('writes well-formed SDPA text (1-based, upper triangle, no duplicates)', () => {
    const chain = randomChain(rng, [4, 6, 3], ['leaky']);
    for (const p of [buildLayeredSdp(chain), buildLipSdpNeuron(chain)]) {
      const lines = toSdpaText(p).trim().split('\n').filter((l) => !l.startsWith('*'));
      expect(Number(lines[0]!.split(/\s+/)[0])).toBe(p.c.length);
      expect(Number(lines[1]!.split(/\s+/)[0])).toBe(p.blockSizes.length);
      expect(lines[2]!.split(/\s+/).slice(0, p.blockSizes.length).map(Number)).toEqual(p.blockSizes);
      expect(lines[3]!.split(/\s+/).map(Number)).toEqual(Array.from(p.c));
      const seen = new Set<string>();
      for (const l of lines.slice(4)) {
        const [m, b, i, j, v] = l.split(/\s+/).map(Number) as [number, number, number, number, number];
        const size = p.blockSizes[b - 1]!;
        expect(m).toBeGreaterThanOrEqual(0);
        expect(m).toBeLessThanOrEqual(p.c.length);
        expect(i).toBeGreaterThanOrEqual(1);
        expect(i).toBeLessThanOrEqual(j);
        expect(j).toBeLessThanOrEqual(Math.abs(size));
        if (size < 0) expect(i).toBe(j);
        expect(Number.isFinite(v) && v !== 0).toBe(true);
        const key = `${m} ${b} ${i} ${j}`;
        expect(seen.has(key)).toBe(false);
        seen.add(key);
      }
      expect(seen.size).toBe(p.F.reduce((s, e) => s + e.length, 0));
    }
  });

  it('rejects malformed chains', () => {
    const good = randomChain(rng, [3, 4, 2], ['relu']);
    const bad1: FcChain = { inputSize: 5, layers: good.layers };
    expect(() => buildLipSdpNeuron(bad1)).toThrow(/inputs/);
    const bad2: FcChain = { inputSize: 3, layers: [{ W: good.layers[0]!.W, bias: good.layers[0]!.bias }, good.layers[1]!] };
    expect(() => buildLayeredSdp(bad2)).toThrow(/no activation/);
    const bad3: FcChain = { inputSize: 3, layers: [good.layers[0]!] };
    expect(() => buildLayeredSdp(bad3)).toThrow(/last layer/);
  });
});

describe('SDPA export: blocks equal the LMIs of docs/method.md §2 / §3.1', () => {
  it('layered blocks (§3.1, general [α, β])', () => {
    for (let trial = 0; trial < 6; trial++) {
      const depth = 1 + (trial % 4);
      const widths = randomWidths(depth, 7);
      const acts = randomActs(depth);
      const chain = randomChain(rng, widths, acts);
      const p = buildLayeredSdp(chain);
      const x = randomX(p);
      const got = assembleBlocks(p, x);
      const { rho, lam, Q } = decode(p, x, widths);
      const ell = depth;
      for (let k = 1; k < ell; k++) {
        const W = chain.layers[k - 1]!.W;
        const { alpha, beta } = chain.layers[k - 1]!.activation!.slope;
        const nIn = widths[k - 1]!;
        const n = nIn + widths[k]!;
        const M = new Float64Array(n * n);
        const Qin = k === 1 ? diagM(new Float64Array(nIn).fill(rho)) : { rows: nIn, cols: nIn, data: Q[k - 1]! };
        putBlock(M, n, 0, 0, Qin, 1);
        putBlock(M, n, 0, 0, gram(W, lam[k]!), 2 * alpha * beta);
        const WtL = transposeTimesDiag(W, lam[k]!);
        putBlock(M, n, 0, nIn, WtL, -(alpha + beta));
        putBlock(M, n, nIn, 0, transpose(WtL), -(alpha + beta));
        putBlock(M, n, nIn, nIn, diagM(lam[k]!), 2);
        putBlock(M, n, nIn, nIn, { rows: widths[k]!, cols: widths[k]!, data: Q[k]! }, -1);
        expectClose(got[k - 1]!, M);
      }
      const nL = widths[ell - 1]!;
      const last = new Float64Array(nL * nL);
      putBlock(last, nL, 0, 0, ell === 1 ? diagM(new Float64Array(nL).fill(rho)) : { rows: nL, cols: nL, data: Q[ell - 1]! }, 1);
      putBlock(last, nL, 0, 0, gram(chain.layers[ell - 1]!.W), -1);
      expectClose(got[ell - 1]!, last);
      if (ell > 1) expectClose(got[ell]!, Float64Array.from(lam.slice(1, ell).flatMap((l) => Array.from(l))));
      else expect(got.length).toBe(1);
    }
  });

  it('LipSDP-Neuron block (§2, ⪰ form, [α, β] per layer)', () => {
    for (let trial = 0; trial < 6; trial++) {
      const depth = 1 + (trial % 4);
      const widths = randomWidths(depth, 7);
      const acts = randomActs(depth);
      const chain = randomChain(rng, widths, acts);
      const p = buildLipSdpNeuron(chain);
      const x = randomX(p);
      const got = assembleBlocks(p, x);
      const { rho, lam } = decode(p, x, widths);
      const n0 = widths[0]!;
      const N = widths.slice(1, depth).reduce((s, w) => s + w, 0);
      const size = n0 + N;
      // A: stacked pre-activations; B: selects the hidden outputs. Both N × size.
      const A = new Float64Array(N * size);
      const B = new Float64Array(N * size);
      const T = new Float64Array(4 * N * N); // [[−2αβΛ, (α+β)Λ], [(α+β)Λ, −2Λ]]
      let row = 0;
      let inOff = 0;
      for (let k = 1; k < depth; k++) {
        const W = chain.layers[k - 1]!.W;
        const { alpha, beta } = chain.layers[k - 1]!.activation!.slope;
        for (let pIdx = 0; pIdx < W.rows; pIdx++, row++) {
          for (let j = 0; j < W.cols; j++) A[row * size + inOff + j] = W.data[pIdx * W.cols + j]!;
          B[row * size + n0 + row] = 1;
          const l = lam[k]![pIdx]!;
          T[row * 2 * N + row] = -2 * alpha * beta * l;
          T[row * 2 * N + N + row] = (alpha + beta) * l;
          T[(N + row) * 2 * N + row] = (alpha + beta) * l;
          T[(N + row) * 2 * N + N + row] = -2 * l;
        }
        inOff = k === 1 ? n0 : inOff + widths[k - 1]!;
      }
      const AB = new Float64Array(2 * N * size);
      AB.set(A, 0);
      AB.set(B, N * size);
      const M = new Float64Array(size * size);
      // M = −ABᵀ T AB
      for (let a = 0; a < size; a++)
        for (let b = 0; b < size; b++) {
          let s = 0;
          for (let r = 0; r < 2 * N; r++) {
            const t = AB[r * size + a]!;
            if (t === 0) continue;
            for (let q = 0; q < 2 * N; q++) s += t * T[r * 2 * N + q]! * AB[q * size + b]!;
          }
          M[a * size + b] = -s;
        }
      for (let i = 0; i < n0; i++) M[i * size + i] = M[i * size + i]! + rho;
      const lastOff = depth === 1 ? 0 : size - widths[depth - 1]!;
      putBlock(M, size, lastOff, lastOff, gram(chain.layers[depth - 1]!.W), -1);
      expectClose(got[0]!, M);
    }
  });

  it('a single-layer chain gives ρI − WᵀW in both formulations', () => {
    const chain = randomChain(rng, [5, 3], []);
    const a = buildLayeredSdp(chain);
    const b = buildLipSdpNeuron(chain);
    expect(a.blockSizes).toEqual([5]);
    expect(a.F).toEqual(b.F);
  });
});

describe('SDPA export: normalisation', () => {
  it('spectralNormEstimate matches an independent eigenvalue computation', () => {
    for (let t = 0; t < 5; t++) {
      const W = randomMatrix(rng, 1 + Math.floor(rng() * 30), 1 + Math.floor(rng() * 30));
      const est = spectralNormEstimate(W, 5000);
      const ref = spectralNorm(W);
      expect(est).toBeLessThanOrEqual(ref * (1 + 1e-12));
      expect(Math.abs(est - ref) / ref).toBeLessThan(1e-6);
    }
  });

  it('is the homogeneity congruence: M_orig(unscale(x̃)) = a · D⁻¹ M̃(x̃) D⁻¹', () => {
    for (let trial = 0; trial < 4; trial++) {
      const depth = 1 + trial;
      const widths = randomWidths(depth, 6);
      const chain = randomChain(rng, widths, randomActs(depth));
      for (const build of [buildLayeredSdp, buildLipSdpNeuron]) {
        const pn = build(chain, { normalise: true });
        const po = build(chain);
        const s = pn.layerScales;
        expect(pn.rhoScale).toBeCloseTo(Array.from(s).reduce((a, v) => a * v * v, 1), 12);
        const xt = randomX(pn);
        const Mn = assembleBlocks(pn, xt);
        const Mo = assembleBlocks(po, unscaleSolution(pn, xt));
        // Per block: the scalar a and the per-row scaling d (row i of the block is divided by d_i).
        const tail = (k: number) => Array.from(s).slice(k).reduce((a, v) => a * v * v, 1); // Π_{j>k} s_j²
        const checks: { a: number; d: number[] }[] = [];
        if (build === buildLayeredSdp) {
          for (let k = 1; k < depth; k++) {
            checks.push({ a: tail(k - 1), d: [...Array(widths[k - 1]).fill(1), ...Array(widths[k]).fill(s[k - 1]!)] });
          }
          checks.push({ a: tail(depth - 1), d: Array(widths[depth - 1]).fill(1) });
        } else {
          const d: number[] = Array(widths[0]).fill(1);
          let S = 1;
          for (let k = 1; k < depth; k++) {
            S *= s[k - 1]!;
            d.push(...Array(widths[k]).fill(S));
          }
          checks.push({ a: tail(0), d });
        }
        checks.forEach(({ a, d }, b) => {
          const n = d.length;
          const expected = new Float64Array(n * n);
          for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expected[i * n + j] = (a * Mn[b]![i * n + j]!) / (d[i]! * d[j]!);
          expectClose(Mo[b]!, expected, 1e-11);
        });
        // λ block: λ_orig = xScale · λ̃ entrywise, and xScale > 0 keeps λ ≥ 0.
        expect(Array.from(pn.xScale).every((v) => v > 0)).toBe(true);
      }
    }
  });
});
