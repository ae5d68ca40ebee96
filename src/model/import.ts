/**
 * ONNX → Network. Steps:
 *  1. decode the protobuf (errors → MALFORMED_MODEL);
 *  2. keep only the nodes the graph output depends on;
 *  3. evaluate nodes in topological order: nodes whose inputs are all constant are folded
 *     (fold.ts; `Shape` of a non-constant tensor is constant because all shapes are static with
 *     batch 1), every other node becomes a "dynamic" node holding the IR layers it stands for;
 *  4. walk the dynamic nodes from the input to the output, turning fork/Add pairs into
 *     `residual` layers;
 *  5. fold scale/shift layers into adjacent linear layers (simplify.ts) and check the shapes.
 */
import { LipdpError } from './errors.js';
import { foldCost, foldNode, type FoldContext, isPermutation, reshapeDims } from './fold.js';
import { MAX_FOLD_MULTIPLY_ADDS, MemoryPlan } from './memory-plan.js';
import { checkNodes, checkUniqueNames } from './validate.js';
import type { ActivationFn, Layer, Network, ScaleShiftLayer } from './ir.js';
import { activationSlope } from './kernels/activation.js';
import {
  Attrs,
  type ExternalFiles,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  decodeModel,
  decodeTensor,
  externalLocations,
  nodeLabel,
  toNumber,
} from './onnx.js';
import { type MapShape, type ValueShape, networkShapes, sizeOf, windowOut } from './shapes.js';
import { simplifyChain } from './simplify.js';
import { type ConstTensor, broadcastShape, broadcastTo, firstNonFinite, numel } from './tensor.js';
import { unsupportedOpHint } from './op-hints.js';

export interface ImportOptions {
  /** Name used in messages (default: the file's base name, or 'bytes'). */
  readonly source?: string;
  /** External data files by location (browser, or bytes input). */
  readonly externalFiles?: ExternalFiles;
  /** Directory to read external data from when the input is bytes (Node only). */
  readonly baseDir?: string;
  /** Fold scale/shift layers into adjacent dense/conv layers (default true). */
  readonly simplify?: boolean;
  /** Which graph input to use when there are several. */
  readonly inputName?: string;
  /**
   * Memory cap in bytes for what the import allocates and what the later phases will hold per
   * activation (memory-plan.ts); default a quarter of the machine's memory, at most 1 GiB.
   */
  readonly maxMemoryBytes?: number;
  /** Largest activation tensor (elements) accepted; default 2^21. */
  readonly maxActivationElements?: number;
}

/** A non-constant tensor: its static shape with batch 1, and whether it is an NHWC view. */
interface DynTensor {
  readonly dims: readonly number[];
  /** Set on the output of a Transpose(0,2,3,1) of a CHW map: the map's [C,H,W]. */
  readonly nhwcOf?: MapShape;
  /**
   * A flat vector reshaped to 4-D (e.g. [1,784,1] → [1,1,784,1] in MATLAB exports). Nothing
   * changes in memory, so this is fine as long as it is flattened again before any spatial op.
   */
  readonly vectorAsMap?: boolean;
}

interface DynNode {
  readonly label: string;
  readonly op: string;
  /** Non-constant inputs (deduplicated). */
  readonly inputs: readonly string[];
  readonly output: string;
  readonly layers: readonly Layer[];
  /** Sum (or difference) of two non-constant tensors: a residual join. */
  readonly isAdd: boolean;
  /** Sub join: the ×(−1) appended to the path that arrives as the subtrahend (inputs[1]). */
  readonly negate?: Layer;
  /** The leading NHWC → NCHW transpose of the graph input. */
  readonly inputPerm?: MapShape;
}

const ACTIVATIONS: Record<string, ActivationFn> = {
  Relu: 'relu',
  LeakyRelu: 'leaky_relu',
  Tanh: 'tanh',
  Sigmoid: 'sigmoid',
  Elu: 'elu',
  Softplus: 'softplus',
};

class Importer {
  private readonly graph: GraphProto;
  private readonly source: string;
  private readonly opset: number;
  private readonly files: ExternalFiles | undefined;
  private readonly initializers = new Map<string, TensorProto>();
  private readonly consts = new Map<string, ConstTensor>();
  private readonly checkedInit = new Set<string>();
  private readonly dyn = new Map<string, DynTensor>();
  private readonly dynNodes: DynNode[] = [];
  private inputName = '';
  private inputDims: number[] = [];
  private readonly plan: MemoryPlan;

  constructor(model: ModelProto, source: string, files: ExternalFiles | undefined, plan: MemoryPlan) {
    this.graph = model.graph!;
    this.source = source;
    this.files = files;
    this.plan = plan;
    // Before anything is keyed by name: a duplicate would silently pick one of two tensors.
    checkUniqueNames(this.graph, source);
    const def = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
    this.opset = def?.version !== undefined && def.version !== null ? toNumber(def.version) : 13;
    for (const t of this.graph.initializer ?? []) this.initializers.set(t.name ?? '', t);
  }

  private err(code: 'UNSUPPORTED_OP' | 'UNSUPPORTED_STRUCTURE' | 'MALFORMED_MODEL' | 'INVALID_WEIGHTS' | 'CONSTANT_OUTPUT', msg: string): never {
    throw new LipdpError(code, `${msg} (${this.source})`);
  }

  private where(node: NodeProto): string {
    return `node '${nodeLabel(node)}'`;
  }

  /** Constant value of a tensor, decoding initializers lazily; undefined if not constant. */
  private constOf(name: string): ConstTensor | undefined {
    const c = this.consts.get(name);
    if (c) return c;
    const t = this.initializers.get(name);
    if (!t) return undefined;
    const dims = (t.dims ?? []).map(toNumber);
    // Invalid dims are decodeTensor's to report; valid ones are booked before the Float64 copy.
    if (dims.every((d) => Number.isInteger(d) && d >= 0)) this.plan.bookElements(numel(dims), `initializer '${name}'`);
    const v = decodeTensor(t, `initializer '${name}'`, this.files, this.source);
    this.consts.set(name, v);
    return v;
  }

  /** NaN/Inf in an initializer is reported with the node that uses it. */
  private checkInitializer(name: string, node: NodeProto): void {
    if (!this.initializers.has(name) || this.checkedInit.has(name)) return;
    const v = this.constOf(name)!;
    const bad = v.isInt ? undefined : firstNonFinite(v.data);
    if (bad !== undefined) {
      this.err('INVALID_WEIGHTS', `${String(bad)} weight in initializer '${name}' used by ${this.where(node)}`);
    }
    this.checkedInit.add(name);
  }

  /** A constant operand that becomes a layer weight: must exist and be finite. */
  private weight(node: NodeProto, idx: number, what: string): ConstTensor {
    const name = (node.input ?? [])[idx] ?? '';
    if (!name) this.err('MALFORMED_MODEL', `${this.where(node)} (${node.opType}) has no ${what} input`);
    const v = this.constOf(name);
    if (!v) {
      this.err('UNSUPPORTED_STRUCTURE', `${node.opType} ${this.where(node)} has a non-constant ${what} '${name}'`);
    }
    const bad = firstNonFinite(v.data);
    if (bad !== undefined) {
      const origin = this.initializers.has(name) ? `initializer '${name}'` : `constant '${name}' (computed by constant folding)`;
      this.err('INVALID_WEIGHTS', `${String(bad)} weight in ${origin} used by ${this.where(node)}`);
    }
    return v;
  }

