/**
 * The CLI as a user sees it: the README's example command, the JSON report's stable fields, and
 * bad input (truncated, garbage, unsupported op, NaN weights, missing file) → one line on stderr,
 * non-zero exit, no bound printed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeModel, floatTensor, node } from '../../src/model/onnx-writer.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'lipdp.js');
const TINY = join(ROOT, 'examples', 'mlp_tiny.onnx');

function lipdp(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'lipdp-cli-'));
function file(name: string, bytes: Uint8Array | string): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

/** A two-layer model whose middle op is `op` (or whose first weight contains `poison`). */
function smallModel(op: string, poison?: number): Uint8Array {
  const w1 = Array.from({ length: 12 }, (_, i) => Math.sin(i + 1));
  if (poison !== undefined) w1[5] = poison;
  const w2 = Array.from({ length: 6 }, (_, i) => Math.cos(i + 1));
  return encodeModel({
    name: 'bad',
    input: { name: 'x', dims: [1, 4] },
    output: { name: 'y', dims: [1, 2] },
    nodes: [
      node('Gemm', ['x', 'w1'], ['h'], 'gemm_1', { transB: 1 }),
      node(op, ['h'], ['a'], 'mid_node'),
      node('Gemm', ['a', 'w2'], ['y'], 'gemm_2', { transB: 1 }),
    ],
    initializers: [floatTensor('w1', [3, 4], w1), floatTensor('w2', [2, 3], w2)],
    opset: 13,
  });
}

describe('lipdp estimate (CLI)', () => {
  it('prints a certified report for the bundled example', () => {
    const r = lipdp('estimate', TINY, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/certified L\s+\d/);
    expect(r.stdout).toContain('(certified;');
  });

  it('--json keeps the stable top-level fields', () => {
    const r = lipdp('estimate', TINY, '--json', '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    for (const k of ['upperBound', 'status', 'lowerBound', 'naiveBound', 'backend', 'timings', 'solver']) expect(rep).toHaveProperty(k);
    expect(rep.status).toBe('certified');
    expect(rep.upperBound).toBeGreaterThanOrEqual(rep.lowerBound);
    expect(rep.upperBound).toBeLessThanOrEqual(rep.naiveBound);
    expect(rep.backend).toBe('cpu');
    expect(rep.certificate.precision).toBe('f64');
    for (const k of ['import', 'build', 'solve', 'certify', 'total']) expect(typeof rep.timings[k]).toBe('number');
    expect(rep.solver.iterations).toBeGreaterThanOrEqual(0);
  });

  const bad: [string, () => string, RegExp][] = [
    ['truncated file', () => file('trunc.onnx', readFileSync(TINY).subarray(0, 200)), /malformed|truncated|invalid/i],
    ['garbage bytes', () => file('garbage.onnx', new Uint8Array(4096).map((_, i) => (i * 7919) % 251)), /malformed|invalid|ONNX/i],
    ['an unsupported op', () => file('softmax.onnx', smallModel('Softmax')), /unsupported op 'Softmax' at node 'mid_node'/],
    ['NaN weights', () => file('nan.onnx', smallModel('Relu', NaN)), /NaN weight in initializer 'w1'/],
    ['a missing file', () => join(tmp, 'does-not-exist.onnx'), /does-not-exist\.onnx/],
  ];
  for (const [what, make, pattern] of bad) {
    it(`rejects ${what} with one line and exit code 2`, () => {
      const r = lipdp('estimate', make(), '--quiet');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^lipdp: error: /);
      expect(lines[0]).toMatch(pattern);
    });
  }

  it('rejects an unknown backend', () => {
    const r = lipdp('estimate', TINY, '--backend', 'tpu');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown backend 'tpu'/);
  });

  it('exports the SDP in SDPA format', () => {
    const out = join(tmp, 'tiny.dat-s');
    const r = lipdp('export-sdpa', TINY, '-o', out);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(out, 'utf8').split('\n');
    // SDPA header after comments: m (number of variables), number of blocks, block sizes, costs.
    const header = text.filter((l) => !l.startsWith('"') && !l.startsWith('*'));
    expect(parseInt(header[0]!, 10)).toBe(1 + 16 + 16); // ρ and one λ per hidden neuron
    expect(parseInt(header[1]!, 10)).toBe(2); // the LMI and the λ ≥ 0 diagonal block
    expect(header[2]).toMatch(/^40 -32/); // n0 + N = 8 + 32, and the 32 λ's
  });
});
