import { describe, expect, it } from 'vitest';
import type { Conv2dLayer } from '../../src/model/ir.js';
import {
  conv2dDirect,
  convDelay,
  cropMap,
  embedMap,
  layerDelay,
  roesserOfConvLayer,
  simulateRoesser,
} from '../../src/realize/index.js';
import { SEED, expectClose, makeRng, randArray, randInt } from './helpers.js';

const rng = makeRng(SEED);

function layer(over: Partial<Conv2dLayer> & Pick<Conv2dLayer, 'cout' | 'cin' | 'kh' | 'kw' | 'groups'>): Conv2dLayer {
  return {
    kind: 'conv2d',
    kernel: randArray(rng, over.cout * over.cin * over.kh * over.kw),
    bias: new Float64Array(over.cout),
    stride: [1, 1],
    pads: [0, 0, 0, 0],
    dilation: [1, 1],
    name: 'conv_test',
    ...over,
  };
}

/** Grouped PyTorch conv from per-group dense convs (independent of denseKernelOfGrouped). */
function groupedDirect(l: Conv2dLayer, x: Float64Array, H: number, W: number) {
  const coutG = l.cout / l.groups;
  const parts = [];
  for (let g = 0; g < l.groups; g++) {
    const Kg = l.kernel.subarray(g * coutG * l.cin * l.kh * l.kw, (g + 1) * coutG * l.cin * l.kh * l.kw);
    const xg = x.subarray(g * l.cin * H * W, (g + 1) * l.cin * H * W);
    parts.push(conv2dDirect(Kg, coutG, l.cin, l.kh, l.kw, xg, H, W, l.stride, l.pads, l.dilation));
  }
  const { height, width } = parts[0]!;
  const data = new Float64Array(l.cout * height * width);
  parts.forEach((p, g) => data.set(p.data, g * coutG * height * width));
  return { data, height, width };
}

describe('roesserOfConvLayer / layerDelay on IR layers', () => {
  it('grouped and depthwise convs (groups expanded to a dense kernel) match PyTorch', () => {
    const shapes: [number, number, number, number][] = [
      // [groups, cout, cinPerGroup, s]
      [2, 4, 1, 1],
      [3, 3, 1, 2], // depthwise
      [2, 2, 2, 1],
      [1, 2, 3, 2],
    ];
    for (const [groups, cout, cin, s] of shapes) {
      const k = randInt(rng, 1, 5);
      const p = randInt(rng, 0, k - 1);
      const l = layer({ cout, cin, kh: k, kw: k, groups, stride: [s, s], pads: [p, p, p, p] });
      const sys = roesserOfConvLayer(l);
      const cinTot = cin * groups;
      expect(sys.nu).toBe(cinTot * s * s);
      const H = randInt(rng, k, k + 6);
      const W = randInt(rng, k, k + 6);
      const x = randArray(rng, cinTot * H * W);
      const ref = groupedDirect(l, x, H, W);
      const { delay, inputOffset } = layerDelay(l);
      expect(delay).toEqual(convDelay(k, k, l.pads, s).delay);
      const z = embedMap({ data: x, channels: cinTot, height: H, width: W }, inputOffset[0], inputOffset[1], H + inputOffset[0], W + inputOffset[1]);
      const y = simulateRoesser(sys, z.data, z.height, z.width, s, ref.height + delay[0], ref.width + delay[1]);
      expectClose(cropMap(y, delay[0], delay[1], ref.height, ref.width).data, ref.data, `groups ${groups} k${k} s${s} p${p}`);
    }
  });

  it('rejects a non-square stride, naming the layer', () => {
    const l = layer({ cout: 1, cin: 1, kh: 3, kw: 3, groups: 1, stride: [1, 2] });
    expect(() => roesserOfConvLayer(l)).toThrow(/conv_test.*not square/);
    expect(() => layerDelay(l)).toThrow(/conv_test.*not square/);
  });

  it('reports bad kernels with the layer name', () => {
    const l = { ...layer({ cout: 2, cin: 1, kh: 3, kw: 3, groups: 1 }), kernel: new Float64Array(5) };
    expect(() => roesserOfConvLayer(l)).toThrow(/conv_test.*expected/);
  });
});
