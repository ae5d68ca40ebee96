/**
 * Starting points for the lower-bound search supplied by the user (`samples` option, `--samples`
 * on the command line): data points near which ‖J(x)‖ is worth exploring. Accepted JSON shapes:
 *
 *   [[x₁, x₂, …], …]                       an array of inputs
 *   { "inputs": [[…], …] }                 the same under "inputs"
 *   { "images": [{ "x": … }, …] }          the layout of ../shared/models/{cifar10,mnist}/images.json
 *
 * An input may be nested (e.g. [C][H][W]); it is flattened in row-major order and must then have
 * as many values as the model's input, in the model's own input layout and scaling (the search
 * starts from exactly these points; nothing is normalised or transposed here). Any point is a
 * valid start for a lower bound — a sample in the wrong layout costs search quality, not
 * correctness — but the length must match.
 */
import { LipdpError } from '../model/errors.js';

export type SamplesInput = string | readonly ArrayLike<number>[];

/** Parsed JSON (see the module comment) → flat inputs. */
export function parseSamples(json: unknown, what = 'samples'): Float64Array[] {
  let list: unknown = json;
  if (list && typeof list === 'object' && !Array.isArray(list)) {
    const o = list as Record<string, unknown>;
    if (Array.isArray(o.inputs)) list = o.inputs;
    else if (Array.isArray(o.images)) list = o.images.map((im) => (im && typeof im === 'object' && 'x' in im ? (im as { x: unknown }).x : im));
    else throw new LipdpError('INVALID_ARGUMENT', `${what}: expected an array of inputs, { "inputs": [...] } or { "images": [{ "x": ... }] }`);
  }
  if (!Array.isArray(list)) throw new LipdpError('INVALID_ARGUMENT', `${what}: expected an array of inputs`);
  return list.map((item, k) => {
    const flat: number[] = [];
    flatten(item, flat, `${what}[${k}]`);
    if (flat.length === 0) throw new LipdpError('INVALID_ARGUMENT', `${what}[${k}] is empty`);
    return Float64Array.from(flat);
  });
}

function flatten(v: unknown, out: number[], where: string): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new LipdpError('INVALID_ARGUMENT', `${where}: non-finite value`);
    out.push(v);
  } else if (Array.isArray(v)) for (const w of v) flatten(w, out, where);
  else throw new LipdpError('INVALID_ARGUMENT', `${where}: expected numbers or nested arrays of numbers`);
}

/** The `samples` option: a JSON file path (Node only) or the inputs themselves. */
export async function loadSamples(samples: SamplesInput): Promise<Float64Array[]> {
  if (typeof samples !== 'string') return samples.map((s) => Float64Array.from(s));
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(samples, 'utf8');
  } catch (e) {
    throw new LipdpError('INVALID_ARGUMENT', `cannot read the samples file '${samples}': ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new LipdpError('INVALID_ARGUMENT', `the samples file '${samples}' is not JSON: ${(e as Error).message}`);
  }
  return parseSamples(json, `samples file '${samples}'`);
}
