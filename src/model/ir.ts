/**
 * lipdp's network IR: a small, typed description of the computation the ONNX graph performs,
 * reduced to what Lipschitz analysis needs. All tensors are Float64 (weights are widened from
 * the file's f32 so that the certificate works on exactly the stored numbers).
 *
 * Shapes follow PyTorch conventions: dense W is (out × in) row-major, conv kernels are OIHW,
 * feature maps are CHW (batch dimension dropped).
 */

/** Dense row-major matrix. `data[i * cols + j]` is entry (i, j). */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/**
 * Slope interval of an elementwise activation: α ≤ (φ(a) − φ(b)) / (a − b) ≤ β for all a ≠ b.
 * This (incremental sector) is all the LMIs use of an activation.
 */
export interface SlopeBounds {
  readonly alpha: number;
  readonly beta: number;
}

export type ActivationFn = 'relu' | 'leaky_relu' | 'tanh' | 'sigmoid' | 'elu' | 'softplus';

export interface ActivationLayer {
  readonly kind: 'activation';
  readonly fn: ActivationFn;
  /** LeakyReLU negative slope, ELU alpha. */
  readonly param?: number;
  readonly slope: SlopeBounds;
  /** ONNX node name, for messages. */
  readonly name: string;
}

/** y = W x + b on a flat vector. */
export interface DenseLayer {
  readonly kind: 'dense';
  readonly W: Matrix;
  readonly bias: Float64Array;
  readonly name: string;
}

/**
 * y = scale ⊙ x + shift, elementwise on the flat vector (length = the current size), or
 * broadcast per channel over a CHW map (length = channels). Input normalisation and gains.
 */
export interface ScaleShiftLayer {
  readonly kind: 'scaleshift';
  readonly scale: Float64Array;
  readonly shift: Float64Array;
  /** 'element': one entry per flat element; 'channel': one per channel of a CHW map. */
  readonly broadcast: 'element' | 'channel';
  readonly name: string;
}

/**
 * Flatten of a CHW feature map into a vector. `order` records which index is slow:
 * 'NCHW' (PyTorch: index = c·H·W + h·W + w) or 'NHWC' (a Transpose to NHWC before the flatten:
 * index = (h·W + w)·C + c). The LMI coupling differs (Q⊗I vs I⊗Q), so it must come from the graph.
 */
export interface FlattenLayer {
  readonly kind: 'flatten';
  readonly order: 'NCHW' | 'NHWC';
  /** [C, H, W] of the map being flattened. */
  readonly inShape: readonly [number, number, number];
  readonly name: string;
}

/**
 * 2-D convolution, PyTorch semantics (cross-correlation), OIHW kernel. `cin` is the kernel's I
 * dimension, i.e. input channels per group; the layer's input has cin·groups channels.
 */
