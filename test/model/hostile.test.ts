/**
 * Issue 19: every row of the hostile-model table as a regression test, plus the checks that
 * came with the fix (attribute schemas, unique names, memory plan, external data confinement).
 * Most go through the library; a few through the CLI to pin the one-line `lipdp: error:` / exit 2
 * contract.
 */
import { spawnSync } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { estimateLipschitz } from '../../src/estimate.js';
import { LipdpError } from '../../src/model/errors.js';
import { importOnnx, importOnnxBytes } from '../../src/model/import.js';
import { defaultMaxMemoryBytes, parseByteSize } from '../../src/model/memory-plan.js';
import { OP_SCHEMAS } from '../../src/model/schema.js';
import { encodeModel, floatTensor, node } from '../../src/model/onnx-writer.js';
import {
  HOSTILE_CASES,
  convNet,
  externalMlp,
  floatAttr,
  intAttr,
  intsAttr,
  mlp,
  mlpW1Bytes,
  stringAttr,
} from './hostile-models.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'lipdp.js');

function importErr(bytes: Uint8Array, opts: Parameters<typeof importOnnxBytes>[1] = {}): LipdpError {
  try {
    importOnnxBytes(bytes, { source: 'hostile.onnx', ...opts });
  } catch (e) {
    expect(e).toBeInstanceOf(LipdpError);
    expect((e as Error).message).not.toContain('\n');
    return e as LipdpError;
  }
  throw new Error('expected a LipdpError');
}

async function importErrAsync(f: () => Promise<unknown>): Promise<LipdpError> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(LipdpError);
    expect((e as Error).message).not.toContain('\n');
    return e as LipdpError;
  }
  throw new Error('expected a LipdpError');
}

const QUICK = { lowerBoundTimeMs: 2000, refineTimeMs: 5000, admmTimeBudgetMs: 3000 } as const;

describe('issue 19 table: each row as expected', () => {
  for (const c of HOSTILE_CASES) {
    it(c.id, async () => {
      if (c.expect === 'valid') {
        const t0 = performance.now();
        const r = await estimateLipschitz(c.bytes(), QUICK);
        expect(r.upperBound).not.toBeNull();
        expect(r.upperBound!).toBeGreaterThanOrEqual(r.lowerBound);
        expect(performance.now() - t0).toBeLessThan(30_000);
        return;
      }
      const bytes = c.bytes();
      const rss0 = process.memoryUsage().rss;
      const t0 = performance.now();
      const e = importErr(bytes);
      expect(e.code).toBe(c.expect.error);
      expect(e.message).toMatch(c.expect.message);
      // Refused up front: nothing big was allocated or computed.
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(process.memoryUsage().rss - rss0).toBeLessThan(200 * 1024 ** 2);
    });
  }

  it('1: LeakyRelu alpha FLOAT 5 (the valid twin of the INT case) certifies above its lower bound', async () => {
    const r = await estimateLipschitz(mlp({ act: 'LeakyRelu', actAttrs: [floatAttr('alpha', 5)] }), QUICK);
    expect(r.upperBound!).toBeGreaterThanOrEqual(r.lowerBound);
    expect(r.lowerBound).toBeGreaterThan(0);
  });

  it('2: a net whose first layer is all zero is refused with the reason', () => {
    const e = importErr(mlp({ scale: 0 }));
    expect(e.message).toMatch(/layer 'fc1' \(dense\) has all-zero weights/);
  });

  it('6: the size cap also applies to intermediate tensors (pads that grow the map)', () => {
    const e = importErr(convNet([intsAttr('pads', [2, 2, 2, 2]), intsAttr('dilations', [1, 1])], 6, 6), { maxActivationElements: 50 });
    expect(e.message).toMatch(/model too large: tensor 'input' \[1,1,6,6\]|model too large: tensor 'c'/);
  });

  it('5: maxMemoryBytes lowers the cap and the message names the tensor and the bytes', () => {
    const e = importErr(mlp(), { maxMemoryBytes: 100 });
    expect(e.message).toMatch(/model too large: .* needs .*bytes, past the memory cap of 100 bytes/);
    expect(() => importOnnxBytes(mlp(), { maxMemoryBytes: 1e6 })).not.toThrow();
  });
});

