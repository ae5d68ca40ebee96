import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUT_S, parseBenchArgs, QUICK_TIMEOUT_S, timestampDir, UsageError } from '../../bench/args.js';
import { planJobs } from '../../bench/jobs.js';

/** A fake checkout: <root>/repo with or without <root>/shared/models next to it. */
function fakeRepo(withModels: boolean): string {
  const root = mkdtempSync(join(tmpdir(), 'lipdp-bench-args-'));
  mkdirSync(join(root, 'repo'));
  if (withModels) mkdirSync(join(root, 'shared', 'models'), { recursive: true });
  return join(root, 'repo');
}

describe('parseBenchArgs', () => {
  const now = new Date('2025-03-04T05:06:07.890Z');

  it('defaults: all suites, cpu, all methods, models next to the repo, timestamped out dir', () => {
    const repo = fakeRepo(true);
    const o = parseBenchArgs([], repo, now);
    expect(o.suites).toEqual(['fixtures', 'mnist', 'glipsdp', 'cifar10']);
    expect(o.backends).toEqual(['cpu']);
    expect(o.methods).toEqual(['lipdp', 'dsdp', 'csdp', 'naive', 'closed-form', 'lower']);
    expect(o.timeoutS).toBe(DEFAULT_TIMEOUT_S);
    expect(o.modelsDir).toBe(join(repo, '..', 'shared', 'models'));
    expect(o.outDir).toBe(join(repo, 'bench', 'out', '2025-03-04T05-06-07'));
    expect(o.quick).toBe(false);
    expect(o.updateReadme).toBe(false);
  });

  it('no models directory: undefined, not an error', () => {
    expect(parseBenchArgs([], fakeRepo(false), now).modelsDir).toBeUndefined();
  });

  it('reads every option', () => {
    const o = parseBenchArgs(
      ['--suite', 'mnist', '--backend', 'both', '--methods', 'dsdp,lipdp', '--timeout', '12.5', '--out', '/tmp/x', '--models-dir', '/m', '--quick', '--update-readme', '--resume', '--model', 'a.onnx', '--model', 'b.onnx', '--filter', 'relu', '--sdp-max-vars', '10', '--sdp-max-block', '20'],
      fakeRepo(false),
      now,
    );
    expect(o.suites).toEqual(['mnist']);
    expect(o.backends).toEqual(['cpu', 'webgpu']);
    // Canonical order, whatever order they were typed in.
    expect(o.methods).toEqual(['lipdp', 'dsdp']);
    expect(o.timeoutS).toBe(12.5);
    expect(o.outDir).toBe('/tmp/x');
    expect(o.modelsDir).toBe('/m');
    expect(o.quick).toBe(true);
    expect(o.updateReadme).toBe(true);
    expect(o.resume).toBe(true);
    expect(o.models.map((m) => m.split('/').pop())).toEqual(['a.onnx', 'b.onnx']);
    expect(o.filter).toEqual(['relu']);
    expect([o.sdpMaxVars, o.sdpMaxBlock]).toEqual([10, 20]);
  });

  it('--render-only implies --resume', () => {
    const o = parseBenchArgs(['--render-only'], fakeRepo(false), now);
    expect([o.renderOnly, o.resume]).toEqual([true, true]);
  });

  it('--quick shortens the default timeout', () => {
    expect(parseBenchArgs(['--quick'], fakeRepo(false), now).timeoutS).toBe(QUICK_TIMEOUT_S);
    expect(parseBenchArgs(['--quick', '--timeout', '5'], fakeRepo(false), now).timeoutS).toBe(5);
  });

  it.each([
    [['--suite', 'imagenet'], /unknown suite/],
    [['--backend', 'tpu'], /unknown backend/],
    [['--methods', 'lipdp,sdpt3'], /unknown method 'sdpt3'/],
    [['--methods', ','], /at least one method/],
    [['--timeout', '0'], /positive/],
    [['--timeout', 'abc'], /positive/],
    [['--frobnicate'], /frobnicate/],
    [['stray'], /stray|positional/i],
  ])('rejects %j', (argv, msg) => {
    expect(() => parseBenchArgs(argv, fakeRepo(false), now)).toThrow(UsageError);
    expect(() => parseBenchArgs(argv, fakeRepo(false), now)).toThrow(msg);
  });

  it('timestampDir is sortable and has no colons', () => {
    expect(timestampDir(new Date('2025-12-31T23:59:58.123Z'))).toBe('2025-12-31T23-59-58');
  });
});

describe('planJobs', () => {
  it('lipdp per backend and the unrolled CPU run, then each peer on both formulations', () => {
    expect(planJobs(['lipdp', 'dsdp', 'csdp'], ['cpu', 'webgpu']).map((j) => j.method)).toEqual([
      'lipdp-cpu',
      'lipdp-webgpu',
      'lipdp-cpu-unrolled',
      'dsdp-neuron',
      'dsdp-layered',
      'csdp-neuron',
      'csdp-layered',
    ]);
  });

  it('naive/closed-form/lower alone still run lipdp (on the CPU) because they come from its report', () => {
    expect(planJobs(['naive'], ['webgpu']).map((j) => j.method)).toEqual(['lipdp-cpu']);
    expect(planJobs(['csdp'], ['cpu']).map((j) => j.method)).toEqual(['csdp-neuron', 'csdp-layered']);
  });
});