  private optionalWeight(node: NodeProto, idx: number, what: string): ConstTensor | undefined {
    const name = (node.input ?? [])[idx] ?? '';
    return name ? this.weight(node, idx, what) : undefined;
  }

  // ---------------------------------------------------------------- graph setup

  private pickInput(wanted?: string): void {
    const inputs = (this.graph.input ?? []).filter((i) => !this.initializers.has(i.name ?? ''));
    const chosen = wanted ? inputs.find((i) => i.name === wanted) : inputs[0];
    if (!chosen) {
      this.err('MALFORMED_MODEL', wanted ? `graph has no input named '${wanted}'` : 'graph has no (non-initializer) input');
    }
    if (!wanted && inputs.length > 1) {
      this.err('UNSUPPORTED_STRUCTURE', `graph has ${inputs.length} inputs (${inputs.map((i) => `'${i.name}'`).join(', ')}); lipdp needs exactly one`);
    }
    const dims = chosen.type?.tensorType?.shape?.dim ?? [];
    if (dims.length < 2) {
      this.err('UNSUPPORTED_STRUCTURE', `input '${chosen.name}' has rank ${dims.length}; expected a batch axis plus the sample shape`);
    }
    this.inputName = chosen.name ?? '';
    this.inputDims = dims.map((d, i) => {
      const v = d.dimValue !== undefined && d.dimValue !== null ? toNumber(d.dimValue) : 0;
      if (i === 0) return 1; // batch: whatever is declared, one sample is analysed
      if (!(v > 0)) {
        this.err('UNSUPPORTED_STRUCTURE', `input '${chosen.name}' has a symbolic or unknown dimension '${d.dimParam ?? '?'}' at axis ${i}`);
      }
      return v;
    });
    this.plan.bookActivation(this.inputName, this.inputDims);
    this.dyn.set(this.inputName, { dims: this.inputDims });
  }

  private outputName(): string {
    const outs = this.graph.output ?? [];
    if (outs.length !== 1) {
      this.err('UNSUPPORTED_STRUCTURE', `graph has ${outs.length} outputs; lipdp needs exactly one`);
    }
    return outs[0]!.name ?? '';
  }

  /** Nodes the output depends on, in a topological order. */
  private liveNodes(output: string): NodeProto[] {
    const nodes = this.graph.node ?? [];
    const producer = new Map<string, number>();
    nodes.forEach((n, i) => (n.output ?? []).forEach((o) => o && producer.set(o, i)));
    const live = new Set<number>();
    const stack = [output];
    const seen = new Set<string>();
    while (stack.length) {
      const t = stack.pop()!;
      if (seen.has(t)) continue;
      seen.add(t);
      const p = producer.get(t);
      if (p === undefined) {
        if (t !== this.inputName && !this.initializers.has(t)) {
          this.err('MALFORMED_MODEL', `tensor '${t}' is used but never produced`);
        }
        continue;
      }
      live.add(p);
      for (const i of nodes[p]!.input ?? []) if (i) stack.push(i);
    }
    // Kahn's algorithm over the live nodes, stable in file order.
    const order: NodeProto[] = [];
    const ready = new Set<string>([this.inputName, ...this.initializers.keys()]);
    let pending = [...live].sort((a, b) => a - b);
    while (pending.length) {
      const rest: number[] = [];
      for (const i of pending) {
        const n = nodes[i]!;
        if ((n.input ?? []).every((x) => !x || ready.has(x))) {
          order.push(n);
          (n.output ?? []).forEach((o) => o && ready.add(o));
        } else {
          rest.push(i);
        }
      }
      if (rest.length === pending.length) this.err('MALFORMED_MODEL', 'graph has a cycle');
      pending = rest;
    }
    return order;
  }

  // ---------------------------------------------------------------- evaluation

  private evaluate(nodes: NodeProto[]): void {
    const ctx: FoldContext = { opset: this.opset, source: this.source };
    // Every attribute of every live node is checked before any of them is read.
    checkNodes(nodes, this.source);
    for (const node of nodes) {
      const ins = node.input ?? [];
      const dynIns = ins.filter((i) => i && this.dyn.has(i));
      const op = node.opType ?? '';
      if (dynIns.length === 0) {
        for (const i of ins) if (i) this.checkInitializer(i, node);
        const vals = ins.map((i) => (i ? this.constOf(i) : undefined));
        const cost = foldCost(node, vals, ctx);
        const out0 = (node.output ?? [])[0] ?? '?';
        if (!(cost.multiplyAdds <= MAX_FOLD_MULTIPLY_ADDS)) {
          this.err('UNSUPPORTED_STRUCTURE', `model too large: folding constant '${out0}' at ${this.where(node)} needs ${cost.multiplyAdds} multiply-adds (cap ${MAX_FOLD_MULTIPLY_ADDS})`);
        }
        this.plan.bookElements(cost.elements, `constant '${out0}' computed by ${this.where(node)} (${node.opType})`);
        const outs = foldNode(node, vals, ctx);
        (node.output ?? []).forEach((o, k) => {
          if (o && outs[k]) this.consts.set(o, outs[k]!);
        });
        continue;
      }
      if (op === 'Shape' || op === 'Size') {
        // Static shapes: Shape of a non-constant tensor is a constant (batch = 1).
        const d = this.dyn.get(ins[0]!)!;
        const fake: ConstTensor = { dims: d.dims, data: new Float64Array(0), isInt: false };
        const outs = op === 'Shape' ? foldNode(node, [fake], ctx) : [{ dims: [], data: Float64Array.of(numel(d.dims)), isInt: true }];
        this.consts.set((node.output ?? [])[0]!, outs[0]!);
        continue;
      }
      this.dynamicNode(node, dynIns);
    }
  }

  private addDyn(node: NodeProto, inputs: string[], layers: Layer[], out: DynTensor, extra: Partial<DynNode> = {}): void {
    const outputs = node.output ?? [];
    const output = outputs[0] ?? '';
    // Secondary outputs (Dropout mask, MaxPool indices) must not be used.
    for (const o of outputs.slice(1)) {
      if (o) this.dyn.set(o, { dims: [] });
    }
    if (out.dims.some((d) => !(Number.isInteger(d) && d >= 1))) {
      this.err('MALFORMED_MODEL', `${node.opType} ${this.where(node)} gives an empty or invalid output shape [${out.dims}]`);
    }
    // Shape arithmetic alone (pads 1e6, a 30000×30000 input) can ask for billions of elements.
    this.plan.bookActivation(output, out.dims);
    this.dyn.set(output, out);
    this.dynNodes.push({
      label: nodeLabel(node),
      op: node.opType ?? '',
      inputs: [...new Set(inputs)],
      output,
      layers,
      isAdd: false,
      ...extra,
    });
  }

