/**
 * JSON format for 1-D signal networks with LTI state-space (SSM) layers ("lipdp-ssm"), and its
 * loader `loadSsmJson(path | text) → Network`. Documented for users in examples/oned/README.md.
 *
 *   {
 *     "format": "lipdp-ssm",                 // optional tag
 *     "input": { "channels": 2, "length": 256 },   // length only sets the shape used by forward
 *                                            // passes / the empirical lower bound (default 256);
 *                                            // the certified bound holds for ANY length
 *     "layers": [ <layer>, ... ]
 *   }
 *
 * Layers (all matrices are arrays of rows; a signal is [channels, time]):
 *   {"type":"ssm", "A":[[..]], "B":[[..]], "C":[[..]], "D":[[..]], "bias":[..]?}
 *       x(t+1) = A x(t) + B u(t),  y(t) = C x(t) + D u(t) + bias,  x(0) = 0.
 *       "D" may be omitted (zero). A: n×n, B: n×cin, C: cout×n, D: cout×cin.
 *   {"type":"ssm", "diagA":{"re":[..],"im":[..]}, "B":{"re":[[..]],"im":[[..]]},
 *                  "C":{"re":[[..]],"im":[[..]]}, "D":[[..]]?, "bias":[..]?}
 *       complex-diagonal form as S4D/LRU export it: x ∈ Cⁿ, x(t+1) = diag(λ) x + B u,
 *       y = Re(C x) + D u (+ bias). Any factor 2 of a conjugate-pair convention belongs in C.
 *       Converted to an equivalent REAL realisation: mode λ = a + ib with state r + iq becomes
 *       the 2×2 block [[a, −b],[b, a]] on (r, q), input rows (Re B_j, Im B_j), output columns
 *       (Re C_j, −Im C_j); q is dropped when b = 0 and Im B_j = 0 (it then stays 0).
 *   {"type":"conv1d", "weight":[[[..]]] (cout×cin×k), "bias":[..]?, "stride":1?,
 *                     "padding": p | [left, right]?, "dilation":1?}
 *   {"type":"dense", "W":[[..]] (out×in), "b":[..]?}   applied to every time step separately
 *       (stored as a kernel-1 conv1d: a dense layer mixing time steps has no length-independent
 *       ℓ2 gain, see src/pipeline/solve.ts)
 *   {"type":"relu"|"tanh"|"sigmoid"|"softplus"} | {"type":"leaky_relu","alpha":0.01?} |
 *   {"type":"elu","alpha":1?}
 *
 * Every malformed input raises a one-line LipdpError naming the layer and field.
 */
import { LipdpError } from './errors.js';
import type { ActivationFn, Layer, Matrix, Network } from './ir.js';
import { activationSlope } from './kernels/activation.js';
import { networkShapes, sizeOf } from './shapes.js';

const DEFAULT_LENGTH = 256;
const ACTIVATIONS: readonly ActivationFn[] = ['relu', 'leaky_relu', 'tanh', 'sigmoid', 'elu', 'softplus'];

