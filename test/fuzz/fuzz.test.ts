/**
 * Seeded fuzz of the error contract (issue 19), sized to run in well under a minute: a few hundred
 * byte-level and structure-aware mutants of small seed models through the importer in process,
 * the MLP mutants that import also estimated end to end (bound ≥ empirical lower bound), and a
 * handful through the CLI (one `lipdp: error:` line and exit 2, or exit 0 with a bound). The long
 * run is test/fuzz/fuzz-run.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FAST, type Outcome, VIOLATIONS, mutateBytes, runCase, mulberry32, seeds, structureCase } from './fuzz-lib.js';

const BYTE_CASES = 250;
const STRUCT_CASES = 200;
/** MLP mutants that import are estimated, up to this many (each well under a second). */
const ESTIMATES = 15;

function cases(kind: 'byte' | 'struct', n: number, runSeed: number) {
  const all = seeds();
  return Array.from({ length: n }, (_, i) => {
    const r = mulberry32(runSeed * 1_000_003 + i);
    const s = all[Math.floor(r() * all.length)]!;
    if (kind === 'byte') return { id: `${kind}#${i} ${s.name}`, seed: s.name, bytes: mutateBytes(s.bytes, r) };
    const c = structureCase(s, r);
    return { id: `${kind}#${i} ${s.name} ${c.edits.join('+')}`, seed: s.name, bytes: c.bytes };
  });
}

function describeViolation(id: string, o: Outcome): string {
  return `${id}: ${JSON.stringify(o)}`;
}

describe('fuzz: the error contract holds on seeded mutants', () => {
  for (const kind of ['byte', 'struct'] as const) {
    it(`${kind}-level mutants: a one-line LipdpError or a valid import, estimated MLPs bound ≥ lower bound`, async () => {
      const list = cases(kind, kind === 'byte' ? BYTE_CASES : STRUCT_CASES, kind === 'byte' ? 1901 : 1902);
      const violations: string[] = [];
      const tally = new Map<string, number>();
      let estimated = 0;
      for (const c of list) {
        const estimate = c.seed.startsWith('mlp') && estimated < ESTIMATES;
        const o = await runCase(c.bytes, FAST, false);
        let final = o;
        if (o.kind === 'bound' && estimate) {
          estimated++;
          final = await runCase(c.bytes, FAST, true);
        }
        tally.set(final.kind, (tally.get(final.kind) ?? 0) + 1);
        if (VIOLATIONS.has(final.kind)) violations.push(describeViolation(c.id, final));
      }
      expect(violations).toEqual([]);
      // The mutants must exercise both sides of the contract.
      expect(tally.get('refused') ?? 0).toBeGreaterThan(list.length / 10);
      expect(tally.get('bound') ?? 0).toBeGreaterThan(0);
      expect(estimated).toBeGreaterThan(0);
    });
  }
});

describe('fuzz: a handful through the CLI', () => {
  const BIN = join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'lipdp.js');
  const dir = mkdtempSync(join(tmpdir(), 'lipdp-fuzz-cli-'));
  it('exit 2 (or 3: constant output) with one `lipdp: error:` line, or exit 0 with a bound ≥ the lower bound', () => {
    const list = cases('struct', 40, 1903).filter((c) => c.seed.startsWith('mlp')).slice(0, 5);
    expect(list.length).toBeGreaterThan(2);
    for (const c of list) {
      const p = join(dir, 'case.onnx');
      writeFileSync(p, c.bytes);
      const r = spawnSync(process.execPath, [BIN, 'estimate', '--quiet', '--json', '--refine-time', '1', '--admm-time', '1', p], { encoding: 'utf8', timeout: 60_000 });
      if (r.status === 2 || r.status === 3) {
        // Bad input (2), or a valid model whose output does not depend on its input (3, L = 0):
        // one line on stderr, and with --json the same error as JSON on stdout.
        const lines = r.stderr.trim().split('\n');
        expect(lines, c.id).toHaveLength(1);
        expect(lines[0], c.id).toMatch(/^lipdp: error: /);
        const err = JSON.parse(r.stdout) as { error: { code: string; message: string } };
        expect(err.error.code, c.id).not.toBe('INTERNAL');
        if (r.status === 3) expect(err.error.code, c.id).toBe('CONSTANT_OUTPUT');
      } else {
        expect(r.status, `${c.id}: ${r.stderr}`).toBe(0);
        const rep = JSON.parse(r.stdout) as { upperBound: number; lowerBound: number };
        expect(rep.upperBound, c.id).toBeGreaterThanOrEqual(rep.lowerBound * (1 - 1e-9));
      }
    }
  });
});
