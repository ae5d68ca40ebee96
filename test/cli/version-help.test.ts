/** `lipdp --version` and the exit-code / status documentation in `--help`. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'lipdp.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function lipdp(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('lipdp --version / --help', () => {
  it('--version prints the package version and exits 0', () => {
    for (const flag of ['--version', '-V']) {
      const r = lipdp(flag);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(VERSION);
    }
  });

  it('estimate --help lists the exit codes and the statuses', () => {
    const r = lipdp('estimate', '--help');
    expect(r.code).toBe(0);
    for (const line of [/^\s*0\s+a bound was certified/m, /^\s*2\s+bad input/m, /^\s*3\s+.*nothing could be certified/m, /^\s*1\s+internal error: a bug in lipdp/m])
      expect(r.stdout).toMatch(line);
    for (const status of ['certified', 'fallback', 'failed']) expect(r.stdout).toMatch(new RegExp(`^\\s*${status}\\s`, 'm'));
    expect(r.stdout).toContain('certificate.source');
    expect(r.stdout).toContain('docs/report.schema.json');
  });
});
