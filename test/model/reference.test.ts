/**
 * Importer regression: forward passes against reference logits. The ../shared/models collection
 * is tested wherever it exists (and must exist in CI); the fixtures always.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { forward } from '../../src/model/forward.js';
import { importOnnx } from '../../src/model/import.js';
import { type ImagesJson, loadImages, preprocess } from './refdata.js';

const SHARED = fileURLToPath(new URL('../../../shared/models', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const haveShared = existsSync(SHARED);

/** Max |y − ref| over all images and logits, relative to the logit scale max(1, max|ref|). */
async function checkModel(dir: string, file: string, data: ImagesJson, count: number): Promise<number> {
  const entry = data.models[file]!;
  const net = await importOnnx(`${dir}/${file}`);
  let err = 0;
  let scale = 1;
  for (let i = 0; i < count; i++) {
    const y = forward(net, preprocess(data.images[i]!, entry));
    const ref = entry.reference_logits_20[i]!;
    expect(y.length).toBe(ref.length);
    ref.forEach((r, k) => {
      err = Math.max(err, Math.abs(y[k]! - r));
      scale = Math.max(scale, Math.abs(r));
    });
    // The predicted label must match too (ties are not an issue at this tolerance).
    const arg = [...y].indexOf(Math.max(...y));
    expect(arg).toBe(entry.predicted_labels_20[i]);
  }
  return err / scale;
}

describe('fixtures: forward matches reference logits', () => {
  const data = loadImages(`${FIXTURES}/mnist_images5.json`);
  for (const file of Object.keys(data.models)) {
    it(file, async () => {
      expect(await checkModel(FIXTURES, file, data, data.images.length)).toBeLessThan(1e-4);
    });
  }
});

if (!haveShared && process.env.CI) {
  it('../shared/models must be present in CI', () => {
    throw new Error(`reference models not found at ${SHARED}; CI must run the importer regression`);
  });
}

describe.runIf(haveShared)('../shared/models: forward matches reference_logits_20', () => {
  for (const ds of ['mnist', 'cifar10']) {
    const dir = `${SHARED}/${ds}`;
    const data = haveShared ? loadImages(`${dir}/images.json`) : { images: [], models: {} };
    for (const file of Object.keys(data.models)) {
      it(`${ds}/${file}`, async () => {
        expect(await checkModel(dir, file, data, 20)).toBeLessThan(1e-4);
      });
    }
  }
});