  private dynamicNode(node: NodeProto, dynIns: string[]): void {
    const op = node.opType ?? '';
    const ins = node.input ?? [];
    const x = this.dyn.get(dynIns[0]!)!;
    const label = nodeLabel(node);
    const at = new Attrs(node);
    const act = ACTIVATIONS[op];
    if (act) {
      const param = op === 'LeakyRelu' ? at.float('alpha', 0.01) : op === 'Elu' ? at.float('alpha', 1) : undefined;
      const layer: Layer = { kind: 'activation', fn: act, slope: activationSlope(act, param), name: label, ...(param !== undefined ? { param } : {}) };
      this.addDyn(node, dynIns, [layer], x);
      return;
    }
    if (x.vectorAsMap && !['Flatten', 'Reshape', 'Identity', 'Dropout', 'Cast', 'Squeeze', 'Unsqueeze'].includes(op)) {
      this.err('UNSUPPORTED_STRUCTURE', `${op} ${this.where(node)} works on a vector that was reshaped into a feature map [${x.dims}]`);
    }
    if (x.nhwcOf && !['Flatten', 'Reshape', 'Identity', 'Dropout', 'Squeeze', 'Unsqueeze'].includes(op)) {
      this.err('UNSUPPORTED_STRUCTURE', `NHWC tensor '${dynIns[0]}' is used by ${op} ${this.where(node)}; only Flatten/Reshape may follow a Transpose to NHWC`);
    }
    switch (op) {
      case 'Identity':
      case 'Dropout':
      case 'Cast':
        if (op === 'Dropout' && at.int('training_mode', 0) === 1) {
          this.err('UNSUPPORTED_STRUCTURE', `Dropout ${this.where(node)} is in training mode`);
        }
        return this.addDyn(node, dynIns, [], x);
      case 'Gemm':
        return this.gemm(node, x);
      case 'MatMul':
        return this.matmul(node, x);
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div':
        return this.elementwise(node, dynIns);
      case 'Flatten': {
        const r = x.dims.length;
        const axis = at.int('axis', 1) < 0 ? at.int('axis', 1) + r : at.int('axis', 1);
        const target = [numel(x.dims.slice(0, axis)), numel(x.dims.slice(axis))];
        return this.reshapeTo(node, x, target, dynIns);
      }
      case 'Reshape': {
        const target = this.opset < 5 ? at.ints('shape') ?? [] : [...this.weight(node, 1, 'shape').data];
        const dims = reshapeDims(x.dims, target, at.int('allowzero', 0) === 1);
        if (!dims) this.err('MALFORMED_MODEL', `Reshape ${this.where(node)} cannot reshape [${x.dims}] to [${target}]`);
        return this.reshapeTo(node, x, dims, dynIns);
      }
      case 'Squeeze':
      case 'Unsqueeze': {
        const axesT = at.ints('axes') ?? (ins[1] ? [...this.weight(node, 1, 'axes').data] : undefined);
        let dims = [...x.dims];
        if (op === 'Squeeze') {
          const ax = (axesT ?? dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => (a < 0 ? a + dims.length : a));
          if (ax.includes(0)) this.err('UNSUPPORTED_STRUCTURE', `Squeeze ${this.where(node)} removes the batch axis`);
          dims = dims.filter((_, i) => !ax.includes(i));
        } else {
          const r = dims.length + (axesT ?? []).length;
          for (const a of (axesT ?? []).map((v) => (v < 0 ? v + r : v)).sort((p, q) => p - q)) dims.splice(a, 0, 1);
        }
        return this.reshapeTo(node, x, dims, dynIns);
      }
      case 'Transpose':
        return this.transposeNode(node, x, dynIns);
      case 'Conv':
        return this.conv(node, x);
      case 'MaxPool':
      case 'AveragePool':
        return this.pool(node, x);
      case 'GlobalAveragePool':
      case 'GlobalMaxPool': {
        const m = this.mapOf(node, x);
        const layer: Layer =
          op === 'GlobalAveragePool'
            ? { kind: 'globalavgpool', name: label }
            : { kind: 'maxpool', kernel: [m[1], m[2]], stride: [1, 1], pads: [0, 0, 0, 0], countIncludePad: false, name: label };
        return this.addDyn(node, dynIns, [layer], { dims: [1, m[0], 1, 1] });
      }
      case 'ReduceMean': {
        const m = this.mapOf(node, x);
        const axes = (at.ints('axes') ?? (ins[1] ? [...this.weight(node, 1, 'axes').data] : [])).map((a) => (a < 0 ? a + 4 : a)).sort();
        if (axes.length !== 2 || axes[0] !== 2 || axes[1] !== 3) {
          this.err('UNSUPPORTED_OP', `ReduceMean over axes [${axes}] at ${this.where(node)}; only the spatial mean (axes 2,3) is supported`);
        }
        const layers: Layer[] = [{ kind: 'globalavgpool', name: label }];
        if (at.int('keepdims', 1) === 1) return this.addDyn(node, dynIns, layers, { dims: [1, m[0], 1, 1] });
        layers.push({ kind: 'flatten', order: 'NCHW', inShape: [m[0], 1, 1], name: label });
        return this.addDyn(node, dynIns, layers, { dims: [1, m[0]] });
      }
      case 'BatchNormalization':
        return this.batchNorm(node, x, dynIns);
      case 'Pad':
        return this.pad(node, x, dynIns);
      case 'PRelu': {
        const slope = this.weight(node, 1, 'slope');
        if (slope.data.length !== 1) this.err('UNSUPPORTED_OP', `PRelu with per-channel slopes at ${this.where(node)}`);
        const a = slope.data[0]!;
        const layer: Layer = { kind: 'activation', fn: 'leaky_relu', param: a, slope: activationSlope('leaky_relu', a), name: label };
        return this.addDyn(node, dynIns, [layer], x);
      }
      default:
        this.err('UNSUPPORTED_OP', `unsupported op '${op}' at node '${label}'${unsupportedOpHint(op)}`);
    }
  }

  private mapOf(node: NodeProto, x: DynTensor): MapShape {
    if (x.dims.length !== 4) {
      this.err('UNSUPPORTED_STRUCTURE', `${node.opType} ${this.where(node)} needs a 4-D NCHW input, got [${x.dims}]`);
    }
    return [x.dims[1]!, x.dims[2]!, x.dims[3]!];
  }

  /** Layout-only changes: flatten (NCHW, or NHWC after a transpose), squeeze/unsqueeze, no-ops. */
  private reshapeTo(node: NodeProto, x: DynTensor, dims: number[], dynIns: string[]): void {
    const label = nodeLabel(node);
    if (numel(dims) !== numel(x.dims)) {
      this.err('MALFORMED_MODEL', `${node.opType} ${this.where(node)} changes the element count ([${x.dims}] → [${dims}])`);
    }
    if (dims[0] !== 1) {
      this.err('UNSUPPORTED_STRUCTURE', `${node.opType} ${this.where(node)} moves data into the batch axis ([${x.dims}] → [${dims}])`);
    }
    const inMap = x.dims.length === 4 && !x.vectorAsMap;
    const outMap = dims.length === 4;
    if (!inMap && outMap) return this.addDyn(node, dynIns, [], { dims, vectorAsMap: true });
    if (x.nhwcOf) {
      if (outMap) this.err('UNSUPPORTED_STRUCTURE', `${node.opType} ${this.where(node)} keeps an NHWC map 4-D; only flattening is supported`);
      return this.addDyn(node, dynIns, [{ kind: 'flatten', order: 'NHWC', inShape: x.nhwcOf, name: label }], { dims });
    }
    if (inMap && outMap) {
      if (dims.some((d, i) => d !== x.dims[i])) {
        this.err('UNSUPPORTED_STRUCTURE', `${node.opType} ${this.where(node)} reshapes a feature map [${x.dims}] into another map [${dims}]`);
      }
      return this.addDyn(node, dynIns, [], { dims });
    }
    if (inMap) {
      const m: MapShape = [x.dims[1]!, x.dims[2]!, x.dims[3]!];
      return this.addDyn(node, dynIns, [{ kind: 'flatten', order: 'NCHW', inShape: m, name: label }], { dims });
    }
    return this.addDyn(node, dynIns, [], { dims });
  }