function fail(msg: string): never {
  throw new LipdpError('MALFORMED_MODEL', msg);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${where} must be a finite number, got ${JSON.stringify(v)?.slice(0, 40)}`);
  return v;
}

function posInt(v: unknown, where: string, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  const n = num(v, where);
  if (!Number.isInteger(n) || n < 1) fail(`${where} must be a positive integer, got ${n}`);
  return n;
}

function vector(v: unknown, where: string): Float64Array {
  if (!Array.isArray(v)) fail(`${where} must be an array of numbers`);
  return Float64Array.from(v, (x, i) => num(x, `${where}[${i}]`));
}

/** A rows×cols matrix from an array of rows; `rows`/`cols` are checked when given. */
function matrix(v: unknown, where: string, rows?: number, cols?: number): Matrix {
  if (!Array.isArray(v) || !v.every(Array.isArray)) fail(`${where} must be a matrix (an array of rows)`);
  const r = v.length;
  const c = r === 0 ? (cols ?? 0) : (v[0] as unknown[]).length;
  if (rows !== undefined && r !== rows) fail(`${where} has ${r} rows, expected ${rows}`);
  if (cols !== undefined && c !== cols) fail(`${where} has ${c} columns, expected ${cols}`);
  const data = new Float64Array(r * c);
  v.forEach((row: unknown[], i) => {
    if (row.length !== c) fail(`${where} row ${i} has ${row.length} entries, expected ${c}`);
    row.forEach((x, j) => (data[i * c + j] = num(x, `${where}[${i}][${j}]`)));
  });
  return { rows: r, cols: c, data };
}

function complexMatrix(v: unknown, where: string, rows: number, cols?: number): { re: Matrix; im: Matrix } {
  if (!isObj(v) || !('re' in v)) fail(`${where} must be {"re": [[..]], "im": [[..]]} for a complex-diagonal SSM`);
  const re = matrix(v.re, `${where}.re`, rows, cols);
  const im = v.im === undefined ? { rows: re.rows, cols: re.cols, data: new Float64Array(re.data.length) } : matrix(v.im, `${where}.im`, rows, re.cols);
  return { re, im };
}

/** Real realisation of a complex-diagonal SSM (see the format above). */
function realiseDiagonal(spec: Record<string, unknown>, where: string, cin: number): { A: Matrix; B: Matrix; C: Matrix } {
  const dA = spec.diagA;
  if (!isObj(dA)) fail(`${where}.diagA must be {"re": [..], "im": [..]}`);
  const re = vector(dA.re, `${where}.diagA.re`);
  const im = dA.im === undefined ? new Float64Array(re.length) : vector(dA.im, `${where}.diagA.im`);
  if (im.length !== re.length) fail(`${where}.diagA.im has ${im.length} entries, re has ${re.length}`);
  const n = re.length;
  const B = complexMatrix(spec.B, `${where}.B`, n, cin);
  const Cm = complexMatrix(spec.C, `${where}.C`, isObj(spec.C) && Array.isArray(spec.C.re) ? spec.C.re.length : 0, n);
  const p = Cm.re.rows;
  // Which modes need the imaginary state: a real pole with a real input row keeps q ≡ 0.
  const keepQ = Array.from({ length: n }, (_, j) => im[j] !== 0 || B.im.data.subarray(j * cin, (j + 1) * cin).some((x) => x !== 0));
  const offs: number[] = [];
  let nx = 0;
  for (let j = 0; j < n; j++) {
    offs.push(nx);
    nx += keepQ[j] ? 2 : 1;
  }
  const A = { rows: nx, cols: nx, data: new Float64Array(nx * nx) };
  const Br = { rows: nx, cols: cin, data: new Float64Array(nx * cin) };
  const Cr = { rows: p, cols: nx, data: new Float64Array(p * nx) };
  for (let j = 0; j < n; j++) {
    const r = offs[j]!;
    A.data[r * nx + r] = re[j]!;
    for (let c = 0; c < cin; c++) Br.data[r * cin + c] = B.re.data[j * cin + c]!;
    for (let o = 0; o < p; o++) Cr.data[o * nx + r] = Cm.re.data[o * n + j]!;
    if (!keepQ[j]) continue;
    const q = r + 1;
    // (r + iq)⁺ = (a + ib)(r + iq) + (Bre + i Bim) u  ⇒  r⁺ = a r − b q + Bre u,  q⁺ = b r + a q + Bim u
    A.data[r * nx + q] = -im[j]!;
    A.data[q * nx + r] = im[j]!;
    A.data[q * nx + q] = re[j]!;
    for (let c = 0; c < cin; c++) Br.data[q * cin + c] = B.im.data[j * cin + c]!;
    // Re((Cre + i Cim)(r + iq)) = Cre r − Cim q
    for (let o = 0; o < p; o++) Cr.data[o * nx + q] = -Cm.im.data[o * n + j]!;
  }
  return { A, B: Br, C: Cr };
}

function ssmLayer(spec: Record<string, unknown>, where: string, cin: number, name: string): Layer {
  let A: Matrix, B: Matrix, C: Matrix;
  if (spec.diagA !== undefined) {
    if (spec.A !== undefined) fail(`${where} has both "A" and "diagA"`);
    ({ A, B, C } = realiseDiagonal(spec, where, cin));
  } else {
    if (spec.A === undefined) fail(`${where} (ssm) needs "A" (or "diagA")`);
    A = matrix(spec.A, `${where}.A`);
    if (A.rows !== A.cols) fail(`${where}.A is ${A.rows}×${A.cols}, must be square`);
    B = matrix(spec.B, `${where}.B`, A.rows, cin);
    if (!Array.isArray(spec.C)) fail(`${where}.C must be a matrix (an array of rows)`);
    C = matrix(spec.C, `${where}.C`, undefined, A.rows);
  }
  const p = C.rows;
  if (p < 1) fail(`${where}.C has no rows (the layer would have no outputs)`);
  const D = spec.D === undefined ? { rows: p, cols: cin, data: new Float64Array(p * cin) } : matrix(spec.D, `${where}.D`, p, cin);
  const bias = spec.bias === undefined ? new Float64Array(p) : vector(spec.bias, `${where}.bias`);
  if (bias.length !== p) fail(`${where}.bias has ${bias.length} entries, the layer has ${p} outputs`);
  return { kind: 'ssm', A, B, C, D, bias, name };
}

function conv1dLayer(spec: Record<string, unknown>, where: string, cin: number, name: string): Layer {
  const w = spec.weight;
  if (!Array.isArray(w) || w.length === 0) fail(`${where}.weight must be a cout×cin×k array`);
  const cout = w.length;
  const planes = w.map((o, i) => matrix(o, `${where}.weight[${i}]`, cin));
  const l = planes[0]!.cols;
  if (l < 1) fail(`${where}.weight has kernel length 0`);
  const kernel = new Float64Array(cout * cin * l);
  planes.forEach((m, o) => {
    if (m.cols !== l) fail(`${where}.weight[${o}] has kernel length ${m.cols}, expected ${l}`);
    kernel.set(m.data, o * cin * l);
  });
  const bias = spec.bias === undefined ? new Float64Array(cout) : vector(spec.bias, `${where}.bias`);
  if (bias.length !== cout) fail(`${where}.bias has ${bias.length} entries for ${cout} output channels`);
  const stride = posInt(spec.stride, `${where}.stride`, 1);
  const dilation = posInt(spec.dilation, `${where}.dilation`, 1);
  let pads: [number, number] = [0, 0];
  if (spec.padding !== undefined) {
    const p = Array.isArray(spec.padding) ? spec.padding : [spec.padding, spec.padding];
    if (p.length !== 2) fail(`${where}.padding must be a number or [left, right]`);
    pads = [num(p[0], `${where}.padding`), num(p[1], `${where}.padding`)];
    if (pads.some((v) => !Number.isInteger(v) || v < 0)) fail(`${where}.padding must be nonnegative integers`);
  }
  return { kind: 'conv1d', kernel, cout, cin, l, bias, stride, pads, dilation, name };
}

/** Per-time-step dense layer as a kernel-1 conv1d (W is out × in). */
function denseLayer(spec: Record<string, unknown>, where: string, cin: number, name: string): Layer {
  const W = matrix(spec.W, `${where}.W`, undefined, cin);
  const b = spec.b === undefined ? new Float64Array(W.rows) : vector(spec.b, `${where}.b`);
  if (b.length !== W.rows) fail(`${where}.b has ${b.length} entries, W has ${W.rows} rows`);
  return { kind: 'conv1d', kernel: Float64Array.from(W.data), cout: W.rows, cin, l: 1, bias: b, stride: 1, pads: [0, 0], dilation: 1, name };
}

/** Parse the JSON text (already decoded) into a Network. */
export function parseSsmJson(text: string, source = 'json'): Network {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    fail(`${source}: not valid JSON (${(e as Error).message})`);
  }
  if (!isObj(doc)) fail(`${source}: top level must be an object with "input" and "layers"`);
  if (doc.format !== undefined && doc.format !== 'lipdp-ssm') fail(`${source}: "format" is ${JSON.stringify(doc.format)}, expected "lipdp-ssm"`);
  if (!isObj(doc.input)) fail(`${source}: "input" must be {"channels": n, "length": T?}`);
  const channels = posInt(doc.input.channels, `${source}: input.channels`);
  const length = posInt(doc.input.length, `${source}: input.length`, DEFAULT_LENGTH);
  if (!Array.isArray(doc.layers) || doc.layers.length === 0) fail(`${source}: "layers" must be a non-empty array`);
  const layers: Layer[] = [];
  let c = channels;
  doc.layers.forEach((spec: unknown, i: number) => {
    const where = `${source}: layers[${i}]`;
    if (!isObj(spec) || typeof spec.type !== 'string') fail(`${where} must be an object with a string "type"`);
    const name = typeof spec.name === 'string' ? spec.name : `${spec.type}${i}`;
    let layer: Layer;
    if (spec.type === 'ssm') layer = ssmLayer(spec, where, c, name);
    else if (spec.type === 'conv1d') layer = conv1dLayer(spec, where, c, name);
    else if (spec.type === 'dense') layer = denseLayer(spec, where, c, name);
    else if ((ACTIVATIONS as readonly string[]).includes(spec.type)) {
      const fn = spec.type as ActivationFn;
      const param = spec.alpha === undefined ? undefined : num(spec.alpha, `${where}.alpha`);
      layer = { kind: 'activation', fn, ...(param !== undefined ? { param } : {}), slope: activationSlope(fn, param), name };
    } else fail(`${where}: unknown type "${spec.type}" (expected ssm, conv1d, dense, ${ACTIVATIONS.join(', ')})`);
    if (layer.kind === 'ssm') c = layer.C.rows;
    else if (layer.kind === 'conv1d') c = layer.cout;
    layers.push(layer);
  });
  const net0: Network = { inputShape: [channels, length], layers, outputSize: 0, source, signal: true };
  let shapes;
  try {
    shapes = networkShapes(net0);
  } catch (e) {
    fail(`${source}: ${(e as Error).message}`);
  }
  return { ...net0, outputSize: sizeOf(shapes[shapes.length - 1]!) };
}

/**
 * Load a lipdp-ssm network from a file path or from the JSON text itself (anything whose first
 * non-blank character is '{' is taken as text).
 */
export async function loadSsmJson(pathOrText: string): Promise<Network> {
  if (pathOrText.trimStart().startsWith('{')) return parseSsmJson(pathOrText);
  let text: string;
  try {
    // Dynamic import: this module is also bundled for the browser demo, where only text is passed.
    const { readFile } = await import('node:fs/promises');
    text = await readFile(pathOrText, 'utf8');
  } catch (e) {
    throw new LipdpError('IO', `cannot read '${pathOrText}': ${(e as Error).message}`);
  }
  return parseSsmJson(text, pathOrText);
}
