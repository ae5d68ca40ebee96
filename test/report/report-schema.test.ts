/**
 * The published JSON contract: `lipdp estimate --json` output of a dense, a conv, a residual and a
 * 1-D network, and of failures, validates against docs/report.schema.json; the numbers obey the
 * invariants the schema cannot express (lower ≤ upper ≤ naive, status ↔ exit code).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../model/builders.js';
import { validate } from '../helpers/json-schema.js';
import type { LipschitzReport } from '../../src/report/types.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'lipdp.js');
const SCHEMA = JSON.parse(readFileSync(join(ROOT, 'docs', 'report.schema.json'), 'utf8')) as Record<string, unknown>;
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

function lipdpJson(...args: string[]): { code: number | null; json: unknown; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'estimate', ...args, '--json', '--quiet'], { encoding: 'utf8', timeout: 120_000 });
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return { code: r.status, json, stderr: r.stderr };
}

/** conv → relu → [conv → relu → conv] + identity → relu → dense: the smallest residual conv net. */
function residualNet(): Uint8Array {
  const g = new GraphBuilder(3);
  const fork = g.op('Relu', [g.op('Conv', ['input', g.weight('c0', [2, 1, 3, 3]), g.weight('b0', [2], 2)], { pads: [1, 1, 1, 1] })]);
  let b = g.op('Conv', [fork, g.weight('c1', [2, 2, 3, 3])], { pads: [1, 1, 1, 1] });
  b = g.op('Conv', [g.op('Relu', [b]), g.weight('c2', [2, 2, 3, 3])], { pads: [1, 1, 1, 1] });
  const x = g.op('Flatten', [g.op('Relu', [g.op('Add', [b, fork])])]);
  g.op('Gemm', [x, g.weight('w3', [3, 32])], { transB: 1 });
  return g.build([1, 1, 4, 4], 'output', [1, 3]);
}

const tmp = mkdtempSync(join(tmpdir(), 'lipdp-schema-'));
const residualPath = join(tmp, 'residual.onnx');
writeFileSync(residualPath, residualNet());

// Short optimiser iteration counts: the point is the shape of the output, not the tightness of the bound.
const cases: [string, () => string[], LipschitzReport['formulation']][] = [
  ['dense', () => [join(ROOT, 'examples', 'mlp_tiny.onnx')], 'fc'],
  ['conv', () => [join(ROOT, 'examples', 'cnn_tiny.onnx'), '--formulation', 'roesser', '--refine-iter', '100'], 'roesser'],
  ['residual', () => [residualPath, '--refine-iter', '100'], 'roesser'],
  ['1-D conv', () => [join(ROOT, 'examples', 'oned', 'cnn1d.onnx'), '--refine-iter', '100'], 'oned'],
  ['state-space (JSON)', () => [join(ROOT, 'examples', 'oned', 'ssm-net.json'), '--refine-iter', '100'], 'oned'],
];

describe('lipdp estimate --json against docs/report.schema.json', () => {
  for (const [what, args, formulation] of cases) {
    it(`a ${what} network`, () => {
      const r = lipdpJson(...args());
      expect(validate(SCHEMA, r.json)).toEqual([]);
      const rep = r.json as LipschitzReport;
      expect(r.code, r.stderr).toBe(rep.status === 'failed' ? 3 : 0);
      expect(rep.formulation).toBe(formulation);
      expect(rep.lipdpVersion).toBe(PKG.version);
      expect(rep.model).toBe(args()[0]);
      if (rep.status !== 'failed') {
        expect(rep.upperBound).toBeGreaterThanOrEqual(rep.lowerBound);
        if (rep.naiveBound !== null) expect(rep.upperBound).toBeLessThanOrEqual(rep.naiveBound * (1 + 1e-12));
      }
      if (formulation !== 'fc') expect([rep.solver.primalResidual, rep.solver.status]).toEqual([null, 'f64-optimiser']);
    });
  }

  const failures: [string, string[], string][] = [
    ['a missing file', [join(tmp, 'missing.onnx')], 'IO'],
    ['an unknown option', [join(ROOT, 'examples', 'mlp_tiny.onnx'), '--no-such-option'], 'USAGE'],
    ['an invalid backend', [join(ROOT, 'examples', 'mlp_tiny.onnx'), '--backend', 'tpu'], 'INVALID_ARGUMENT'],
  ];
  for (const [what, args, code] of failures) {
    it(`an error: ${what} → {"error": …} on stdout, exit code 2`, () => {
      const r = lipdpJson(...args);
      expect(validate(SCHEMA, r.json)).toEqual([]);
      expect(r.code).toBe(2);
      expect((r.json as { error: { code: string } }).error.code).toBe(code);
    });
  }

  it('rejects what the contract forbids (the validator is not vacuous)', () => {
    const good = { error: { code: 'IO', message: 'x' } };
    expect(validate(SCHEMA, good)).toEqual([]);
    expect(validate(SCHEMA, { error: { code: 'IO' } })).not.toEqual([]);
    const rep = lipdpJson(join(ROOT, 'examples', 'mlp_tiny.onnx')).json as Record<string, unknown>;
    expect(validate(SCHEMA, { ...rep, status: 'failed' })).not.toEqual([]); // a bound but status failed
    expect(validate(SCHEMA, { ...rep, upperBound: null })).not.toEqual([]); // certified without a bound
    expect(validate(SCHEMA, { ...rep, schemaVersion: 2 })).not.toEqual([]);
  });
});

/** Compile-time part of the contract (checked by tsc): the union narrows on status. */
export function boundText(r: LipschitzReport): string {
  if (r.status !== 'failed') return r.upperBound.toFixed(4);
  return `none (${r.certificate.source})`;
}
