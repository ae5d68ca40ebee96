/**
 * Where the model bytes come from: the bundled models (models/models.json, served next to the
 * page) or files the user dropped or picked. A dropped ONNX model may come with external-data
 * files (`model.onnx.data`); they are passed to the library by file name, which is how ONNX
 * models refer to them.
 */

export interface BundledModel {
  readonly file: string;
  readonly name: string;
  readonly description: string;
  readonly licence: string;
}

export interface ModelBytes {
  /** Name used in messages and the report. */
  readonly source: string;
  readonly model: Uint8Array;
  readonly externalFiles: Record<string, Uint8Array>;
}

export interface NamedBytes {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export async function loadManifest(base: URL): Promise<BundledModel[]> {
  const res = await fetch(new URL('models/models.json', base));
  if (!res.ok) throw new Error(`cannot load the bundled model list (HTTP ${res.status})`);
  return (await res.json()) as BundledModel[];
}

export async function fetchBundled(base: URL, m: BundledModel): Promise<ModelBytes> {
  const res = await fetch(new URL(`models/${encodeURIComponent(m.file)}`, base));
  if (!res.ok) throw new Error(`cannot load bundled model ${m.file} (HTTP ${res.status})`);
  return { source: m.file, model: new Uint8Array(await res.arrayBuffer()), externalFiles: {} };
}

/**
 * Split a set of user files into the model and its external data: the model is the one file
 * not ending in `.data` (preferring `.onnx`); every other file is external data by name.
 * Returns a one-line message instead when the set does not contain exactly one model.
 */
export function pickModelFiles(files: readonly NamedBytes[]): ModelBytes | string {
  if (files.length === 0) return 'no file given';
  const isData = (n: string) => /\.data$/i.test(n);
  const candidates = files.filter((f) => !isData(f.name));
  const onnx = candidates.filter((f) => /\.onnx$/i.test(f.name));
  const chosen = onnx.length === 1 ? onnx : candidates;
  if (chosen.length === 0) return 'only external-data files given: add the .onnx model file too';
  if (chosen.length > 1) return `several model files given (${chosen.map((f) => f.name).join(', ')}): drop one model and its .onnx.data`;
  const model = chosen[0];
  const externalFiles: Record<string, Uint8Array> = {};
  for (const f of files) if (f !== model) externalFiles[f.name] = f.bytes;
  return { source: model.name, model: model.bytes, externalFiles };
}

export async function readFiles(list: FileList | readonly File[]): Promise<NamedBytes[]> {
  return Promise.all(Array.from(list, async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
}