describe('row 7: external data confined to regular files inside the model folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lipdp-hostile-'));
  const modelDir = join(dir, 'model');
  mkdirSync(modelDir);
  const outside = join(dir, 'outside.bin');
  writeFileSync(outside, mlpW1Bytes());
  writeFileSync(join(modelDir, 'inside.bin'), mlpW1Bytes());
  symlinkSync(outside, join(modelDir, 'escape.bin'));
  symlinkSync('/dev/zero', join(modelDir, 'zero.bin'));
  symlinkSync(join(modelDir, 'inside.bin'), join(modelDir, 'alias.bin'));
  mkdirSync(join(modelDir, 'adir'));
  const model = (loc: string) => {
    const p = join(modelDir, `${loc.replace(/[^a-z]/g, '_')}.onnx`);
    writeFileSync(p, externalMlp(loc));
    return p;
  };

  it('a regular file inside the folder is read, also through a symlink that stays inside', async () => {
    await expect(importOnnx(model('inside.bin'))).resolves.toBeTruthy();
    await expect(importOnnx(model('alias.bin'))).resolves.toBeTruthy();
  });

  it('a symlink out of the folder is refused (realpath)', async () => {
    const e = await importErrAsync(() => importOnnx(model('escape.bin')));
    expect(e.code).toBe('IO');
    expect(e.message).toMatch(/external data file 'escape\.bin' .* resolves outside the model's directory/);
  });

  it('a symlink to /dev/zero is refused as not a regular file', async () => {
    const e = await importErrAsync(() => importOnnx(model('zero.bin')));
    expect(e.code).toBe('IO');
    expect(e.message).toMatch(/'zero\.bin'.* (resolves outside the model's directory|is not a regular file)/);
  });

  it('a directory and a FIFO are refused without blocking', async () => {
    expect((await importErrAsync(() => importOnnx(model('adir')))).message).toMatch(/not a regular file/);
    try {
      execFileSync('mkfifo', [join(modelDir, 'fifo.bin')]);
    } catch {
      return; // no mkfifo on this system
    }
    expect((await importErrAsync(() => importOnnx(model('fifo.bin')))).message).toMatch(/not a regular file/);
  });

  it('the model file itself must be a regular file', async () => {
    const e = await importErrAsync(() => importOnnx('/dev/zero'));
    expect(e.code).toBe('IO');
    expect(e.message).toMatch(/not a regular file/);
  });

  it('locations with .., a backslash .., an absolute path or NUL are refused before anything is read', async () => {
    for (const loc of ['../outside.bin', '..\\outside.bin', 'sub/../../outside.bin', outside, 'inside.bin\0.txt']) {
      const e = await importErrAsync(() => importOnnx(model(loc)));
      expect(e.code, loc).toBe('IO');
      expect(e.message, loc).toMatch(/points outside the model's directory/);
    }
  });

  it('a declared length of gigabytes reads only what the file has and reports it too short', async () => {
    const p = join(modelDir, 'long.onnx');
    const { onnx } = await import('../../src/model/onnx.js');
    const model = onnx.ModelProto.decode(externalMlp('inside.bin'));
    const w1 = model.graph!.initializer!.find((t) => t.name === 'w1')!;
    w1.externalData!.find((e) => e.key === 'length')!.value = String(2 ** 33);
    writeFileSync(p, onnx.ModelProto.encode(model).finish());
    const e = await importErrAsync(() => importOnnx(p));
    expect(e.code).toBe('IO');
    expect(e.message).toMatch(/too short for initializer 'w1'/);
  });

  it('reads stop at the declared length: a large file with a 96-byte tensor books 96 bytes', async () => {
    const big = new Uint8Array(64 * 1024 * 1024);
    big.set(mlpW1Bytes());
    writeFileSync(join(modelDir, 'big.bin'), big);
    // 64 MiB would not fit this cap; the 96 declared bytes do.
    await expect(importOnnx(model('big.bin'), { maxMemoryBytes: 4 * 1024 * 1024 })).resolves.toBeTruthy();
  });
});

describe('attribute schemas', () => {
  it('every supported op has a schema, every schema entry a type', () => {
    for (const [op, schema] of Object.entries(OP_SCHEMAS)) {
      for (const [name, spec] of Object.entries(schema)) expect(spec.type, `${op}.${name}`).toMatch(/^(int|float|ints|floats|string|tensor)$/);
    }
  });

  it('unknown attributes are refused, naming node and attribute', () => {
    const e = importErr(mlp({ gemmAttrs: [intAttr('gamma', 1)] }));
    expect(e.message).toMatch(/node 'fc1' \(Gemm\) has attribute 'gamma' that lipdp does not know/);
  });

  it('a legacy broadcast axis on Add is refused (it would change the broadcast)', () => {
    const bytes = encodeModel({
      name: 'legacy_axis',
      input: { name: 'input', dims: [1, 4] },
      output: { name: 'output', dims: [1, 4] },
      nodes: [{ opType: 'Add', name: 'add', input: ['input', 'b'], output: ['output'], attribute: [intAttr('axis', 1)] }],
      initializers: [floatTensor('b', [4], [1, 2, 3, 4])],
    });
    expect(importErr(bytes).message).toMatch(/'axis'/);
  });

  it('the same attribute twice is refused', () => {
    expect(importErr(mlp({ gemmAttrs: [floatAttr('alpha', 1), floatAttr('alpha', 2)] })).message).toMatch(/attribute 'alpha' twice/);
  });

  it('a standard op from another domain is refused', () => {
    const bytes = encodeModel({
      name: 'domain',
      input: { name: 'input', dims: [1, 4] },
      output: { name: 'output', dims: [1, 4] },
      nodes: [{ opType: 'Relu', domain: 'com.example', name: 'r', input: ['input'], output: ['output'] }],
      initializers: [],
    });
    const e = importErr(bytes);
    expect(e.code).toBe('UNSUPPORTED_OP');
    expect(e.message).toMatch(/op 'Relu' of domain 'com\.example'/);
  });

  it('out-of-range ints and bad strings', () => {
    expect(importErr(mlp({ gemmAttrs: [intAttr('transA', 2)] })).message).toMatch(/'transA' = 2 is out of range \[0, 1\]/);
    expect(importErr(convNet([intsAttr('pads', [-1, 0, 0, 0])])).message).toMatch(/'pads' = -1 is out of range/);
    expect(importErr(convNet([intAttr('group', 0)])).message).toMatch(/'group' = 0 is out of range/);
    expect(importErr(convNet([stringAttr('auto_pad', 'SOMETIMES')])).message).toMatch(/'auto_pad' = 'SOMETIMES' is not one of/);
    expect(importErr(mlp({ gemmAttrs: [floatAttr('alpha', -Infinity)] })).message).toMatch(/'alpha' is -Infinity/);
  });

  it('pooling pads must be smaller than the kernel', () => {
    const bytes = encodeModel({
      name: 'pool',
      input: { name: 'input', dims: [1, 1, 6, 6] },
      output: { name: 'output', dims: [1, 1, 8, 8] },
      nodes: [node('MaxPool', ['input'], ['output'], 'pool', { kernel_shape: [2, 2], pads: [2, 2, 2, 2] })],
      initializers: [],
    });
    expect(importErr(bytes).message).toMatch(/pool.*pads \[2,2,2,2\] exceed kernel − 1/);
  });

  it('a Transpose perm that is not a permutation is refused', () => {
    const bytes = encodeModel({
      name: 'perm',
      input: { name: 'input', dims: [1, 4, 1, 1] },
      output: { name: 'output', dims: [1, 4] },
      nodes: [node('Transpose', ['input'], ['t'], 'tr', { perm: [0, 1, 2, 2] }), node('Flatten', ['t'], ['output'], 'fl')],
      initializers: [],
    });
    expect(importErr(bytes).message).toMatch(/perm \[0,1,2,2\] is not a permutation/);
  });
});

describe('unique names', () => {
  it('two nodes writing the same tensor', () => {
    const bytes = encodeModel({
      name: 'dup_out',
      input: { name: 'input', dims: [1, 4] },
      output: { name: 'output', dims: [1, 4] },
      nodes: [node('Relu', ['input'], ['h'], 'a'), node('Tanh', ['input'], ['h'], 'b'), node('Relu', ['h'], ['output'], 'c')],
      initializers: [],
    });
    expect(importErr(bytes).message).toMatch(/tensor 'h' is produced by node 'a' and by node 'b'/);
  });

  it('a node overwriting an initializer', () => {
    const bytes = encodeModel({
      name: 'dup_init',
      input: { name: 'input', dims: [1, 4] },
      output: { name: 'output', dims: [1, 4] },
      nodes: [node('Relu', ['input'], ['w'], 'a'), node('Add', ['w', 'w'], ['output'], 'c')],
      initializers: [floatTensor('w', [1, 4], [1, 2, 3, 4])],
    });
    expect(importErr(bytes).message).toMatch(/node 'a' writes 'w', which is also an initializer/);
  });
});

describe('memory plan', () => {
  it('--max-memory sizes parse in binary units', () => {
    expect(parseByteSize('1024')).toBe(1024);
    expect(parseByteSize('512M')).toBe(512 * 1024 ** 2);
    expect(parseByteSize('2G')).toBe(2 * 1024 ** 3);
    expect(parseByteSize('1.5GiB')).toBe(1.5 * 1024 ** 3);
    for (const bad of ['', '-1', '0', 'lots', '1Q', 'NaN']) expect(() => parseByteSize(bad)).toThrow(LipdpError);
  });

  it('the default cap is a quarter of the machine memory, at most 1 GiB', () => {
    const d = defaultMaxMemoryBytes();
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThanOrEqual(1024 ** 3);
  });

  it('an initializer claiming 2^40 elements allocates nothing', () => {
    const bytes = encodeModel({
      name: 'huge_dims',
      input: { name: 'input', dims: [1, 4] },
      output: { name: 'output', dims: [1, 4] },
      nodes: [node('Add', ['input', 'b'], ['output'], 'add')],
      initializers: [{ name: 'b', dims: [2 ** 20, 2 ** 20], dataType: 1, rawData: new Uint8Array(16) }],
    });
    const t0 = performance.now();
    expect(importErr(bytes).message).toMatch(/model too large: initializer 'b'/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('a fold whose multiply-adds would take minutes is refused', () => {
    const n = 2048;
    const bytes = encodeModel({
      name: 'fold_matmul',
      input: { name: 'input', dims: [1, n] },
      output: { name: 'output', dims: [1, n] },
      nodes: [
        node('ConstantOfShape', ['shape'], ['a'], 'cos', { value: { tensor: floatTensor('v', [1], [1e-6]) } }),
        node('MatMul', ['a', 'a'], ['aa'], 'mm'),
        node('MatMul', ['input', 'aa'], ['output'], 'fc'),
      ],
      initializers: [{ name: 'shape', dims: [2], dataType: 7, rawData: new Uint8Array(new BigInt64Array([BigInt(n), BigInt(n)]).buffer) }],
    });
    expect(importErr(bytes).message).toMatch(/model too large: folding constant 'aa' .* multiply-adds/);
  });
});

describe('CLI: one line, exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lipdp-hostile-cli-'));
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'estimate', '--quiet', ...args], { encoding: 'utf8', timeout: 60_000 });
  const file = (name: string, bytes: Uint8Array) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const oneLineError = (r: ReturnType<typeof run>, pattern: RegExp) => {
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^lipdp: error: /);
    expect(lines[0]).toMatch(pattern);
  };

  it('LeakyRelu alpha INT → exit 2 naming node and attribute', () => {
    oneLineError(run(file('leaky_int.onnx', mlp({ act: 'LeakyRelu', actAttrs: [intAttr('alpha', 5)] }))), /node 'act' \(LeakyRelu\) attribute 'alpha' is declared INT/);
  });

  it('ConstantOfShape [2^28] with --max-memory 64M → too large, naming the constant', () => {
    const HOSTILE = HOSTILE_CASES.find((c) => c.id.startsWith('5 ConstantOfShape [2^28]'))!;
    oneLineError(run('--max-memory', '64M', file('cos28.onnx', HOSTILE.bytes())), /model too large: constant 'big'.*past the memory cap of 64\.0 MiB/);
  });

  it('a 30000×30000 input → too large, naming the input', () => {
    const HOSTILE = HOSTILE_CASES.find((c) => c.id.startsWith('6 '))!;
    oneLineError(run(file('huge.onnx', HOSTILE.bytes())), /model too large: tensor 'input'/);
  });

  it('an all-zero net (valid, constant output, L = 0) → exit 3 with one line saying why', () => {
    const HOSTILE = HOSTILE_CASES.find((c) => c.id === '2 every initializer all zero')!;
    const r = run(file('zero.onnx', HOSTILE.bytes()));
    expect(r.status).toBe(3);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^lipdp: error: .*does not depend on the input.*Lipschitz constant is 0/);
  });

  it('a bad --max-memory value → exit 2', () => {
    oneLineError(run('--max-memory', 'lots', file('ok.onnx', mlp())), /--max-memory 'lots' is not a size/);
  });
});