  private transposeNode(node: NodeProto, x: DynTensor, dynIns: string[]): void {
    const r = x.dims.length;
    const perm = new Attrs(node).ints('perm') ?? x.dims.map((_, i) => r - 1 - i);
    if (!isPermutation(perm, r)) this.err('MALFORMED_MODEL', `Transpose ${this.where(node)}: perm [${perm}] is not a permutation of the ${r} axes of [${x.dims}]`);
    const outDims = perm.map((p) => x.dims[p]!);
    const is = (p: number[]) => perm.length === p.length && perm.every((v, i) => v === p[i]);
    if (r === 4 && is([0, 3, 1, 2]) && dynIns[0] === this.inputName) {
      // Graph input is NHWC; the layers work on the transposed CHW map.
      const chw: MapShape = [outDims[1]!, outDims[2]!, outDims[3]!];
      return this.addDyn(node, dynIns, [], { dims: outDims }, { inputPerm: chw });
    }
    if (r === 4 && is([0, 2, 3, 1])) {
      return this.addDyn(node, dynIns, [], { dims: outDims, nhwcOf: [x.dims[1]!, x.dims[2]!, x.dims[3]!] });
    }
    // A permutation that only moves size-1 axes keeps the flat order: a reshape.
    const nonUnit = perm.filter((p) => x.dims[p]! !== 1);
    if (perm[0] === 0 && nonUnit.every((p, i) => i === 0 || p > nonUnit[i - 1]!)) {
      return this.reshapeTo(node, x, outDims, dynIns);
    }
    this.err('UNSUPPORTED_OP', `Transpose with perm [${perm}] of [${x.dims}] at ${this.where(node)}`);
  }

