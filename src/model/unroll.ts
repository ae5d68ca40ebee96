/**
 * Unrolling of a convolutional network into a fully connected chain (the "LipSDP-Neuron on the
 * Toeplitz matrices" alternative to the Roesser stages). Every maximal run of linear layers
 * between two activations (conv with any padding/stride/dilation/groups, average and global
 * average pooling, pad, flatten in either order, scale/shift, dense) is one affine map; its matrix
 * is assembled column by column from the layers' own linear maps (jvp at 0, exact: each column is
 * the layer kernels applied to a unit vector) and its offset from the forward pass at 0. The result
 * is an FcChain that computes exactly the network's function (up to rounding of the bias), so
 * LipSDP-Neuron with one multiplier per unrolled neuron applies (dense stages, src/pipeline/solve.ts).
 *
 * Max pooling and residual blocks are not affine maps between activations: rejected with
 * LipdpError('UNSUPPORTED_STRUCTURE').
 */
import { runStepsSync, type Steps } from '../util/steps.js';
import { LipdpError } from './errors.js';
import type { FcChain, FcChainLayer, Layer, Matrix, Network } from './ir.js';
import { chainForward, chainJvp } from './forward.js';
import { simplifyChain } from './simplify.js';
import { type ValueShape, chainOutputShape, layerInputShape, layerOutputShape, sizeOf } from './shapes.js';

/** Number of unrolled neurons (inputs of every layer of the FC chain) without building it. */
export function unrolledSizes(net: Network): number[] {
  const layers = simplifyChain(net.layers);
  let shape: ValueShape = layerInputShape(net);
  const sizes = [sizeOf(shape)];
  for (const l of layers) {
    check(l);
    shape = layerOutputShape(l, shape);
    if (l.kind === 'activation') sizes.push(sizeOf(shape));
  }
  return sizes;
}

function check(l: Layer): void {
  if (l.kind === 'maxpool' || l.kind === 'residual') {
    throw new LipdpError('UNSUPPORTED_STRUCTURE', `layer '${l.name}' (${l.kind}) cannot be unrolled into a fully connected chain (not affine between activations); use the Roesser formulation`);
  }
}

/** Affine run → dense matrix (rows = output size, cols = input size) and offset. */
function affineOf(run: readonly Layer[], s: ValueShape): { W: Matrix; bias: Float64Array } {
  const n = sizeOf(s);
  const m = sizeOf(chainOutputShape(run, s));
  const zero = new Float64Array(n);
  const bias = run.length ? chainForward(run, s, zero) : new Float64Array(n);
  const W = new Float64Array(m * n);
  const e = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    e[j] = 1;
    const col = run.length ? chainJvp(run, s, zero, e).dy : e;
    for (let i = 0; i < m; i++) W[i * n + j] = col[i]!;
    e[j] = 0;
  }
  return { W: { rows: m, cols: n, data: W }, bias };
}

export function unrollNetwork(net: Network): FcChain {
  return runStepsSync(unrollSteps(net));
}

/** `unrollNetwork`, pausing before each affine run is expanded into its matrix. */
export function* unrollSteps(net: Network): Steps<FcChain> {
  const layers = simplifyChain(net.layers);
  let shape: ValueShape = layerInputShape(net);
  const inputSize = sizeOf(shape);
  const out: FcChainLayer[] = [];
  let run: Layer[] = [];
  let runShape = shape;
  for (const l of layers) {
    check(l);
    if (l.kind === 'activation') {
      yield;
      const { W, bias } = affineOf(run, runShape);
      out.push({ W, bias, activation: { fn: l.fn, slope: l.slope, ...(l.param !== undefined ? { param: l.param } : {}) } });
      shape = layerOutputShape(l, shape);
      run = [];
      runShape = shape;
      continue;
    }
    run.push(l);
    shape = layerOutputShape(l, shape);
  }
  // Last affine run (identity after a trailing activation).
  yield;
  out.push(affineOf(run, runShape));
  return { inputSize, layers: out };
}
