/**
 * The harness end to end, `--quick` narrowed to one tiny model (the full benchmark is never run in
 * tests; the other quick networks take minutes), and the
 * child-process time limit on a job that cannot finish in time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInChild } from '../../bench/child.js';
import type { BenchRun } from '../../bench/types.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

describe('bench/run.ts end to end', () => {
  it('--quick on one tiny model (mlp_tiny): runs every method and writes JSON, Markdown and SVG', () => {
    const out = mkdtempSync(join(tmpdir(), 'lipdp-bench-e2e-'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--filter', 'mlp_tiny', '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 110_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const run = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchRun;
    expect(run.networks.map((n) => n.name)).toEqual(['mlp_tiny']);
    expect(run.options.quick).toBe(true);
    expect(run.options.timeoutS).toBe(60);
    expect(run.results.map((x) => x.method)).toEqual(['lipdp-cpu', 'lipdp-cpu-unrolled', 'dsdp-neuron', 'dsdp-layered', 'csdp-neuron', 'csdp-layered']);
    const lipdp = run.results[0]!;
    expect(lipdp.status).toBe('ok');
    // The unrolled formulation exists only for convolutional networks.
    expect(run.results[1]!.status).toBe('skipped');
    expect(run.results[1]!.message).toContain('fully connected');
    expect(lipdp.bound).toBeGreaterThan(0);
    expect(lipdp.maxRssBytes).toBeGreaterThan(1 << 20);
    // Peers either solved it or say why not (solver missing on this machine): never a crash.
    for (const p of run.results.slice(2)) expect(['ok', 'skipped']).toContain(p.status);
    expect(run.machine.cores).toBeGreaterThan(0);
    expect(existsSync(join(out, 'runs', 'mlp_tiny__lipdp-cpu.json'))).toBe(true);
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    expect(md).toContain('| mlp_tiny |');
    expect(md).toContain('lipdp-cpu');
    expect(readFileSync(join(out, 'bound_vs_time.svg'), 'utf8')).toContain('mlp_tiny');
  }, 120_000);

  it('bad arguments: usage and exit code 2', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--suite', 'imagenet'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown suite 'imagenet'");
    expect(r.stderr).toContain('usage:');
  });
});

describe('runInChild', () => {
  it("kills a job that overruns its limit and records 'timeout'", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lipdp-bench-child-'));
    // A 300 ms limit without grace: the child is killed while still importing, on any machine.
    const t0 = Date.now();
    const r = await runInChild(
      {
        network: 'mnist_relu_3_50',
        path: join(ROOT, 'test', 'fixtures', 'mnist_relu_3_50.onnx'),
        method: 'lipdp-cpu',
        job: { kind: 'lipdp', backend: 'cpu' },
        timeoutMs: 300,
        limits: { maxVars: 1500, maxBlock: 1100 },
      },
      { resultFile: join(dir, 'r.json'), logFile: join(dir, 'r.log'), cwd: ROOT, graceMs: 0 },
    );
    expect(r.status).toBe('timeout');
    expect(r.message).toMatch(/killed after/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 60_000);
});