export interface Conv2dLayer {
  readonly kind: 'conv2d';
  /** Kernel, flat OIHW: index ((o·cin + i)·kh + a)·kw + b. */
  readonly kernel: Float64Array;
  readonly cout: number;
  readonly cin: number;
  readonly kh: number;
  readonly kw: number;
  readonly bias: Float64Array;
  readonly stride: readonly [number, number];
  /** [top, left, bottom, right] */
  readonly pads: readonly [number, number, number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
  readonly name: string;
}

export interface PoolLayer {
  readonly kind: 'maxpool' | 'avgpool';
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly pads: readonly [number, number, number, number];
  /** AveragePool count_include_pad (ONNX default 0). */
  readonly countIncludePad: boolean;
  readonly name: string;
}

export interface GlobalAvgPoolLayer {
  readonly kind: 'globalavgpool';
  readonly name: string;
}

/** Zero padding of a CHW map ([top, left, bottom, right]). */
export interface PadLayer {
  readonly kind: 'pad';
  readonly pads: readonly [number, number, number, number];
  readonly name: string;
}

/**
 * y = branch(x) + shortcut(x). An empty shortcut is the identity. Any activation after the
 * addition is the next layer of the enclosing chain (it must be modelled, docs/method.md §5.3).
 */
export interface ResidualLayer {
  readonly kind: 'residual';
  readonly branch: readonly Layer[];
  readonly shortcut: readonly Layer[];
  readonly name: string;
}

/**
 * 1-D convolution on a [C, T] signal (channel-major: index c·T + t), PyTorch semantics
 * (cross-correlation), OIL kernel, groups = 1. The certified bound for such layers holds for input
 * sequences of any length (src/pipeline/solve.ts).
 */
export interface Conv1dLayer {
  readonly kind: 'conv1d';
  /** Kernel, flat OIL: index (o·cin + i)·l + a. */
  readonly kernel: Float64Array;
  readonly cout: number;
  readonly cin: number;
  readonly l: number;
  readonly bias: Float64Array;
  readonly stride: number;
  /** [left, right] zero padding in time. */
  readonly pads: readonly [number, number];
  readonly dilation: number;
  readonly name: string;
}

/**
 * Linear time-invariant state-space layer on a [C, T] signal, zero initial state:
 *   x(t+1) = A x(t) + B u(t),   y(t) = C x(t) + D u(t) + bias,
 * u(t) ∈ R^{B.cols} is column t of the input, y(t) ∈ R^{C.rows}; the output has the same length T.
 * Always a real realisation (complex-diagonal exports are converted by src/model/ssm-json.ts).
 */
export interface SsmLayer {
  readonly kind: 'ssm';
  readonly A: Matrix;
  readonly B: Matrix;
  readonly C: Matrix;
  readonly D: Matrix;
  readonly bias: Float64Array;
  readonly name: string;
}

export type Layer =
  | Conv1dLayer
  | SsmLayer
  | DenseLayer
  | ActivationLayer
  | ScaleShiftLayer
  | FlattenLayer
  | Conv2dLayer
  | PoolLayer
  | GlobalAvgPoolLayer
  | PadLayer
  | ResidualLayer;

/**
 * A network: the input shape (without batch) and the chain of layers applied to it, in the
 * layout the ONNX graph's input has ([C,H,W] for images, [n] for vectors). A leading layout
 * transpose of the input (NHWC → NCHW) is recorded in `inputPermutation`, as it is an isometry.
 */
export interface Network {
  readonly inputShape: readonly number[];
  readonly layers: readonly Layer[];
  /** Output dimension (flat). */
  readonly outputSize: number;
  /** Where the network came from (file name or 'bytes'), for messages. */
  readonly source: string;
  /**
   * Present when the graph's input is NHWC and the graph's first op transposes it to NCHW:
   * `inputShape` is then the graph's [H, W, C] and the layers see the [C, H, W] map `chwShape`.
   * A permutation is an isometry, so Lipschitz analysis can start from `chwShape` directly
   * (use `layerInputShape(net)` from src/model/shapes.ts rather than reading `inputShape`).
   */
  readonly inputPermutation?: InputPermutation;
  /**
   * true when `inputShape` is a 1-D signal [C, T] (channel-major, index c·T + t) that conv1d/ssm
   * layers consume. Without it a rank-2 input is a flat vector (e.g. MNIST's [784, 1]).
   */
  readonly signal?: boolean;
}

/** Input layout transpose NHWC → NCHW applied before the first layer. */
export interface InputPermutation {
  readonly from: 'NHWC';
  readonly chwShape: readonly [number, number, number];
}

/**
 * A fully connected chain in the form the LMIs use: y = W_ℓ φ_{ℓ−1}(… φ_1(W_1 x + b_1) …) + b_ℓ.
 * `layers[k].activation` is the activation after layer k (absent on the last one).
 * Consecutive linear maps are multiplied together, scale/shift layers folded in; a trailing
 * activation is kept by appending an identity layer.
 */
export interface FcChain {
  readonly inputSize: number;
  readonly layers: readonly FcChainLayer[];
}

export interface FcChainLayer {
  readonly W: Matrix;
  readonly bias: Float64Array;
  /** Activation applied to this layer's output; undefined for the last layer only. */
  readonly activation?: { readonly fn: ActivationFn; readonly param?: number; readonly slope: SlopeBounds };
}
