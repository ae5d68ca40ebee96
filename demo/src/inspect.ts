/**
 * Import-only look at a model (worker side): validates a dropped file before any run and
 * describes its layers for the layer table. Uses the library's importer and shape inference,
 * so a file accepted here is a file the solver can read.
 */
import { importOnnxBytes } from '../../src/model/import.js';
import { toFcChain } from '../../src/model/lower.js';
import { chainShapes, layerInputShape } from '../../src/model/shapes.js';
import { isLipdpError } from '../../src/model/errors.js';
import type { Layer, Network } from '../../src/model/ir.js';
import type { LayerRow, NetworkInfo } from './protocol.js';

export function inspectModel(bytes: Uint8Array, source: string, externalFiles: Record<string, Uint8Array>): NetworkInfo {
  const net = importOnnxBytes(bytes, { source, externalFiles });
  return describeNetwork(net);
}

export function describeNetwork(net: Network): NetworkInfo {
  const rows: LayerRow[] = [];
  const walk = (layers: readonly Layer[], input: ReturnType<typeof layerInputShape>, depth: number) => {
    const shapes = chainShapes(layers, input);
    layers.forEach((l, i) => {
      rows.push({ depth, kind: l.kind, detail: detail(l), inShape: [...shapes[i]!], outShape: [...shapes[i + 1]!], params: paramCount(l) });
      if (l.kind === 'residual') {
        walk(l.branch, shapes[i]!, depth + 1);
        if (l.shortcut.length > 0) walk(l.shortcut, shapes[i]!, depth + 1);
      }
    });
  };
  walk(net.layers, layerInputShape(net), 0);
  return {
    source: net.source,
    inputShape: [...net.inputShape],
    outputSize: net.outputSize,
    layers: rows,
    denseChain: !net.signal && isDenseChain(net),
    signal: !!net.signal,
  };
}

/** Whether estimateLipschitz solves this network as a dense chain (the 'fc' formulation, one dense stage per layer). */
function isDenseChain(net: Network): boolean {
  try {
    toFcChain(net);
    return true;
  } catch (e) {
    if (isLipdpError(e) && e.code === 'UNSUPPORTED_STRUCTURE') return false;
    throw e;
  }
}

function detail(l: Layer): string {
  switch (l.kind) {
    case 'dense':
      return `dense ${l.W.cols}→${l.W.rows}`;
    case 'conv2d':
      return `conv ${l.cin * l.groups}→${l.cout}, kernel ${l.kh}×${l.kw}, stride ${l.stride[0]}${l.groups > 1 ? `, ${l.groups} groups` : ''}`;
    case 'activation':
      return `${l.fn}, slopes in [${round(l.slope.alpha)}, ${round(l.slope.beta)}]`;
    case 'maxpool':
    case 'avgpool':
      return `${l.kind}, kernel ${l.kernel[0]}×${l.kernel[1]}, stride ${l.stride[0]}`;
    case 'conv1d':
      return `conv1d ${l.cin}→${l.cout}, kernel ${l.l}, stride ${l.stride}`;
    case 'ssm':
      return `state space ${l.B.cols}→${l.C.rows}, ${l.A.rows} states`;
    case 'residual':
      return `residual block (branch ${l.branch.length} layers, shortcut ${l.shortcut.length === 0 ? 'identity' : `${l.shortcut.length} layers`})`;
    case 'scaleshift':
      return `scale and shift (per ${l.broadcast})`;
    case 'flatten':
      return `flatten (${l.order})`;
    case 'globalavgpool':
      return 'global average pool';
    case 'pad':
      return `zero pad [${l.pads.join(', ')}]`;
  }
}

function paramCount(l: Layer): number {
  switch (l.kind) {
    case 'dense':
      return l.W.data.length + l.bias.length;
    case 'conv2d':
    case 'conv1d':
      return l.kernel.length + l.bias.length;
    case 'scaleshift':
      return l.scale.length + l.shift.length;
    case 'ssm':
      return l.A.data.length + l.B.data.length + l.C.data.length + l.D.data.length + l.bias.length;
    default:
      return 0;
  }
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}