  private gemm(node: NodeProto, x: DynTensor): void {
    const at = new Attrs(node);
    const ins = node.input ?? [];
    if (!this.dyn.has(ins[0] ?? '') || this.dyn.has(ins[1] ?? '') || this.dyn.has(ins[2] ?? '')) {
      this.err('UNSUPPORTED_STRUCTURE', `Gemm ${this.where(node)} must have a non-constant A and constant B, C`);
    }
    if (at.int('transA', 0) !== 0) this.err('UNSUPPORTED_STRUCTURE', `Gemm ${this.where(node)} with transA=1 on the data`);
    const B = this.weight(node, 1, 'weight');
    if (B.dims.length !== 2) this.err('MALFORMED_MODEL', `Gemm ${this.where(node)} weight is not 2-D`);
    const transB = at.int('transB', 0) !== 0;
    const alpha = at.float('alpha', 1);
    const beta = at.float('beta', 1);
    const [b0, b1] = B.dims as [number, number];
    const K = transB ? b1 : b0;
    const N = transB ? b0 : b1;
    if (x.dims.length !== 2 || x.dims[1] !== K) {
      this.err('MALFORMED_MODEL', `Gemm ${this.where(node)}: input [${x.dims}] does not match weight [${B.dims}] (transB=${transB ? 1 : 0})`);
    }
    const W = new Float64Array(N * K);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) W[n * K + k] = alpha * (transB ? B.data[n * K + k]! : B.data[k * N + n]!);
    const bias = new Float64Array(N);
    const C = this.optionalWeight(node, 2, 'bias');
    if (C) {
      const dims = broadcastShape(C.dims, [1, N]);
      if (!dims || dims.length !== 2 || dims[0] !== 1 || dims[1] !== N) {
        this.err('MALFORMED_MODEL', `Gemm ${this.where(node)}: bias [${C.dims}] does not broadcast to [1,${N}]`);
      }
      const full = broadcastTo(C, [1, N]);
      for (let n = 0; n < N; n++) bias[n] = beta * full[n]!;
    }
    const layer: Layer = { kind: 'dense', W: { rows: N, cols: K, data: W }, bias, name: nodeLabel(node) };
    this.addDyn(node, [ins[0]!], [layer], { dims: [1, N] });
  }

  private matmul(node: NodeProto, x: DynTensor): void {
    const ins = node.input ?? [];
    if (!this.dyn.has(ins[0] ?? '') || this.dyn.has(ins[1] ?? '')) {
      this.err('UNSUPPORTED_STRUCTURE', `MatMul ${this.where(node)} must be (non-constant data) × (constant weight)`);
    }
    const B = this.weight(node, 1, 'weight');
    const K = x.dims[x.dims.length - 1]!;
    if (B.dims.length !== 2 || B.dims[0] !== K || x.dims.slice(0, -1).some((d) => d !== 1)) {
      this.err('UNSUPPORTED_STRUCTURE', `MatMul ${this.where(node)} of [${x.dims}] by [${B.dims}]; expected a row vector times a matrix`);
    }
    const N = B.dims[1]!;
    const W = new Float64Array(N * K);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) W[n * K + k] = B.data[k * N + n]!;
    const layer: Layer = { kind: 'dense', W: { rows: N, cols: K, data: W }, bias: new Float64Array(N), name: nodeLabel(node) };
    this.addDyn(node, [ins[0]!], [layer], { dims: [...x.dims.slice(0, -1), N] });
  }

  /** Add/Sub/Mul/Div: with a constant → scale/shift; Add of two tensors → residual join. */
  private elementwise(node: NodeProto, dynIns: string[]): void {
    const op = node.opType!;
    const ins = node.input ?? [];
    const label = nodeLabel(node);
    const [a, b] = [ins[0] ?? '', ins[1] ?? ''];
    if (dynIns.length === 2 || (a === b && this.dyn.has(a))) {
      const x = this.dyn.get(a)!;
      const y = this.dyn.get(b)!;
      if (op === 'Add' && a === b) {
        const n = x.dims.length === 4 ? x.dims[1]! : numel(x.dims);
        const layer: ScaleShiftLayer = {
          kind: 'scaleshift', scale: new Float64Array(n).fill(2), shift: new Float64Array(n),
          broadcast: x.dims.length === 4 ? 'channel' : 'element', name: label,
        };
        return this.addDyn(node, [a], [layer], x);
      }
      if (op === 'Sub' && a === b) this.err('UNSUPPORTED_STRUCTURE', `Sub of a tensor from itself at ${this.where(node)} (a constant zero output)`);
      if (op !== 'Add' && op !== 'Sub') {
        this.err('UNSUPPORTED_OP', `${op} of two non-constant tensors at ${this.where(node)} (only Add or Sub, as a residual connection, is supported)`);
      }
      if (x.dims.length !== y.dims.length || x.dims.some((d, i) => d !== y.dims[i]) || x.nhwcOf || y.nhwcOf) {
        this.err('UNSUPPORTED_STRUCTURE', `residual Add ${this.where(node)} of different shapes [${x.dims}] and [${y.dims}]`);
      }
      this.plan.bookActivation(node.output![0]!, x.dims);
      this.dyn.set(node.output![0]!, { dims: x.dims });
      // x − y is the residual join x + (−1)·y: the −1 goes at the end of y's path (walk).
      let negate: Layer | undefined;
      if (op === 'Sub') {
        const n = y.dims.length === 4 ? y.dims[1]! : numel(y.dims);
        negate = { kind: 'scaleshift', scale: new Float64Array(n).fill(-1), shift: new Float64Array(n), broadcast: y.dims.length === 4 ? 'channel' : 'element', name: `${label}/negate` };
      }
      this.dynNodes.push({ label, op, inputs: [a, b], output: node.output![0]!, layers: [], isAdd: true, ...(negate ? { negate } : {}) });
      return;
    }
    const dynFirst = this.dyn.has(a);
    const x = this.dyn.get(dynFirst ? a : b)!;
    const c = this.weight(node, dynFirst ? 1 : 0, 'constant operand');
    const bd = broadcastShape(x.dims, c.dims);
    if (!bd || numel(bd) !== numel(x.dims) || bd.slice(-x.dims.length).some((d, i) => d !== x.dims[i])) {
      this.err('UNSUPPORTED_STRUCTURE', `${op} ${this.where(node)}: constant [${c.dims}] would broadcast the data [${x.dims}] to a larger shape`);
    }
    if (op === 'Div' && !dynFirst) this.err('UNSUPPORTED_OP', `Div by a non-constant tensor at ${this.where(node)}`);
    const E = broadcastTo(c, x.dims);
    const n = E.length;
    let scale = new Float64Array(n).fill(1);
    let shift = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const e = E[i]!;
      if (op === 'Add') shift[i] = e;
      else if (op === 'Sub') {
        if (dynFirst) shift[i] = -e;
        else {
          scale[i] = -1;
          shift[i] = e;
        }
      } else if (op === 'Mul') scale[i] = e;
      else scale[i] = 1 / e;
    }
    if (op === 'Div' && scale.some((v) => !Number.isFinite(v))) {
      this.err('INVALID_WEIGHTS', `division by zero in Div ${this.where(node)}`);
    }
    let broadcast: 'element' | 'channel' = 'element';
    if (x.dims.length === 4) {
      // Per-channel if the constant does not vary over the spatial axes.
      const hw = x.dims[2]! * x.dims[3]!;
      const C = x.dims[1]!;
      let perChannel = true;
      for (let ch = 0; ch < C && perChannel; ch++) {
        for (let p = 1; p < hw; p++) {
          if (scale[ch * hw + p] !== scale[ch * hw] || shift[ch * hw + p] !== shift[ch * hw]) {
            perChannel = false;
            break;
          }
        }
      }
      if (perChannel) {
        scale = Float64Array.from({ length: C }, (_, ch) => scale[ch * hw]!);
        shift = Float64Array.from({ length: C }, (_, ch) => shift[ch * hw]!);
        broadcast = 'channel';
      }
    }
    const layer: ScaleShiftLayer = { kind: 'scaleshift', scale, shift, broadcast, name: label };
    this.addDyn(node, [dynFirst ? a : b], [layer], { dims: x.dims });
  }

  /** Explicit pads [top, left, bottom, right] from pads/auto_pad, for conv and pooling. */
  private spatialPads(node: NodeProto, m: MapShape, k: [number, number], s: [number, number], d: [number, number]): [number, number, number, number] {
    const at = new Attrs(node);
    const auto = at.string('auto_pad', 'NOTSET');
    if (auto === 'NOTSET') {
      const p = at.ints('pads') ?? [0, 0, 0, 0];
      if (p.length !== 4) this.err('UNSUPPORTED_OP', `${node.opType} ${this.where(node)} has ${p.length} pads; only 2-D is supported`);
      if (p.some((v) => v < 0)) this.err('UNSUPPORTED_OP', `negative pads at ${this.where(node)}`);
      return [p[0]!, p[1]!, p[2]!, p[3]!];
    }
    if (auto === 'VALID') return [0, 0, 0, 0];
    if (auto !== 'SAME_UPPER' && auto !== 'SAME_LOWER') {
      this.err('UNSUPPORTED_OP', `auto_pad '${auto}' at ${this.where(node)}`);
    }
    const pads: number[] = [0, 0, 0, 0];
    for (let ax = 0; ax < 2; ax++) {
      const n = m[ax + 1]!;
      const out = Math.ceil(n / s[ax]!);
      const total = Math.max(0, (out - 1) * s[ax]! + d[ax]! * (k[ax]! - 1) + 1 - n);
      const small = Math.floor(total / 2);
      const big = total - small;
      pads[ax] = auto === 'SAME_UPPER' ? small : big;
      pads[ax + 2] = auto === 'SAME_UPPER' ? big : small;
    }
    return pads as [number, number, number, number];
  }

  /**
   * Pads past the kernel's reach add outputs that see nothing but padding (they depend on the bias
   * only). ONNX forbids that for pooling; for Conv it is legal but no trainer produces it, and it
   * is how a small file asks for a huge map (pads 1e6), so both are refused with the reason
   * rather than analysed as a larger network.
   */
  private checkPadReach(node: NodeProto, pads: readonly number[], reach: [number, number], what: string): void {
    if (pads[0]! > reach[0] || pads[2]! > reach[0] || pads[1]! > reach[1] || pads[3]! > reach[1]) {
      this.err('UNSUPPORTED_OP', `${node.opType} ${this.where(node)}: pads [${pads}] exceed ${what} = [${reach}]`);
    }
  }

  private pair(node: NodeProto, name: string, dflt: number): [number, number] {
    const v = new Attrs(node).ints(name);
    if (!v) return [dflt, dflt];
    if (v.length !== 2) this.err('UNSUPPORTED_OP', `${node.opType} ${this.where(node)} has ${name} of length ${v.length}; only 2-D is supported`);
    return [v[0]!, v[1]!];
  }

  /** Set when a Conv with a 1-D kernel consumed an [N, C, T] tensor: the net's input is a signal. */
  private sawConv1d = false;

  /**
   * ONNX Conv on an [N, C, T] tensor with an [O, I, L] kernel → conv1d (groups must be 1).
   * Attributes: strides [s], dilations [d], pads [left, right] or auto_pad (SAME_* / VALID).
   */
  private conv1d(node: NodeProto, x: DynTensor): void {
    const ins = node.input ?? [];
    if (this.dyn.has(ins[1] ?? '') || this.dyn.has(ins[2] ?? '')) {
      this.err('UNSUPPORTED_STRUCTURE', `Conv ${this.where(node)} has a non-constant kernel or bias`);
    }
    const [, C, T] = x.dims as [number, number, number];
    const K = this.weight(node, 1, 'kernel');
    if (K.dims.length !== 3) this.err('UNSUPPORTED_OP', `Conv ${this.where(node)} on [${x.dims}] needs a 3-D [O, I, L] kernel, got [${K.dims}]`);
    const [cout, cin, l] = K.dims as [number, number, number];
    const at = new Attrs(node);
    if (at.int('group', 1) !== 1) this.err('UNSUPPORTED_OP', `Conv ${this.where(node)}: grouped 1-D convolution is not supported`);
    if (cin !== C) this.err('MALFORMED_MODEL', `Conv ${this.where(node)}: kernel [${K.dims}] does not fit ${C} input channels`);
    const ks = at.ints('kernel_shape');
    if (ks && (ks.length !== 1 || ks[0] !== l)) this.err('MALFORMED_MODEL', `Conv ${this.where(node)}: kernel_shape [${ks}] ≠ kernel length ${l}`);
    const one = (name: string): number => {
      const v = at.ints(name);
      if (!v) return 1;
      if (v.length !== 1) this.err('MALFORMED_MODEL', `Conv ${this.where(node)} on a 1-D signal has ${name} of length ${v.length}`);
      return v[0]!;
    };
    const stride = one('strides');
    const dilation = one('dilations');
    if (!(stride >= 1 && dilation >= 1)) this.err('MALFORMED_MODEL', `Conv ${this.where(node)}: stride and dilation must be ≥ 1`);
    let pads: [number, number];
    const auto = at.string('auto_pad', 'NOTSET');
    if (auto === 'NOTSET') {
      const p = at.ints('pads') ?? [0, 0];
      if (p.length !== 2) this.err('MALFORMED_MODEL', `Conv ${this.where(node)} on a 1-D signal has ${p.length} pads (expected [left, right])`);
      if (p.some((v) => v < 0)) this.err('UNSUPPORTED_OP', `negative pads at ${this.where(node)}`);
      pads = [p[0]!, p[1]!];
    } else if (auto === 'VALID') pads = [0, 0];
    else if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
      const total = Math.max(0, (Math.ceil(T / stride) - 1) * stride + dilation * (l - 1) + 1 - T);
      const small = Math.floor(total / 2);
      pads = auto === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    } else this.err('UNSUPPORTED_OP', `auto_pad '${auto}' at ${this.where(node)}`);
    if (pads[0] > dilation * (l - 1) || pads[1] > dilation * (l - 1)) {
      this.err('UNSUPPORTED_OP', `Conv ${this.where(node)}: pads [${pads}] exceed the kernel reach ${dilation * (l - 1)}; outputs that see only padding are not supported`);
    }
    const B = this.optionalWeight(node, 2, 'bias');
    const bias = B ? Float64Array.from(B.data) : new Float64Array(cout);
    if (bias.length !== cout) this.err('MALFORMED_MODEL', `Conv ${this.where(node)}: bias has ${bias.length} entries for ${cout} channels`);
    const to = windowOut(T, pads[0], pads[1], l, stride, dilation);
    if (to < 1) this.err('MALFORMED_MODEL', `Conv ${this.where(node)}: empty output for input length ${T}`);
    const layer: Layer = { kind: 'conv1d', kernel: Float64Array.from(K.data), cout, cin, l, bias, stride, pads, dilation, name: nodeLabel(node) };
    this.sawConv1d = true;
    this.addDyn(node, [ins[0]!], [layer], { dims: [1, cout, to] });
  }

  private conv(node: NodeProto, x: DynTensor): void {
    const ins = node.input ?? [];
    if (x.dims.length === 3) return this.conv1d(node, x);
    if (x.dims.length !== 4) {
      this.err('UNSUPPORTED_OP', `Conv ${this.where(node)} on a rank-${x.dims.length} tensor; only 2-D convolution (NCHW) is supported`);
    }
    if (this.dyn.has(ins[1] ?? '') || this.dyn.has(ins[2] ?? '')) {
      this.err('UNSUPPORTED_STRUCTURE', `Conv ${this.where(node)} has a non-constant kernel or bias`);
    }
    const m = this.mapOf(node, x);
    const K = this.weight(node, 1, 'kernel');
    if (K.dims.length !== 4) this.err('UNSUPPORTED_OP', `Conv ${this.where(node)} kernel has rank ${K.dims.length}; only 2-D`);
    const [cout, cin, kh, kw] = K.dims as [number, number, number, number];
    const groups = new Attrs(node).int('group', 1);
    if (cin * groups !== m[0] || cout % groups !== 0) {
      this.err('MALFORMED_MODEL', `Conv ${this.where(node)}: kernel [${K.dims}] with group=${groups} does not fit ${m[0]} input channels`);
    }
    const ks = new Attrs(node).ints('kernel_shape');
    if (ks && (ks[0] !== kh || ks[1] !== kw)) this.err('MALFORMED_MODEL', `Conv ${this.where(node)}: kernel_shape [${ks}] ≠ kernel [${kh},${kw}]`);
    const stride = this.pair(node, 'strides', 1);
    const dilation = this.pair(node, 'dilations', 1);
    const pads = this.spatialPads(node, m, [kh, kw], stride, dilation);
    this.checkPadReach(node, pads, [dilation[0] * (kh - 1), dilation[1] * (kw - 1)], 'the kernel reach (dilation × (kernel − 1))');
    const B = this.optionalWeight(node, 2, 'bias');
    const bias = B ? Float64Array.from(B.data) : new Float64Array(cout);
    if (bias.length !== cout) this.err('MALFORMED_MODEL', `Conv ${this.where(node)}: bias has ${bias.length} entries for ${cout} channels`);
    const ho = windowOut(m[1], pads[0], pads[2], kh, stride[0], dilation[0]);
    const wo = windowOut(m[2], pads[1], pads[3], kw, stride[1], dilation[1]);
    const layer: Layer = {
      kind: 'conv2d', kernel: Float64Array.from(K.data), cout, cin, kh, kw, bias, stride, pads, dilation, groups, name: nodeLabel(node),
    };
    this.addDyn(node, [ins[0]!], [layer], { dims: [1, cout, ho, wo] });
  }

  private pool(node: NodeProto, x: DynTensor): void {
    const at = new Attrs(node);
    const m = this.mapOf(node, x);
    const kernel = this.pair(node, 'kernel_shape', 0);
    if (!(kernel[0] > 0 && kernel[1] > 0)) this.err('MALFORMED_MODEL', `${node.opType} ${this.where(node)} has no kernel_shape`);
    const stride = this.pair(node, 'strides', 1);
    const dil = this.pair(node, 'dilations', 1);
    if (dil[0] !== 1 || dil[1] !== 1) this.err('UNSUPPORTED_OP', `${node.opType} with dilation at ${this.where(node)}`);
    const pads = this.spatialPads(node, m, kernel, stride, [1, 1]);
    // ONNX pooling requires pads smaller than the kernel (a window of padding only has no value).
    this.checkPadReach(node, pads, [kernel[0] - 1, kernel[1] - 1], 'kernel − 1');
    const ho = windowOut(m[1], pads[0], pads[2], kernel[0], stride[0]);
    const wo = windowOut(m[2], pads[1], pads[3], kernel[1], stride[1]);
    if (at.int('ceil_mode', 0) === 1) {
      const hc = Math.ceil((m[1] + pads[0] + pads[2] - kernel[0]) / stride[0]) + 1;
      const wc = Math.ceil((m[2] + pads[1] + pads[3] - kernel[1]) / stride[1]) + 1;
      if (hc !== ho || wc !== wo) this.err('UNSUPPORTED_OP', `${node.opType} with ceil_mode=1 that changes the output size at ${this.where(node)}`);
    }
    const layer: Layer = {
      kind: node.opType === 'MaxPool' ? 'maxpool' : 'avgpool',
      kernel, stride, pads,
      countIncludePad: at.int('count_include_pad', 0) === 1,
      name: nodeLabel(node),
    };
    this.addDyn(node, [(node.input ?? [])[0]!], [layer], { dims: [1, m[0], ho, wo] });
  }

  private batchNorm(node: NodeProto, x: DynTensor, dynIns: string[]): void {
    const at = new Attrs(node);
    if (at.int('training_mode', 0) === 1) this.err('UNSUPPORTED_STRUCTURE', `BatchNormalization ${this.where(node)} in training mode`);
    const [g, b, mu, v] = [1, 2, 3, 4].map((i) => this.weight(node, i, ['scale', 'bias', 'mean', 'var'][i - 1]!));
    const eps = at.float('epsilon', 1e-5);
    const C = x.dims[1]!;
    const scale = new Float64Array(C);
    const shift = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      scale[c] = g!.data[c]! / Math.sqrt(v!.data[c]! + eps);
      shift[c] = b!.data[c]! - mu!.data[c]! * scale[c]!;
    }
    const layer: ScaleShiftLayer = {
      kind: 'scaleshift', scale, shift, broadcast: x.dims.length === 4 ? 'channel' : 'element', name: nodeLabel(node),
    };
    if (x.dims.length !== 4 && x.dims.length !== 2) this.err('UNSUPPORTED_STRUCTURE', `BatchNormalization on [${x.dims}] at ${this.where(node)}`);
    this.addDyn(node, dynIns, [layer], x);
  }

  private pad(node: NodeProto, x: DynTensor, dynIns: string[]): void {
    const at = new Attrs(node);
    const ins = node.input ?? [];
    const mode = at.string('mode', 'constant');
    if (mode !== 'constant') this.err('UNSUPPORTED_OP', `Pad mode '${mode}' at ${this.where(node)}`);
    const r = x.dims.length;
    let pads: number[];
    let value = 0;
    if (this.opset < 11) {
      pads = at.ints('pads') ?? at.ints('paddings') ?? [];
      value = at.float('value', 0);
    } else {
      pads = [...this.weight(node, 1, 'pads').data];
      if (ins[2]) value = this.weight(node, 2, 'constant_value').data[0] ?? 0;
      if (ins[3]) {
        // opset 18: pads only for the listed axes.
        const axes = [...this.weight(node, 3, 'axes').data].map((a) => (a < 0 ? a + r : a));
        const full = new Array<number>(2 * r).fill(0);
        axes.forEach((a, i) => {
          full[a] = pads[i]!;
          full[a + r] = pads[i + axes.length]!;
        });
        pads = full;
      }
    }
    if (value !== 0) this.err('UNSUPPORTED_OP', `Pad with constant value ${value} at ${this.where(node)}`);
    if (pads.length !== 2 * r) this.err('MALFORMED_MODEL', `Pad ${this.where(node)} has ${pads.length} pads for rank ${r}`);
    if (pads.some((p) => p < 0)) this.err('UNSUPPORTED_OP', `negative pads (cropping) at ${this.where(node)}`);
    if (pads.every((p) => p === 0)) return this.addDyn(node, dynIns, [], x);
    if (r !== 4 || pads[0] || pads[1] || pads[4] || pads[5]) {
      this.err('UNSUPPORTED_OP', `Pad of non-spatial axes at ${this.where(node)}`);
    }
    const p: [number, number, number, number] = [pads[2]!, pads[3]!, pads[6]!, pads[7]!];
    const dims = [1, x.dims[1]!, x.dims[2]! + p[0] + p[2], x.dims[3]! + p[1] + p[3]];
    this.addDyn(node, dynIns, [{ kind: 'pad', pads: p, name: nodeLabel(node) }], { dims });
  }

  // ---------------------------------------------------------------- structure

  private consumers = new Map<string, DynNode[]>();

  private walk(start: string, output: string): { layers: Layer[]; end: string; join?: DynNode } {
    const layers: Layer[] = [];
    let cur = start;
    for (;;) {
      const cs = this.consumers.get(cur) ?? [];
      if (cs.length === 0) {
        if (cur === output) return { layers, end: cur };
        this.err('UNSUPPORTED_STRUCTURE', `tensor '${cur}' is produced but leads nowhere`);
      }
      if (cur === output) this.err('UNSUPPORTED_STRUCTURE', `graph output '${output}' is also used inside the graph`);
      if (cs.length === 1) {
        const n = cs[0]!;
        if (n.isAdd) return { layers, end: cur, join: n };
        if (n.inputPerm) this.err('UNSUPPORTED_STRUCTURE', `input transpose '${n.label}' is not the only use of the input`);
        layers.push(...n.layers);
        cur = n.output;
        continue;
      }
      if (cs.length > 2) {
        this.err('UNSUPPORTED_STRUCTURE', `tensor '${cur}' feeds ${cs.length} nodes (${cs.map((n) => `'${n.label}'`).join(', ')}); only two-way residual forks are supported`);
      }
      const paths = cs.map((n) => {
        if (n.isAdd) return { layers: [] as Layer[], end: cur, join: n as DynNode | undefined };
        const r = this.walk(n.output, output);
        return { layers: [...n.layers, ...r.layers], end: r.end, join: r.join };
      });
      const [p, q] = paths as [(typeof paths)[0], (typeof paths)[0]];
      if (!p.join || p.join !== q.join) {
        this.err('UNSUPPORTED_STRUCTURE', `the two paths from tensor '${cur}' do not meet in one Add (residual block)`);
      }
      const neg = p.join.negate;
      if (neg) for (const path of [p, q]) if (path.end === p.join.inputs[1]) path.layers = [...path.layers, neg];
      const [branch, shortcut] = p.layers.length >= q.layers.length ? [p, q] : [q, p];
      layers.push({ kind: 'residual', branch: branch.layers, shortcut: shortcut.layers, name: p.join.label });
      cur = p.join.output;
    }
  }

  /**
   * A layer of the main chain whose weights are all zero makes the output a constant: the model's
   * Lipschitz constant is 0, which is refused like any other output that does not depend on the
   * input (the SDP of a zero layer has no interior, and its solvers do not converge on it).
   */
  private checkNotConstant(chain: readonly Layer[]): void {
    for (const l of chain) {
      const w = l.kind === 'dense' ? l.W.data : l.kind === 'conv2d' || l.kind === 'conv1d' ? l.kernel : l.kind === 'scaleshift' ? l.scale : undefined;
      if (w && w.every((v) => v === 0)) {
        this.err('CONSTANT_OUTPUT', `graph output does not depend on the input: layer '${l.name}' (${l.kind}) has all-zero weights, so the Lipschitz constant is 0`);
      }
    }
  }

  run(opts: ImportOptions): Network {
    this.pickInput(opts.inputName);
    const output = this.outputName();
    this.evaluate(this.liveNodes(output));
    if (this.consts.has(output) && !this.dyn.has(output)) {
      this.err('CONSTANT_OUTPUT', `graph output '${output}' does not depend on the input (its Lipschitz constant is 0)`);
    }
    for (const n of this.dynNodes) {
      for (const i of n.inputs) {
        const list = this.consumers.get(i) ?? [];
        list.push(n);
        this.consumers.set(i, list);
      }
    }
    let start = this.inputName;
    let inputPermutation: Network['inputPermutation'];
    const first = this.consumers.get(start) ?? [];
    if (first.length === 1 && first[0]!.inputPerm) {
      inputPermutation = { from: 'NHWC', chwShape: first[0]!.inputPerm };
      start = first[0]!.output;
    }
    const { layers, join } = this.walk(start, output);
    if (join) this.err('UNSUPPORTED_STRUCTURE', `Add '${join.label}' joins a path that does not fork from the input chain`);
    const outDims = this.dyn.get(output)!.dims;
    const inputShape = this.inputDims.slice(1);
    const chain = opts.simplify === false ? layers : simplifyChain(layers);
    this.checkNotConstant(chain);
    const net: Network = {
      inputShape,
      layers: chain,
      outputSize: numel(outDims),
      source: this.source,
      ...(inputPermutation ? { inputPermutation } : {}),
      // An [N, C, T] input read by a 1-D Conv is a signal (a rank-2 sample shape is otherwise flat).
      ...(this.sawConv1d && inputShape.length === 2 ? { signal: true } : {}),
    };
    let shapes: ValueShape[];
    try {
      shapes = networkShapes(net);
    } catch (e) {
      if (e instanceof LipdpError) this.err('UNSUPPORTED_STRUCTURE', e.message);
      throw e;
    }
    if (sizeOf(shapes[shapes.length - 1]!) !== net.outputSize) {
      this.err('UNSUPPORTED_STRUCTURE', `layer shapes give ${sizeOf(shapes[shapes.length - 1]!)} outputs, the graph declares ${net.outputSize}`);
    }
    return net;
  }
}

