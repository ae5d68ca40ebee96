/**
 * The seam between the stage-chain optimiser and the hardware (docs/method.md §7), in the spirit
 * of SCS/OSQP: the optimiser is written once against these operations; `cpu` (f64) and `webgpu`
 * (f32 WGSL kernels) implement them, and the optimiser never branches on which backend it has.
 * Today the seam carries the Roesser realisation products of the L-BFGS gradient (all systems of a
 * chain batched); the rest of the iteration and the certificate run in f64 on the CPU.
 */
import type { RoesserProducts } from '../lmi/stage/stage-math.js';
import type { Stage } from '../lmi/stage/stages.js';

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
  /** The Roesser realisation products of these systems (all stages of a convolutional chain). */
  roesserProducts(systems: readonly Stage['systems'][number][]): Promise<RoesserProducts>;
  /** Host ↔ device traffic so far (device backends only). */
  traffic?(): DeviceTraffic;
  dispose(): void;
}
