/**
 * lipdp as a user installs it, from a separate project: the packed tarball, a local path (a fresh
 * clone of HEAD, without node_modules) and a git URL (git+file:// of that clone). Each install must
 * give a working `npx lipdp estimate` on a bundled example, and a library import whose use of the
 * report type-checks with `tsc --noEmit` under `"types": ["node"]` (the public .d.ts files must not
 * need anything else, e.g. the ONNX protobuf declarations and their global `Long`).
 *
 * Slow (about 3½ minutes on a busy 2-core machine, most of it npm: the git URL makes npm install
 * the dev dependencies in its clone to run `prepare`), and it needs the npm registry or a warm
 * npm cache; the three installs run in parallel.
 * Any failure fails the test; nothing is skipped.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const TYPE_ROOTS = join(ROOT, 'node_modules', '@types');

/** The environment without the npm_* variables of the npm/npx that may be running vitest. */
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD'));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function sh(cmd: string, args: string[], cwd: string, timeoutMs = 240_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(cmd: string, args: string[], cwd: string): Promise<Run> {
  const r = await sh(cmd, args, cwd);
  if (r.code !== 0) throw new Error(`'${cmd} ${args.join(' ')}' in ${cwd} exited ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return r;
}

/** What a user writes: the import, a run, and the status-narrowed use of the bound. */
const USER_CODE = `import { estimateLipschitz, type LipschitzReport } from 'lipdp';

function describeBound(r: LipschitzReport): string {
  if (r.status !== 'failed') return r.upperBound.toFixed(6);
  return 'none';
}

const model = new URL('./node_modules/lipdp/examples/mlp_tiny.onnx', import.meta.url).pathname;
const r = await estimateLipschitz(model, { maxIter: 50, refineMaxIter: 100 });
console.log(JSON.stringify({ status: r.status, bound: describeBound(r), version: r.lipdpVersion, schemaVersion: r.schemaVersion }));
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
    types: ['node'],
    // @types/node from lipdp's own checkout, so the test project needs no compiler install.
    typeRoots: [TYPE_ROOTS],
  },
  files: ['use.mts'],
};

let tmp = '';
let tarball = '';
let clone = '';

/** A new project in tmp/<name> that allows lipdp's `prepare` (npm ≥ 11 blocks dependency scripts). */
function project(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `try-${name}`, private: true, type: 'module', allowScripts: { lipdp: true } }, null, 2));
  writeFileSync(join(dir, 'use.mts'), USER_CODE);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  return dir;
}

const installs = new Map<string, Promise<string>>();

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'lipdp-install-'));
  const packDir = join(tmp, 'pack');
  mkdirSync(packDir);
  // Packs the working tree (prepare rebuilds dist/ here); the clone is of HEAD, as a user gets it.
  await Promise.all([
    ok('npm', ['pack', '--pack-destination', packDir, '--silent'], ROOT),
    ok('git', ['clone', '--quiet', ROOT, join(tmp, 'clone')], tmp),
  ]);
  tarball = join(packDir, readdirSync(packDir).find((f) => f.endsWith('.tgz'))!);
  clone = join(tmp, 'clone');
  const npmInstall = async (name: string, spec: string): Promise<string> => {
    const dir = project(name);
    await ok('npm', ['install', spec, '--no-audit', '--no-fund', '--prefer-offline'], dir);
    return dir;
  };
  // In parallel: most of the time is spent waiting on npm.
  installs.set('tarball', npmInstall('tarball', tarball));
  installs.set('local path', npmInstall('path', clone));
  installs.set('git URL', npmInstall('git', `git+file://${clone}`));
  // Settle all before the tests read them, so one failure cannot leave others running.
  await Promise.allSettled(installs.values());
}, 400_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('installing lipdp into a separate project', () => {
  it('the tarball ships dist, the examples, the docs and LICENSE, and no source maps', async () => {
    const r = await ok('tar', ['tzf', tarball], tmp);
    const files = r.stdout.split('\n');
    for (const f of ['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/cli/main.js', 'package/examples/mlp_tiny.onnx', 'package/examples/oned/ssm-net.json', 'package/docs/report.schema.json', 'package/LICENSE'])
      expect(files).toContain(f);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('package/src/'))).toEqual([]);
  });

  for (const how of ['tarball', 'local path', 'git URL']) {
    it(`from a ${how}: npx lipdp estimate, the library import, and tsc --noEmit`, async () => {
      const dir = await installs.get(how)!;
      const cli = await ok('npx', ['--no-install', 'lipdp', 'estimate', 'node_modules/lipdp/examples/mlp_tiny.onnx', '--json', '--quiet', '--max-iter', '50', '--refine-iter', '100'], dir);
      const rep = JSON.parse(cli.stdout) as { status: string; upperBound: number };
      expect(rep.status).toBe('certified');
      expect(rep.upperBound).toBeGreaterThan(0);
      const version = await ok('npx', ['--no-install', 'lipdp', '--version'], dir);
      expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);

      const tsc = await sh(process.execPath, [TSC, '-p', dir], dir);
      expect(tsc.stdout + tsc.stderr, 'tsc --noEmit of the user code').toBe('');
      expect(tsc.code).toBe(0);
      // Run the same file as JavaScript: Node ≥ 22.6 could strip the types itself, Node 20 cannot,
      // so strip the two type-only spots by hand.
      const js = USER_CODE.replace(', type LipschitzReport', '').replace('(r: LipschitzReport): string', '(r)');
      writeFileSync(join(dir, 'use.mjs'), js);
      const lib = await ok(process.execPath, ['use.mjs'], dir);
      const out = JSON.parse(lib.stdout) as { status: string; bound: string; version: string; schemaVersion: number };
      expect(out.status).toBe('certified');
      expect(Number(out.bound)).toBeGreaterThan(0);
      expect(out.version).toBe(version.stdout.trim());
      expect(out.schemaVersion).toBe(1);
    }, 120_000);
  }
});