function wrapUnexpected(e: unknown, source: string): never {
  if (e instanceof LipdpError) throw e;
  const msg = e instanceof Error ? e.message : String(e);
  throw new LipdpError('MALFORMED_MODEL', `malformed ONNX file '${source}': ${msg}`, { cause: e });
}

/** Import from bytes, synchronously; external data only from `opts.externalFiles`. */
export function importOnnxBytes(bytes: Uint8Array, opts: ImportOptions = {}): Network {
  const source = opts.source ?? 'bytes';
  try {
    const model = decodeModel(bytes, source);
    const plan = new MemoryPlan(opts, source);
    return new Importer(model, source, opts.externalFiles, plan).run(opts);
  } catch (e) {
    return wrapUnexpected(e, source);
  }
}

/**
 * Import a model from a path (Node) or bytes. With a path, external data files named by the
 * model are read from the model's directory (or `opts.baseDir`).
 */
export async function importOnnx(input: Uint8Array | string, opts: ImportOptions = {}): Promise<Network> {
  const path = await import('node:path').catch(() => undefined);
  let bytes: Uint8Array;
  let source = opts.source ?? 'bytes';
  let baseDir = opts.baseDir;
  if (typeof input === 'string') source = opts.source ?? (path ? path.basename(input) : input);
  // Books the model file and external data files; the importer then plans its own allocations.
  const filePlan = new MemoryPlan(opts, source);
  if (typeof input === 'string') {
    baseDir = baseDir ?? (path ? path.dirname(input) : '.');
    bytes = await readBounded(input, undefined, `model file '${input}'`, filePlan);
  } else {
    bytes = input;
  }
  let files: Map<string, Uint8Array> | undefined;
  if (baseDir !== undefined && path) {
    const model = (() => {
      try {
        return decodeModel(bytes, source);
      } catch (e) {
        return wrapUnexpected(e, source);
      }
    })();
    const fs = await import('node:fs/promises');
    files = new Map(opts.externalFiles instanceof Map ? opts.externalFiles : Object.entries(opts.externalFiles ?? {}));
    let realBase: string | undefined;
    for (const [loc, end] of externalExtents(model.graph!)) {
      if (files.has(loc)) continue;
      if (path.isAbsolute(loc) || loc.split(/[\\/]/).includes('..') || loc.includes('\0')) {
        throw new LipdpError('IO', `external data location '${loc.replace(/\0/g, '\\0')}' in '${source}' points outside the model's directory`);
      }
      let real: string;
      try {
        realBase ??= await fs.realpath(baseDir);
        real = await fs.realpath(path.join(baseDir, loc));
      } catch {
        continue; // Left missing: decoding the tensor reports which initializer needs it.
      }
      // A symlink inside the folder may point anywhere; only its target counts.
      if (!real.startsWith(realBase.endsWith(path.sep) ? realBase : realBase + path.sep)) {
        throw new LipdpError('IO', `external data file '${loc}' of '${source}' resolves outside the model's directory`);
      }
      files.set(loc, await readBounded(real, end, `external data file '${loc}' of '${source}'`, filePlan));
    }
  }
  return importOnnxBytes(bytes, { ...opts, source, ...(files ? { externalFiles: files } : {}) });
}

