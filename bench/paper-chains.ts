/**
 * The paper suite's inner chains (issue 16, "How the table is built"): the authors' Scalability
 * experiment bounds only the inner layers of the GLipSDP networks, without the fixed ×2 gains and
 * with ReLU slopes [0, 1] between them. This module cuts those chains out of the imported
 * networks and writes each as an ONNX file, so that the ordinary harness (lipdp in a child
 * process, the peers on lipdp's SDPA export) runs them like any other model.
 *
 *  - cnn_C{C}_CH{c}: conv layers 1 … C−1 (all c→c, 3×3, stride 1, pad 1), kernels / 2, biases 0,
 *    ReLU between them, the last one linear, input [c, 14, 14] (the Roesser bound does not depend
 *    on the image size; 14 keeps the unrolled forms and the lower bound cheap).
 *  - mlp_L{H}_W{w}: dense layers 1 … H−1 (all but the first and the last), each applied as
 *    linear_iᵀ / 2 (the authors' chain multiplies by the transposed PyTorch weight), biases 0,
 *    ReLU between them.
 *
 * The ×2 gain: the GLipSDP graphs multiply every hidden Conv/Gemm output by a constant before the
 * LeakyReLU, and lipdp's importer folds that constant into the kernel. `layerGains` reads the
 * constants off the graph so the builder can refuse a model whose gain is not 2 instead of
 * silently producing the wrong chain.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importOnnx } from '../src/model/import.js';
import type { Conv2dLayer, DenseLayer, Layer, Network } from '../src/model/ir.js';
import { decodeModel, decodeTensor } from '../src/model/onnx.js';
import { encodeModel, floatTensor, node } from '../src/model/onnx-writer.js';
import { chainInfo, type PaperChainInfo } from './paper-reference.js';

/** The gain the authors' networks apply after every hidden layer (and the chains leave out). */
export const GLIPSDP_GAIN = 2;
/** Image size of the CNN chains' input. */
export const CHAIN_IMAGE = 14;
/**
 * Bumped whenever the chain construction changes, so cached chain files built by an older
 * builder are rebuilt rather than silently reused.
 */
export const BUILDER_VERSION = 1;

const relu = (i: number): Layer => ({ kind: 'activation', fn: 'relu', slope: { alpha: 0, beta: 1 }, name: `relu_${i}` });

/**
 * For every Conv/Gemm node of the graph (in graph order), the constant its output is multiplied
 * by before anything else happens to it; undefined where no such Mul follows.
 */
export function layerGains(bytes: Uint8Array, source: string): (number | undefined)[] {
  const graph = decodeModel(bytes, source).graph!;
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const consumers = new Map<string, typeof graph.node>();
  for (const n of graph.node ?? []) for (const i of n.input ?? []) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const gains: (number | undefined)[] = [];
  for (const n of graph.node ?? []) {
    if (n.opType !== 'Conv' && n.opType !== 'Gemm') continue;
    const next = consumers.get(n.output?.[0] ?? '') ?? [];
    const mul = next.length === 1 && next[0]!.opType === 'Mul' ? next[0]! : undefined;
    const other = mul?.input?.find((i) => i !== n.output?.[0]);
    const t = other !== undefined ? inits.get(other) : undefined;
    // Only scalar gains stored in the model file count; anything else is "no gain found".
    const value = t && !(t.externalData && t.externalData.length > 0) ? decodeTensor(t, other!).data : undefined;
    gains.push(value && value.length === 1 ? value[0]! : undefined);
  }
  return gains;
}

/** The d = C − 1 inner convolutions of an imported cnn_C{C}_CH{c} network as a chain. */
export function innerConvChain(net: Network, source: string): Network {
  const convs = net.layers.filter((l): l is Conv2dLayer => l.kind === 'conv2d');
  const inner = convs.slice(1);
  if (inner.length === 0) throw new Error(`${source}: no inner convolutions`);
  const layers: Layer[] = [];
  inner.forEach((c, i) => {
    if (i > 0) layers.push(relu(i));
    layers.push({ ...c, kernel: c.kernel.map((v) => v / GLIPSDP_GAIN), bias: new Float64Array(c.cout) });
  });
  const c = inner[0]!.cin;
  const last = inner[inner.length - 1]!;
  const [h, w] = convOutput(inner, CHAIN_IMAGE, CHAIN_IMAGE);
  return { inputShape: [c, CHAIN_IMAGE, CHAIN_IMAGE], layers, outputSize: last.cout * h * w, source: `inner_${source}` };
}

/** The d = H − 1 inner dense layers of an imported mlp_L{H}_W{w} network, each as Wᵀ / 2. */
export function innerDenseChain(net: Network, source: string): Network {
  const dense = net.layers.filter((l): l is DenseLayer => l.kind === 'dense');
  const inner = dense.slice(1, -1);
  if (inner.length === 0) throw new Error(`${source}: no inner dense layers`);
  const layers: Layer[] = [];
  inner.forEach((d, i) => {
    if (i > 0) layers.push(relu(i));
    const { rows, cols, data } = d.W;
    const T = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let q = 0; q < cols; q++) T[q * rows + r] = data[r * cols + q]! / GLIPSDP_GAIN;
    layers.push({ kind: 'dense', W: { rows: cols, cols: rows, data: T }, bias: new Float64Array(cols), name: d.name });
  });
  const first = layers[0] as DenseLayer;
  const last = layers[layers.length - 1] as DenseLayer;
  return { inputShape: [first.W.cols], layers, outputSize: last.W.rows, source: `inner_${source}` };
}

