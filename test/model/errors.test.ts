/** Bad inputs must give a LipdpError with the right code and a one-line message naming the culprit. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LipdpError } from '../../src/model/errors.js';
import { forward } from '../../src/model/forward.js';
import { importOnnx, importOnnxBytes } from '../../src/model/import.js';
import { toFcChain } from '../../src/model/lower.js';
import { encodeModel, externalFloatTensor, floatTensor, node } from '../../src/model/onnx-writer.js';
import { mulberry32 } from '../../src/util/random.js';
import { GraphBuilder } from './builders.js';

const EXAMPLES = fileURLToPath(new URL('../../examples', import.meta.url));
const mlpTiny = () => new Uint8Array(readFileSync(`${EXAMPLES}/mlp_tiny.onnx`));

function catchErr(f: () => unknown): LipdpError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LipdpError);
    const err = e as LipdpError;
    expect(err.message).not.toContain('\n');
    return err;
  }
  throw new Error('expected a LipdpError');
}

async function catchErrAsync(f: () => Promise<unknown>): Promise<LipdpError> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(LipdpError);
    return e as LipdpError;
  }
  throw new Error('expected a LipdpError');
}

/** Gemm → <op> → Gemm, with `op` in the middle. */
function withMiddleOp(op: string, attrs: Record<string, number> = {}): Uint8Array {
  const g = new GraphBuilder(1);
  let x = g.op('Gemm', ['input', g.weight('w1', [6, 4]), g.weight('b1', [6], 6)], { transB: 1 }, 'fc1');
  x = g.op(op, [x], attrs, 'sm_1');
  g.op('Gemm', [x, g.weight('w2', [3, 6]), g.weight('b2', [3], 3)], { transB: 1 }, 'fc2');
  return g.build([1, 4], 'output', [1, 3]);
}

describe('malformed files', () => {
  it('truncated protobuf', () => {
    const bytes = mlpTiny();
    const err = catchErr(() => importOnnxBytes(bytes.subarray(0, Math.floor(bytes.length / 2)), { source: 'x.onnx' }));
    expect(err.code).toBe('MALFORMED_MODEL');
    expect(err.message).toMatch(/malformed ONNX file 'x\.onnx'/);
  });

  it('random garbage', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rand = mulberry32(seed);
      const bytes = Uint8Array.from({ length: 2000 }, () => Math.floor(rand() * 256));
      const err = catchErr(() => importOnnxBytes(bytes, { source: 'garbage.onnx' }));
      expect(err.code).toBe('MALFORMED_MODEL');
      expect(err.message).toContain('garbage.onnx');
    }
  });

  it('empty input', () => {
    expect(catchErr(() => importOnnxBytes(new Uint8Array(0))).code).toBe('MALFORMED_MODEL');
  });

  it('missing model file', async () => {
    const err = await catchErrAsync(() => importOnnx('/nonexistent/model.onnx'));
    expect(err.code).toBe('IO');
    expect(err.message).toContain('/nonexistent/model.onnx');
  });
});

describe('unsupported ops', () => {
  it('Softmax in the middle names op and node', () => {
    const err = catchErr(() => importOnnxBytes(withMiddleOp('Softmax', { axis: 1 }), { source: 'model.onnx' }));
    expect(err.code).toBe('UNSUPPORTED_OP');
    expect(err.message).toMatch(/^unsupported op 'Softmax' at node 'sm_1'; export the logits instead .* \(model\.onnx\)$/);
  });

  it('product of two tensors', () => {
    const g = new GraphBuilder(1);
    const a = g.op('Gemm', ['input', g.weight('w1', [4, 4])], { transB: 1 }, 'fc1');
    g.op('Mul', [a, 'input'], {}, 'mul_xx');
    const err = catchErr(() => importOnnxBytes(g.build([1, 4], 'output', [1, 4])));
    expect(err.code).toBe('UNSUPPORTED_OP');
    expect(err.message).toContain("node 'mul_xx'");
  });

  // 1-D convolution is supported since the conv1d layer kind (test/oned); grouped 1-D is not.
  it('grouped 1-D convolution', () => {
    const g = new GraphBuilder(1);
    g.op('Conv', ['input', g.weight('k', [2, 1, 3])], { group: 2 }, 'conv1d');
    const err = catchErr(() => importOnnxBytes(g.build([1, 2, 8], 'output', [1, 2, 6])));
    expect(err.code).toBe('UNSUPPORTED_OP');
    expect(err.message).toContain("'conv1d'");
  });
});

