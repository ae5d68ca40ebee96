/**
 * Generator of the two seeded 1-D example networks (run: `npx tsx examples/oned/make-oned-examples.ts`):
 *  - cnn1d.onnx: input [1, 2, 64] → Conv1d 2→4 k5 s1 p2 → ReLU → Conv1d 4→4 k3 s2 p1 → ReLU →
 *    Conv1d 4→3 k1 (a per-time-step dense head) → output [1, 3, 32].
 *  - ssm-net.json (lipdp-ssm format, examples/oned/README.md): input 2 channels →
 *    SSM (3 real states, 2→4) → tanh → SSM in complex-diagonal form (2 complex modes + 1 real,
 *    4→4) → per-step dense 4→1.
 * Both builders are exported so that the tests use the very same networks.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeModel, floatTensor, node, randomWeights } from '../../src/model/onnx-writer.js';
import { mulberry32 } from '../../src/util/random.js';

export function buildCnn1dOnnx(seed = 1): Uint8Array {
  const r = mulberry32(seed);
  const k1 = randomWeights(r, 4 * 2 * 5, 2 * 5);
  const b1 = Float32Array.from({ length: 4 }, () => 0.1 * (2 * r() - 1));
  const k2 = randomWeights(r, 4 * 4 * 3, 4 * 3);
  const b2 = Float32Array.from({ length: 4 }, () => 0.1 * (2 * r() - 1));
  const k3 = randomWeights(r, 3 * 4, 4);
  const b3 = Float32Array.from({ length: 3 }, () => 0.1 * (2 * r() - 1));
  return encodeModel({
    name: 'cnn1d',
    input: { name: 'input', dims: [1, 2, 64] },
    output: { name: 'output', dims: [1, 3, 32] },
    initializers: [
      floatTensor('k1', [4, 2, 5], k1),
      floatTensor('b1', [4], b1),
      floatTensor('k2', [4, 4, 3], k2),
      floatTensor('b2', [4], b2),
      floatTensor('k3', [3, 4, 1], k3),
      floatTensor('b3', [3], b3),
    ],
    nodes: [
      node('Conv', ['input', 'k1', 'b1'], ['c1'], 'conv1', { kernel_shape: [5], strides: [1], pads: [2, 2] }),
      node('Relu', ['c1'], ['r1'], 'relu1'),
      node('Conv', ['r1', 'k2', 'b2'], ['c2'], 'conv2', { kernel_shape: [3], strides: [2], pads: [1, 1] }),
      node('Relu', ['c2'], ['r2'], 'relu2'),
      node('Conv', ['r2', 'k3', 'b3'], ['output'], 'head', { kernel_shape: [1] }),
    ],
    docString: 'lipdp 1-D CNN example (seeded); the last 1×1 conv is a per-time-step dense head',
  });
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function mat(r: () => number, rows: number, cols: number, scale: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => round(scale * (2 * r() - 1))));
}

/** A 3×3 A with spectral norm ≤ 0.9 (a scaled rotation-plus-contraction, stable by construction). */
function stable3(r: () => number): number[][] {
  const M = mat(r, 3, 3, 1);
  // Scale by the Frobenius norm (≥ spectral norm) so that ‖A‖₂ ≤ 0.9 < 1.
  const f = Math.sqrt(M.flat().reduce((s, v) => s + v * v, 0));
  return M.map((row) => row.map((v) => round((0.9 * v) / f)));
}

export function buildSsmNetJson(seed = 2): string {
  const r = mulberry32(seed);
  const doc = {
    format: 'lipdp-ssm',
    input: { channels: 2, length: 256 },
    layers: [
      { type: 'ssm', name: 'ssm1', A: stable3(r), B: mat(r, 3, 2, 1), C: mat(r, 4, 3, 1), D: mat(r, 4, 2, 0.5), bias: mat(r, 1, 4, 0.1)[0] },
      { type: 'tanh' },
      {
        type: 'ssm',
        name: 'ssm2-diag',
        // LRU-style: |λ| < 1; two complex modes and one real one.
        diagA: { re: [0.8 * Math.cos(0.5), 0.6 * Math.cos(2.0), 0.5].map(round), im: [0.8 * Math.sin(0.5), 0.6 * Math.sin(2.0), 0].map(round) },
        B: { re: mat(r, 3, 4, 0.5), im: [...mat(r, 2, 4, 0.5), [0, 0, 0, 0]] },
        C: { re: mat(r, 4, 3, 0.5), im: mat(r, 4, 3, 0.5) },
        D: mat(r, 4, 4, 0.3),
      },
      { type: 'dense', name: 'head', W: mat(r, 1, 4, 0.8), b: [0.05] },
    ],
  };
  return JSON.stringify(doc, null, 1) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = dirname(fileURLToPath(import.meta.url));
  writeFileSync(join(dir, 'cnn1d.onnx'), buildCnn1dOnnx());
  writeFileSync(join(dir, 'ssm-net.json'), buildSsmNetJson());
  console.log(`wrote ${join(dir, 'cnn1d.onnx')} and ${join(dir, 'ssm-net.json')}`);
}
