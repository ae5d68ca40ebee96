/** Float64 reference backend: the Roesser realisation products in f64 on the CPU (stage-math.ts). */
import type { Backend } from '../backend.js';
import { cpuRoesserProducts, type RoesserProducts } from '../../lmi/stage/stage-math.js';
import type { Stage } from '../../lmi/stage/stages.js';

export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly precision = 'f64' as const;
  async roesserProducts(systems: readonly Stage['systems'][number][]): Promise<RoesserProducts> {
    return cpuRoesserProducts(systems);
  }
  dispose(): void {}
}