describe('invalid weights', () => {
  function mlpWith(value: number, where: 'w' | 'b'): Uint8Array {
    const w = Array.from({ length: 12 }, (_, i) => Math.sin(i));
    const b = [0.1, 0.2, 0.3];
    if (where === 'w') w[5] = value;
    else b[1] = value;
    return encodeModel({
      name: 'bad',
      input: { name: 'input', dims: [1, 4] },
      output: { name: 'output', dims: [1, 3] },
      nodes: [node('Gemm', ['input', 'fc1.weight', 'fc1.bias'], ['output'], 'Gemm_3', { transB: 1 })],
      initializers: [floatTensor('fc1.weight', [3, 4], w), floatTensor('fc1.bias', [3], b)],
    });
  }

  it('NaN weight names initializer and node', () => {
    const err = catchErr(() => importOnnxBytes(mlpWith(NaN, 'w')));
    expect(err.code).toBe('INVALID_WEIGHTS');
    expect(err.message).toContain("NaN weight in initializer 'fc1.weight' used by node 'Gemm_3'");
  });

  it('Inf bias', () => {
    const err = catchErr(() => importOnnxBytes(mlpWith(Infinity, 'b')));
    expect(err.code).toBe('INVALID_WEIGHTS');
    expect(err.message).toContain("'fc1.bias'");
  });

  it('NaN in an initializer that constant folding consumes', () => {
    const g = new GraphBuilder(1);
    g.constant('s', [], [NaN]);
    const w = g.op('Div', [g.weight('w', [3, 4]), 's'], {}, 'norm_div');
    g.op('Gemm', ['input', w], { transB: 1 }, 'fc');
    const err = catchErr(() => importOnnxBytes(g.build([1, 4], 'output', [1, 3])));
    expect(err.code).toBe('INVALID_WEIGHTS');
    expect(err.message).toContain("initializer 's' used by node 'norm_div'");
  });
});

describe('external data', () => {
  /** 4→3 Gemm whose weight lives in an external file. */
  function externalModel(): { bytes: Uint8Array; data: Uint8Array } {
    const w = Float32Array.from({ length: 12 }, (_, i) => (i - 6) / 7);
    const pad = new Uint8Array(16); // data not at offset 0, to test offsets
    const data = new Uint8Array(16 + 48);
    data.set(pad, 0);
    data.set(new Uint8Array(w.buffer), 16);
    const bytes = encodeModel({
      name: 'ext',
      input: { name: 'input', dims: [1, 4] },
      output: { name: 'output', dims: [1, 3] },
      nodes: [node('Gemm', ['input', 'fc.weight'], ['output'], 'fc', { transB: 1 })],
      initializers: [externalFloatTensor('fc.weight', [3, 4], 'ext.onnx.data', 16, 48)],
    });
    return { bytes, data };
  }

  it('reads external data from a map and from disk', async () => {
    const { bytes, data } = externalModel();
    const a = importOnnxBytes(bytes, { externalFiles: { 'ext.onnx.data': data } });
    const dir = mkdtempSync(join(tmpdir(), 'lipdp-ext-'));
    writeFileSync(join(dir, 'ext.onnx'), bytes);
    writeFileSync(join(dir, 'ext.onnx.data'), data);
    const b = await importOnnx(join(dir, 'ext.onnx'));
    const x = Float64Array.of(1, 2, 3, 4);
    expect([...forward(a, x)]).toEqual([...forward(b, x)]);
    const w0 = [-6, -5, -4, -3].map((v) => Math.fround(v / 7));
    expect(forward(a, x)[0]).toBeCloseTo(w0[0]! + 2 * w0[1]! + 3 * w0[2]! + 4 * w0[3]!, 12);
  });

  it('missing external data file → IO naming file and initializer', async () => {
    const { bytes } = externalModel();
    const err = catchErr(() => importOnnxBytes(bytes, { source: 'ext.onnx' }));
    expect(err.code).toBe('IO');
    expect(err.message).toContain("'ext.onnx.data'");
    expect(err.message).toContain("initializer 'fc.weight'");
    const dir = mkdtempSync(join(tmpdir(), 'lipdp-ext-'));
    writeFileSync(join(dir, 'ext.onnx'), bytes);
    const err2 = await catchErrAsync(() => importOnnx(join(dir, 'ext.onnx')));
    expect(err2.code).toBe('IO');
    expect(err2.message).toContain("'ext.onnx.data'");
  });

  it('external data file too short → IO', () => {
    const { bytes, data } = externalModel();
    const err = catchErr(() => importOnnxBytes(bytes, { externalFiles: new Map([['ext.onnx.data', data.subarray(0, 40)]]) }));
    expect(err.code).toBe('IO');
    expect(err.message).toContain('too short');
  });
});

describe('structure', () => {
  it('toFcChain rejects conv layers naming the layer', async () => {
    const net = await importOnnx(`${EXAMPLES}/cnn_tiny.onnx`);
    const err = catchErr(() => toFcChain(net));
    expect(err.code).toBe('UNSUPPORTED_STRUCTURE');
    expect(err.message).toContain("'conv1'");
  });

  it('forward rejects inputs of the wrong size', async () => {
    const net = await importOnnx(`${EXAMPLES}/mlp_tiny.onnx`);
    expect(catchErr(() => forward(net, new Float64Array(3))).code).toBe('INVALID_ARGUMENT');
  });
});