function convOutput(convs: readonly Conv2dLayer[], h0: number, w0: number): [number, number] {
  let h = h0;
  let w = w0;
  for (const c of convs) {
    h = Math.floor((h + c.pads[0] + c.pads[2] - c.dilation[0] * (c.kh - 1) - 1) / c.stride[0]) + 1;
    w = Math.floor((w + c.pads[1] + c.pads[3] - c.dilation[1] * (c.kw - 1) - 1) / c.stride[1]) + 1;
  }
  return [h, w];
}

/**
 * The chain as an ONNX model (opset 13, batch 1). Weights are stored as float32, the only type
 * the project's writer emits; the imported chain therefore differs from the in-memory one by the
 * f32 rounding of each entry (~6e-8 relative), far below the 6 digits the tables print.
 */
export function chainToOnnx(chain: Network): Uint8Array {
  const nodes = [];
  const inits = [];
  let x = 'input';
  let k = 0;
  for (const l of chain.layers) {
    const out = `y${k}`;
    if (l.kind === 'conv2d') {
      const w = `w${k}`;
      inits.push(floatTensor(w, [l.cout, l.cin / l.groups, l.kh, l.kw], l.kernel));
      nodes.push(node('Conv', [x, w], [out], l.name || `conv_${k}`, {
        kernel_shape: [l.kh, l.kw],
        pads: [...l.pads],
        strides: [...l.stride],
        dilations: [...l.dilation],
        group: l.groups,
      }));
    } else if (l.kind === 'dense') {
      // Gemm with transB = 1 takes B as [out, in], i.e. lipdp's row-major W as stored.
      const w = `w${k}`;
      inits.push(floatTensor(w, [l.W.rows, l.W.cols], l.W.data));
      nodes.push(node('Gemm', [x, w], [out], l.name || `gemm_${k}`, { transB: 1 }));
    } else if (l.kind === 'activation' && l.fn === 'relu') {
      nodes.push(node('Relu', [x], [out], l.name || `relu_${k}`));
    } else throw new Error(`chainToOnnx: unexpected layer ${l.kind}`);
    x = out;
    k++;
  }
  // The writer names the graph output; the last node must write it.
  const lastNode = nodes[nodes.length - 1]!;
  lastNode.output = ['output'];
  const inputDims = [1, ...chain.inputShape];
  const outputDims = chain.inputShape.length === 3 ? [1, ...outShape(chain)] : [1, chain.outputSize];
  return encodeModel({
    name: chain.source,
    input: { name: 'input', dims: inputDims },
    output: { name: 'output', dims: outputDims },
    nodes,
    initializers: inits,
    docString: `lipdp bench: inner chain of ${chain.source.replace(/^inner_/, '')} (issue 16 paper suite, builder v${BUILDER_VERSION})`,
  });
}

function outShape(chain: Network): number[] {
  const convs = chain.layers.filter((l): l is Conv2dLayer => l.kind === 'conv2d');
  const [h, w] = convOutput(convs, chain.inputShape[1]!, chain.inputShape[2]!);
  return [convs[convs.length - 1]!.cout, h, w];
}

/** Import the source network, check its gains and cut out the inner chain. */
export async function buildInnerChain(sourcePath: string, info: PaperChainInfo): Promise<Network> {
  const gains = layerGains(readFileSync(sourcePath), info.source);
  // Layers 1 … d are the inner ones; each must be followed by the ×2 gain the builder divides out.
  const inner = gains.slice(1, 1 + info.depth);
  if (inner.length !== info.depth || inner.some((g) => g !== GLIPSDP_GAIN))
    throw new Error(`${info.source}: expected a ×${GLIPSDP_GAIN} gain after each of the ${info.depth} inner layers, found ${JSON.stringify(inner)}`);
  const net = await importOnnx(sourcePath);
  const chain = info.family === 'cnn' ? innerConvChain(net, info.source) : innerDenseChain(net, info.source);
  const layerCount = chain.layers.filter((l) => l.kind !== 'activation').length;
  if (layerCount !== info.depth) throw new Error(`${info.source}: expected ${info.depth} inner layers, found ${layerCount}`);
  return chain;
}

interface CacheStamp {
  readonly version: number;
  readonly sourceBytes: number;
  readonly sourceMtimeMs: number;
}

function stampOf(sourcePath: string): CacheStamp {
  const st = statSync(sourcePath);
  return { version: BUILDER_VERSION, sourceBytes: st.size, sourceMtimeMs: Math.round(st.mtimeMs) };
}

/**
 * Write the chain files that are missing or stale (older builder, changed source model) into
 * `cacheDir` as <chain>.onnx, each with a small .stamp.json. Returns the names it (re)built.
 */
export async function ensurePaperChains(chainNames: readonly string[], modelsDir: string, cacheDir: string): Promise<string[]> {
  mkdirSync(cacheDir, { recursive: true });
  const built: string[] = [];
  for (const name of chainNames) {
    const info = chainInfo(name);
    if (!info) throw new Error(`not a paper-suite chain: ${name}`);
    const src = join(modelsDir, 'glipsdp', `${info.source}.onnx`);
    const file = join(cacheDir, `${info.name}.onnx`);
    const stampFile = join(cacheDir, `${info.name}.stamp.json`);
    const want = stampOf(src);
    if (existsSync(file) && existsSync(stampFile)) {
      try {
        if (JSON.stringify(JSON.parse(readFileSync(stampFile, 'utf8'))) === JSON.stringify(want)) continue;
      } catch {
        // unreadable stamp: rebuild
      }
    }
    const chain = await buildInnerChain(src, info);
    writeFileSync(file, chainToOnnx(chain));
    writeFileSync(stampFile, JSON.stringify(want));
    built.push(info.name);
  }
  return built;
}
