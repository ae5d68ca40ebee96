/**
 * Roesser systems of IR conv layers for the stage LMIs, optionally with an extra output delay.
 *
 * A delay of d output-grid steps per axis is realised by appending d·s zero rows / columns at the
 * bottom / right of the (expanded) kernel: with the bottom-right anchor rule
 * y(i) = Σ_{a<L} K(a) z(i·s + s − L + a), the kernel K' = [K; 0_{d·s}] of extent L + d·s gives
 * y'(i) = Σ_{a<L} K(a) z((i − d)·s + s − L + a) = y(i − d). The phase condition of delay.ts is
 * unchanged (L' ≡ L mod s), so the PyTorch ↔ Roesser delay simply grows by d. This is how residual
 * skips are aligned with their branch (docs/method.md §5.2).
 */
import type { Conv2dLayer, Matrix } from '../../model/ir.js';
import { LipdpError } from '../../model/errors.js';
import { denseKernelOfGrouped, expandKernel2d, roesserOfConv, roesserFull, type ConvRoesser } from '../../realize/index.js';

export interface ConvSystem {
  readonly sys: ConvRoesser;
  readonly A: Matrix;
  readonly B: Matrix;
  readonly C: Matrix;
  readonly D: Matrix;
  /** cin of the realization (all groups). */
  readonly cin: number;
  readonly cout: number;
  readonly stride: number;
}

export function squareStride(layer: Conv2dLayer): number {
  if (layer.stride[0] !== layer.stride[1]) {
    throw new LipdpError('UNSUPPORTED_STRUCTURE', `conv layer '${layer.name}': stride ${layer.stride[0]}×${layer.stride[1]} is not square (the Roesser realization needs equal strides)`);
  }
  return layer.stride[0];
}

/** Roesser system of the conv, its output delayed by `extra` = [rows, cols] output-grid steps. */
export function convSystem(layer: Conv2dLayer, extra: readonly [number, number] = [0, 0]): ConvSystem {
  const s = squareStride(layer);
  const cin = layer.cin * layer.groups;
  const dense = denseKernelOfGrouped(layer.kernel, layer.cout, layer.cin, layer.kh, layer.kw, layer.groups);
  const ek = expandKernel2d(dense, layer.cout, cin, layer.kh, layer.kw, layer.dilation, s);
  let K = ek.kernel;
  let L1 = ek.kh;
  let L2 = ek.kw;
  if (extra[0] > 0 || extra[1] > 0) {
    const M1 = L1 + extra[0] * s;
    const M2 = L2 + extra[1] * s;
    const out = new Float64Array(layer.cout * cin * M1 * M2);
    for (let oc = 0; oc < layer.cout * cin; oc++)
      for (let a = 0; a < L1; a++) for (let b = 0; b < L2; b++) out[(oc * M1 + a) * M2 + b] = K[(oc * L1 + a) * L2 + b]!;
    K = out;
    L1 = M1;
    L2 = M2;
  }
  const sys = roesserOfConv(K, layer.cout, cin, L1, L2, s);
  const f = roesserFull(sys);
  return { sys, ...f, cin, cout: layer.cout, stride: s };
}
