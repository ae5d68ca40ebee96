/**
 * The row kernels the dense routines (linalg/dense.ts, linalg/cholesky.ts) are written against,
 * in two implementations with one interface: JavaScript loops on the caller's arrays, and
 * WebAssembly SIMD (kernels.wat, f64x2) on copies in the module's memory. Where WebAssembly SIMD
 * is available (Node ≥ 16.4, every browser with WebGPU) routines with enough work to pay for the
 * copies run on the SIMD kernels: 2–5× faster on the Newton solver's 300–1400-row Cholesky
 * factorisations (bench/README.md, "WebAssembly SIMD row kernels"), because V8 runs the
 * JavaScript loops as scalar code bound by loads and issue slots.
 *
 * Results: sub4 and sub1 are bit-identical in both implementations; dots4x2's SIMD sums keep two
 * partial sums per output (even and odd k), so they differ from the JavaScript sums by rounding.
 * Both are deterministic. `LIPDP_SIMD=0` in the environment (or setSimd(false)) uses the
 * JavaScript kernels everywhere, e.g. to compare the two.
 */
import { KERNELS_WASM_BASE64 } from './kernels-bytes.js';

/** The kernels; arrays are the memory they address (the SIMD kernels ignore them: one heap). */
export interface RowKernels {
  /**
   * s[2r + c] = Σ_{k < len} X[x + r·n + k]·Y[y + c·n + k] for r < 4, c < 2; returns the array
   * that holds s at indices 0 … 7.
   */
  dots4x2(X: Float64Array, x: number, Y: Float64Array, y: number, n: number, len: number): Float64Array;
  /** d[dst + j] −= w0·b[s0 + j] + w1·b[s1 + j] + w2·b[s2 + j] + w3·b[s3 + j] for j < len (sum left to right). */
  sub4(d: Float64Array, dst: number, b: Float64Array, s0: number, s1: number, s2: number, s3: number, w0: number, w1: number, w2: number, w3: number, len: number): void;
  /** d[dst + j] −= w·b[src + j] for j < len. */
  sub1(d: Float64Array, dst: number, b: Float64Array, src: number, w: number, len: number): void;
}

const sums = new Float64Array(8);

/** The JavaScript kernels (k and j increasing, eight / one sums in registers). */
export const JS_ROWS: RowKernels = {
  dots4x2(X, x, Y, y, n, len) {
    const x1 = x + n;
    const x2 = x1 + n;
    const x3 = x2 + n;
    const y1 = y + n;
    let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0; // prettier-ignore
    for (let k = 0; k < len; k++) {
      const b0 = Y[y + k]!;
      const b1 = Y[y1 + k]!;
      const a0 = X[x + k]!;
      const a1 = X[x1 + k]!;
      const a2 = X[x2 + k]!;
      const a3 = X[x3 + k]!;
      s00 += a0 * b0;
      s01 += a0 * b1;
      s10 += a1 * b0;
      s11 += a1 * b1;
      s20 += a2 * b0;
      s21 += a2 * b1;
      s30 += a3 * b0;
      s31 += a3 * b1;
    }
    sums[0] = s00;
    sums[1] = s01;
    sums[2] = s10;
    sums[3] = s11;
    sums[4] = s20;
    sums[5] = s21;
    sums[6] = s30;
    sums[7] = s31;
    return sums;
  },
  sub4(d, dst, b, s0, s1, s2, s3, w0, w1, w2, w3, len) {
    for (let j = 0; j < len; j++) d[dst + j] -= w0 * b[s0 + j]! + w1 * b[s1 + j]! + w2 * b[s2 + j]! + w3 * b[s3 + j]!;
  },
  sub1(d, dst, b, src, w, len) {
    for (let j = 0; j < len; j++) d[dst + j] -= w * b[src + j]!;
  },
};

interface Exports {
  readonly memory: WebAssembly.Memory;
  dots4x2(x: number, y: number, n: number, len: number, out: number): void;
  sub4(dst: number, s0: number, s1: number, s2: number, s3: number, w0: number, w1: number, w2: number, w3: number, len: number): void;
  sub1(dst: number, src: number, w: number, len: number): void;
}

/** First heap element a routine may use: 0 … 7 hold dots4x2's sums. */
export const HEAP0 = 8;

/**
 * Where a routine runs. `heap` null: on the caller's arrays with `rows`. Otherwise `heap(d)`
 * returns the WebAssembly memory as one Float64Array of at least d elements (a fresh view: growing
 * the memory detaches older ones); the routine copies its operands in from HEAP0 on, runs `rows`
 * on that view and copies its results out. Nothing may keep data in the heap between calls.
 * (WebAssembly memory cannot shrink: it stays at the size of the largest routine so far, e.g.
 * 15 MB after a 1344-row factorisation.)
 */
export interface Workspace {
  readonly rows: RowKernels;
  readonly heap: ((doubles: number) => Float64Array) | null;
}

const JS_WORKSPACE: Workspace = { rows: JS_ROWS, heap: null };
let simd: Workspace | null | undefined;
let enabled = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.LIPDP_SIMD !== '0';

function instantiate(): Workspace | null {
  try {
    const bytes = Uint8Array.from(atob(KERNELS_WASM_BASE64), (c) => c.charCodeAt(0));
    // Synchronous compilation: the module is ~1 kB (browsers allow up to 4 kB on the main thread).
    const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as Exports;
    let view = new Float64Array(ex.memory.buffer);
    const heap = (doubles: number): Float64Array => {
      const need = doubles * 8;
      if (ex.memory.buffer.byteLength < need) ex.memory.grow(Math.ceil((need - ex.memory.buffer.byteLength) / 65536));
      if (view.buffer !== ex.memory.buffer) view = new Float64Array(ex.memory.buffer);
      return view;
    };
    const rows: RowKernels = {
      dots4x2(X, x, _Y, y, n, len) {
        ex.dots4x2(x, y, n, len, 0);
        return X;
      },
      sub4(_d, dst, _b, s0, s1, s2, s3, w0, w1, w2, w3, len) {
        ex.sub4(dst, s0, s1, s2, s3, w0, w1, w2, w3, len);
      },
      sub1(_d, dst, _b, src, w, len) {
        ex.sub1(dst, src, w, len);
      },
    };
    return { rows, heap };
  } catch {
    // No WebAssembly or no SIMD (e.g. an old browser): the JavaScript kernels do the same work.
    return null;
  }
}

/**
 * Multiply-adds below which a routine stays on the caller's arrays: the copies into and out of
 * the heap and the calls into WebAssembly cost about as much as the SIMD kernels save there.
 */
export const SIMD_MIN_WORK = 20_000;

/** The workspace for a routine of about `work` multiply-adds. */
export function workspace(work: number): Workspace {
  if (!enabled || work < SIMD_MIN_WORK) return JS_WORKSPACE;
  if (simd === undefined) simd = instantiate();
  return simd ?? JS_WORKSPACE;
}

/** Turns the SIMD kernels on or off (tests and side-by-side measurements); returns the previous setting. */
export function setSimd(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Whether the SIMD kernels are in use (enabled and instantiable). */
export function simdActive(): boolean {
  if (!enabled) return false;
  if (simd === undefined) simd = instantiate();
  return simd !== null;
}
