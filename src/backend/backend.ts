/**
 * The seam between the ADMM loop and the hardware (docs/method.md §7), in the spirit of SCS/OSQP: the
 * solver is written once against these few operations; `cpu` (Float64Array) and `webgpu` (f32
 * WGSL kernels) implement them. The solver never branches on which backend it has.
 *
 * Two vector spaces exist: X (the decision variables ρ, λ, Q) and S (every LMI block as a full
 * symmetric matrix, then the λ ≥ 0 copy). Vectors are opaque handles owned by the backend, so a
 * GPU backend keeps them resident; only `read`/`norms` cross back to the host.
 */
import type { LayeredSdp } from '../lmi/problem.js';
import type { RoesserProducts } from '../lmi/conv/stage-math.js';
import type { Stage } from '../lmi/conv/stages.js';

export type Space = 'x' | 's';

export interface Vec {
  readonly space: Space;
  readonly length: number;
}

export interface AdapterInfo {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  /**
   * A software renderer on the CPU (lavapipe/llvmpipe, SwiftShader, WARP): WebGPU there shares
   * the cores with the CPU backend and was measured slower than it on every network.
   */
  readonly software?: boolean;
}

/** Operations on one prepared problem. Calls are enqueued in order; only Promise-returning ones sync. */
export interface ProblemOps {
  createVector(space: Space, init?: Float64Array): Vec;
  write(v: Vec, data: Float64Array): void;
  read(v: Vec): Promise<Float64Array>;
  /** out ← a·x + b·y + c·z; y/z may be omitted (their coefficients then ignored). `out` may alias inputs. */
  lincomb(out: Vec, a: number, x: Vec, b?: number, y?: Vec, c?: number, z?: Vec): void;
  /** out (S) ← A x (linear part only). */
  applyA(x: Vec, out: Vec): void;
  /** out (X) ← Aᵀ s. */
  applyAT(s: Vec, out: Vec): void;
  /** out (X) ← (AᵀA)⁻¹ r. */
  solveNormal(r: Vec, out: Vec): void;
  /** v (S) ← Π_K(v): PSD projection of every block, max(·,0) on the λ part. */
  projectCone(v: Vec): void;
  /** Euclidean norms of several vectors, in one round trip. */
  norms(vs: readonly Vec[]): Promise<number[]>;
  /** Inner products ⟨a, b⟩ of several same-space pairs, in one round trip. */
  dots(pairs: readonly (readonly [Vec, Vec])[]): Promise<number[]>;
  /** Bytes of device/host buffers held for this problem (for reports and benchmarks). */
  bufferBytes(): number;
  dispose(): void;
}

/**
 * Host ↔ device traffic since the backend was created: how often the host submits work and waits
 * for results, and how much it moves. (A loop that lives on the device submits many times and
 * reads back a few scalars per iteration; one that does not, reads back whole vectors.)
 */
export interface DeviceTraffic {
  submissions: number;
  /** Read-backs (each a submission of a copy and a wait for the device). */
  readbacks: number;
  bytesUploaded: number;
  bytesDownloaded: number;
  /** Host time spent waiting for read-backs (device work + transfer + queue latency). */
  readbackWaitMs: number;
}

export interface Backend {
  readonly name: 'cpu' | 'webgpu';
  /** Arithmetic of the iterations ('f64' on the CPU, 'f32' on WebGPU). */
  readonly precision: 'f64' | 'f32';
  readonly adapter?: AdapterInfo;
  prepare(problem: LayeredSdp): Promise<ProblemOps>;
  /** The Roesser realisation products of these systems (all stages of a convolutional chain). */
  roesserProducts(systems: readonly Stage['systems'][number][]): Promise<RoesserProducts>;
  /** Host ↔ device traffic so far (device backends only). */
  traffic?(): DeviceTraffic;
  dispose(): void;
}
