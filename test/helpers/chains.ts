import type { Matrix } from '../../src/model/ir.js';
import { gaussian, mulberry32 } from './random.js';

/** A random fc chain spec: widths [n0, n1, ..., nL], slopes per hidden layer. */
export function randomLayers(
  widths: number[],
  seed: number,
  slopes: { alpha: number; beta: number }[] | { alpha: number; beta: number } = { alpha: 0, beta: 1 },
): { W: Matrix; alpha?: number; beta?: number }[] {
  const g = gaussian(mulberry32(seed));
  const out: { W: Matrix; alpha?: number; beta?: number }[] = [];
  for (let k = 1; k < widths.length; k++) {
    const rows = widths[k];
    const cols = widths[k - 1];
    const data = new Float64Array(rows * cols).map(() => g() / Math.sqrt(cols));
    const sl = Array.isArray(slopes) ? slopes[k - 1] : slopes;
    out.push(k < widths.length - 1 ? { W: { rows, cols, data }, ...sl } : { W: { rows, cols, data } });
  }
  return out;
}