/**
 * Per external location, the end of the furthest byte any initializer declares (offset + length),
 * or undefined when one of them takes the whole file. Malformed offsets/lengths read nothing:
 * decodeTensor reports them with the initializer's name.
 */
function externalExtents(graph: GraphProto): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>();
  for (const loc of externalLocations(graph)) out.set(loc, 0);
  for (const t of graph.initializer ?? []) {
    const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const loc = kv.get('location');
    if (t.dataLocation !== 1 || !loc || !out.has(loc)) continue;
    const prev = out.get(loc);
    if (!kv.has('length')) {
      out.set(loc, undefined);
      continue;
    }
    const offset = kv.has('offset') ? Number(kv.get('offset')) : 0;
    const length = Number(kv.get('length'));
    const end = Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 ? offset + length : 0;
    if (prev !== undefined) out.set(loc, Math.max(prev, end));
  }
  return out;
}

/**
 * Read at most `limit` bytes (the whole file when undefined) of a regular file. Devices, FIFOs
 * and directories are refused before opening (a FIFO would block the open, /dev/zero never ends),
 * the size is booked in the memory plan, and the read stops at the size found by fstat.
 */
async function readBounded(file: string, limit: number | undefined, what: string, plan: MemoryPlan): Promise<Uint8Array> {
  const fs = await import('node:fs/promises');
  const { constants } = await import('node:fs');
  const ioErr = (e: unknown): never => {
    const code = (e as { code?: string }).code ?? String(e);
    throw new LipdpError('IO', `cannot read ${what}: ${code}`, { cause: e });
  };
  const st = await fs.stat(file).catch(ioErr);
  if (!st.isFile()) throw new LipdpError('IO', `${what} is not a regular file`);
  const handle = await fs.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)).catch(ioErr);
  try {
    const st2 = await handle.stat();
    if (!st2.isFile()) throw new LipdpError('IO', `${what} is not a regular file`);
    const want = Math.min(st2.size, limit ?? st2.size);
    plan.book(want, what);
    const buf = new Uint8Array(want);
    let off = 0;
    while (off < want) {
      const { bytesRead } = await handle.read(buf, off, want - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return off === want ? buf : buf.subarray(0, off);
  } finally {
    await handle.close();
  }
}
