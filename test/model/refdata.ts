/** Helpers to read ../shared/models/{mnist,cifar10}/images.json and preprocess images per model. */
import { readFileSync } from 'node:fs';

export interface ModelEntry {
  readonly input_shape: readonly (number | string)[];
  readonly layout: 'NCHW' | 'NHWC' | 'FLAT_T';
  readonly pixel_scale: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly predicted_labels_20: readonly number[];
  readonly reference_logits_20: readonly (readonly number[])[];
}

export interface ImagesJson {
  readonly images: readonly { readonly label: number; readonly x: readonly (readonly (readonly number[])[])[] }[];
  readonly models: Readonly<Record<string, ModelEntry>>;
}

export function loadImages(path: string): ImagesJson {
  return JSON.parse(readFileSync(path, 'utf8')) as ImagesJson;
}

/** Apply the preprocessing images.json states for a model: scale, normalise, then lay out. */
export function preprocess(img: ImagesJson['images'][number], m: ModelEntry): Float64Array {
  const C = img.x.length;
  const H = img.x[0]!.length;
  const W = img.x[0]![0]!.length;
  const chw = new Float64Array(C * H * W);
  for (let c = 0; c < C; c++) {
    const mean = m.mean[c] ?? m.mean[0]!;
    const std = m.std[c] ?? m.std[0]!;
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) chw[(c * H + h) * W + w] = ((img.x[c]![h]![w]! - mean) / std) * m.pixel_scale;
    }
  }
  if (m.layout === 'NCHW') return chw;
  const out = new Float64Array(chw.length);
  if (m.layout === 'NHWC') {
    for (let c = 0; c < C; c++) for (let p = 0; p < H * W; p++) out[p * C + c] = chw[c * H * W + p]!;
    return out;
  }
  // FLAT_T: column-major flattening of the (single-channel) image.
  for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) out[w * H + h] = chw[h * W + w]!;
  return out;
}
