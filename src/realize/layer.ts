/**
 * Adapter from the IR's Conv2dLayer to the realization functions, so that callers (LMI builders)
 * get one place that validates what the Roesser construction supports and says which layer failed.
 *
 * - Non-square stride: rejected. The s×s block grid and the I_{s²}⊗Q stride kron of the conv LMI
 *   (docs/method.md §3.2.3) assume one s for both axes. (A rectangular s1×s2 block grid would work in
 *   principle but nothing downstream models it.)
 * - groups > 1: expanded to the equivalent dense kernel (taps between different groups are zero).
 *   Exact, only costs states; a grouped/depthwise conv is still one linear map cin → cout.
 * - Dilation, any stride ≥ 1 relative to the kernel: handled by roesserOfConv (see kernel.ts).
 * - Padding does not enter the realization at all; it only sets the index map (layerDelay).
 */
import type { Conv2dLayer } from '../model/ir.js';
import { roesserOfConv, type ConvRoesser } from './roesser.js';
import { convDelay, type ConvDelay } from './delay.js';

/**
 * OIHW kernel of a grouped conv (cout × cinPerGroup × kh × kw, the IR/PyTorch layout) as the
 * equivalent dense kernel cout × (cinPerGroup·groups) × kh × kw: output channel o of group
 * g = ⌊o / (cout/groups)⌋ reads input channels g·cinPerGroup .. (g+1)·cinPerGroup − 1.
 */
export function denseKernelOfGrouped(
  kernel: Float64Array,
  cout: number,
  cinPerGroup: number,
  kh: number,
  kw: number,
  groups: number,
): Float64Array {
  if (!Number.isInteger(groups) || groups < 1 || cout % groups !== 0) {
    throw new Error(`groups = ${groups} must be a positive integer dividing cout = ${cout}`);
  }
  const taps = kh * kw;
  if (kernel.length !== cout * cinPerGroup * taps) {
    throw new Error(`kernel has ${kernel.length} entries, expected cout·cin·kh·kw = ${cout * cinPerGroup * taps}`);
  }
  if (groups === 1) return kernel;
  const cin = cinPerGroup * groups;
  const coutG = cout / groups;
  const out = new Float64Array(cout * cin * taps);
  for (let o = 0; o < cout; o++) {
    const g = Math.floor(o / coutG);
    for (let ci = 0; ci < cinPerGroup; ci++) {
      const src = (o * cinPerGroup + ci) * taps;
      out.set(kernel.subarray(src, src + taps), (o * cin + g * cinPerGroup + ci) * taps);
    }
  }
  return out;
}

function squareStride(layer: Conv2dLayer): number {
  const [s1, s2] = layer.stride;
  if (s1 !== s2) {
    throw new Error(
      `conv layer '${layer.name}': stride ${s1}×${s2} is not square; the Roesser realization ` +
        `(s×s input blocks, I_{s²}⊗Q stride coupling) needs equal strides in both axes`,
    );
  }
  return s1;
}

/**
 * Roesser realization of an IR conv layer. The IR's `cin` is the kernel's I dimension (input
 * channels per group); the realization's input has cin·groups channels (nu = cin·groups·s²).
 */
export function roesserOfConvLayer(layer: Conv2dLayer): ConvRoesser {
  const s = squareStride(layer);
  try {
    const K = denseKernelOfGrouped(layer.kernel, layer.cout, layer.cin, layer.kh, layer.kw, layer.groups);
    return roesserOfConv(K, layer.cout, layer.cin * layer.groups, layer.kh, layer.kw, s, layer.dilation);
  } catch (e) {
    throw new Error(`conv layer '${layer.name}': ${(e as Error).message}`);
  }
}

/** delay.ts' convDelay for an IR conv layer (PyTorch out(o) = Roesser y(o + delay)). */
export function layerDelay(layer: Conv2dLayer, inputOffset?: readonly [number, number]): ConvDelay {
  const s = squareStride(layer);
  try {
    return convDelay(layer.kh, layer.kw, layer.pads, s, layer.dilation, inputOffset);
  } catch (e) {
    throw new Error(`conv layer '${layer.name}': ${(e as Error).message}`);
  }
}
