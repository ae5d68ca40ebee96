/** GLipSDP models: external data, spectral-norm parametrisation subgraphs, lowering of the MLPs. */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { forward } from '../../src/model/forward.js';
import { importOnnx } from '../../src/model/import.js';
import { fcChainForward, toFcChain } from '../../src/model/lower.js';
import { mulberry32 } from '../../src/util/random.js';

const DIR = fileURLToPath(new URL('../../../shared/models/glipsdp', import.meta.url));
const have = existsSync(DIR);

if (!have && process.env.CI) {
  it('../shared/models/glipsdp must be present in CI', () => {
    throw new Error(`GLipSDP models not found at ${DIR}`);
  });
}

describe.runIf(have)('glipsdp models', () => {
  const files = have ? readdirSync(DIR).filter((f) => f.endsWith('.onnx')).sort() : [];
  for (const f of files) {
    it(`${f} imports (external data) and gives finite outputs`, async () => {
      const net = await importOnnx(`${DIR}/${f}`);
      expect(net.inputShape).toEqual([1, 28, 28]);
      expect(net.outputSize).toBe(10);
      // The spectral-norm subgraphs and the output gain are folded away.
      const kinds = new Set(net.layers.map((l) => l.kind));
      expect(kinds.has('scaleshift')).toBe(false);
      const rand = mulberry32(11);
      const x = Float64Array.from({ length: 784 }, () => rand());
      const y = forward(net, x);
      expect(y.every(Number.isFinite)).toBe(true);
      // Folding is exact: the unsimplified network computes the same function.
      const raw = await importOnnx(`${DIR}/${f}`, { simplify: false });
      const y2 = forward(raw, x);
      y.forEach((v, i) => expect(Math.abs(v - y2[i]!)).toBeLessThan(1e-9 * Math.max(1, Math.abs(v))));
      if (f.startsWith('mlp_')) {
        const chain = toFcChain(net);
        const depth = Number(/L(\d+)/.exec(f)![1]);
        expect(chain.layers.length).toBe(depth + 1);
        expect(chain.inputSize).toBe(784);
        const yc = fcChainForward(chain, x);
        yc.forEach((v, i) => expect(Math.abs(v - y[i]!)).toBeLessThan(1e-9 * Math.max(1, Math.abs(y[i]!))));
      }
    });
  }
});
