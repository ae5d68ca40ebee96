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

import type { ActivationFn, FcChain, Network, Layer } from '../../src/model/ir.js';

export interface ActSpec {
  readonly fn: ActivationFn;
  readonly param?: number;
  readonly alpha: number;
  readonly beta: number;
}

export const ACTIVATIONS: Record<string, ActSpec> = {
  relu: { fn: 'relu', alpha: 0, beta: 1 },
  leaky: { fn: 'leaky_relu', param: 0.1, alpha: 0.1, beta: 1 },
  tanh: { fn: 'tanh', alpha: 0, beta: 1 },
  sigmoid: { fn: 'sigmoid', alpha: 0, beta: 0.25 },
};

/** A random fully connected network as IR (biases random too: they must not matter). */
export function randomFcNetwork(widths: number[], seed: number, act: ActSpec): { net: Network; chain: FcChain } {
  const specs = randomLayers(widths, seed, { alpha: act.alpha, beta: act.beta });
  const g = gaussian(mulberry32(seed + 99));
  const layers: Layer[] = [];
  const chainLayers: FcChain['layers'][number][] = [];
  specs.forEach((s, k) => {
    const bias = new Float64Array(s.W.rows).map(() => 0.1 * g());
    layers.push({ kind: 'dense', W: s.W, bias, name: `fc${k}` });
    const last = k === specs.length - 1;
    if (!last) {
      const activation = { fn: act.fn, ...(act.param !== undefined ? { param: act.param } : {}), slope: { alpha: act.alpha, beta: act.beta } };
      layers.push({ kind: 'activation', ...activation, name: `act${k}` });
      chainLayers.push({ W: s.W, bias, activation });
    } else chainLayers.push({ W: s.W, bias });
  });
  return {
    net: { inputShape: [widths[0]], layers, outputSize: widths[widths.length - 1], source: `random-${seed}` },
    chain: { inputSize: widths[0], layers: chainLayers },
  };
}
