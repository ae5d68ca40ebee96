/**
 * The memory plan of an import: every tensor the importer is about to allocate (decoded
 * initializers, constant-folding results, external data files, the activations the later phases
 * keep per layer) is first booked here with its size, and anything past the cap is refused with the
 * tensor's name and the bytes it would need — before the allocation, so a 2.6 KB file that asks for
 * ConstantOfShape([2^31]) ends in one line instead of a process at 16 GB.
 *
 * Two caps:
 *  - bytes (`maxMemoryBytes`): default a quarter of the machine's memory, at most 1 GiB. The
 *    import of the largest real model we know (CIFAR-10 ResNets) books a few tens of MB;
 *  - elements of one activation tensor (`maxActivationElements`, default 2^21): the empirical
 *    lower bound and the optimiser run forward/JVP/VJP passes over every activation, and past a
 *    couple of million elements per tensor they cannot finish in their stated time budgets (a
 *    1×1×2000×2000 input ran past both), so such models are refused up front as too large.
 */
import { LipdpError } from './errors.js';

export const GIB = 1024 ** 3;
/** Upper end of the default byte cap. */
export const DEFAULT_MAX_MEMORY_BYTES = GIB;
/** The default cap is this fraction of the machine's total memory, when that is known. */
export const DEFAULT_MEMORY_FRACTION = 0.25;
export const DEFAULT_MAX_ACTIVATION_ELEMENTS = 2 ** 21;
/**
 * Bytes booked per activation element: its Float64 value plus the tangent and cotangent buffers
 * of the JVP/VJP passes and the lower bound's perturbed copy.
 */
export const ACTIVATION_BYTES_PER_ELEMENT = 4 * 8;
/** Multiply-adds constant folding may spend on one MatMul/Gemm (a few seconds in JS). */
export const MAX_FOLD_MULTIPLY_ADDS = 2e9;

interface OsLike {
  totalmem(): number;
}

/** The default byte cap: DEFAULT_MEMORY_FRACTION of total memory, at most 1 GiB (1 GiB if unknown). */
export function defaultMaxMemoryBytes(): number {
  // `getBuiltinModule` keeps this module free of a static node: import (it also runs in browsers).
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const os = proc?.getBuiltinModule?.('node:os') as OsLike | undefined;
  const total = os?.totalmem?.();
  if (!total || !Number.isFinite(total)) return DEFAULT_MAX_MEMORY_BYTES;
  return Math.min(DEFAULT_MAX_MEMORY_BYTES, Math.floor(total * DEFAULT_MEMORY_FRACTION));
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return `${n} bytes`;
  if (n >= GIB) return `${(n / GIB).toPrecision(3)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toPrecision(3)} MiB`;
  if (n >= 1024) return `${(n / 1024).toPrecision(3)} KiB`;
  return `${n} bytes`;
}

export interface MemoryCaps {
  readonly maxMemoryBytes?: number;
  readonly maxActivationElements?: number;
}

export class MemoryPlan {
  readonly maxBytes: number;
  readonly maxActivationElements: number;
  private used = 0;
  private readonly source: string;

  constructor(caps: MemoryCaps, source: string) {
    const m = caps.maxMemoryBytes;
    if (m !== undefined && !(m > 0)) throw new LipdpError('INVALID_ARGUMENT', `maxMemoryBytes must be a positive number of bytes, got ${m}`);
    const a = caps.maxActivationElements;
    if (a !== undefined && !(a > 0)) throw new LipdpError('INVALID_ARGUMENT', `maxActivationElements must be positive, got ${a}`);
    this.maxBytes = m ?? defaultMaxMemoryBytes();
    this.maxActivationElements = a ?? DEFAULT_MAX_ACTIVATION_ELEMENTS;
    this.source = source;
  }

  get bookedBytes(): number {
    return this.used;
  }

  /**
   * Book `bytes` for `what` (e.g. "constant 'x' computed by node 'n' [268435456 elements]"). A
   * NaN or infinite request (overflowing shape arithmetic) is refused like an oversized one.
   */
  book(bytes: number, what: string): void {
    if (!(bytes >= 0) || !Number.isFinite(bytes) || this.used + bytes > this.maxBytes) {
      throw new LipdpError(
        'UNSUPPORTED_STRUCTURE',
        `model too large: ${what} needs ${formatBytes(bytes)}, past the memory cap of ${formatBytes(this.maxBytes)}` +
          `${this.used > 0 ? ` (${formatBytes(this.used)} already booked)` : ''}; raise it with --max-memory / maxMemoryBytes (${this.source})`,
      );
    }
    this.used += bytes;
  }

  /** Book Float64 storage for `elements` entries. */
  bookElements(elements: number, what: string): void {
    this.book(elements * 8, `${what} [${elements} elements]`);
  }

  /** An activation tensor the later phases will hold (forward, JVP, VJP buffers). */
  bookActivation(name: string, dims: readonly number[]): void {
    let n = 1;
    for (const d of dims) n *= d;
    if (!(n <= this.maxActivationElements)) {
      throw new LipdpError(
        'UNSUPPORTED_STRUCTURE',
        `model too large: tensor '${name}' [${dims.join(',')}] has ${n} elements, past the cap of ${this.maxActivationElements} per activation (the lower bound and the optimiser could not finish in their time budgets) (${this.source})`,
      );
    }
    this.book(n * ACTIVATION_BYTES_PER_ELEMENT, `activation '${name}' [${dims.join(',')}]`);
  }
}

/** "1073741824", "512M", "2G", "1.5GiB" → bytes (binary units); for --max-memory. */
export function parseByteSize(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(v);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[(m?.[2] ?? '').toLowerCase()];
  const n = m && unit ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!(n > 0) || !Number.isSafeInteger(n)) {
    throw new LipdpError('INVALID_ARGUMENT', `--max-memory '${v}' is not a size in bytes (e.g. 1073741824, 512M, 2G)`);
  }
  return n;
}
