import { describe, expect, it } from 'vitest';
import { groupByNetwork, headline } from '../../bench/aggregate.js';
import { deviceTrafficTable, fmtBound, fmtSeconds, headlineText, resultsMarkdown, runsTable, summaryTable } from '../../bench/markdown.js';
import { END_MARKER, replaceLatestResults, START_MARKER } from '../../bench/readme.js';
import type { BenchRun, RunResult } from '../../bench/types.js';
import { net, run } from './synthetic.js';

const networks = [net('mnist_relu_3_50'), net('cifar_base_kw', { suite: 'cifar10' }), net('big'), net('crashy')];
const results = [
  run('mnist_relu_3_50', 'lipdp-cpu', { bound: 27.9725, timeMs: 9000 }),
  run('mnist_relu_3_50', 'dsdp-neuron', { bound: 27.9701, timeMs: 30000 }),
  run('mnist_relu_3_50', 'dsdp-layered', { status: 'skipped', message: 'too large (m = 2716 variables > 1500)' }),
  run('mnist_relu_3_50', 'csdp-neuron', { status: 'timeout', message: 'killed after 240 s' }),
  run('cifar_base_kw', 'lipdp-cpu', { status: 'unsupported', message: "layer 'Conv_0' (conv2d) is not part of a fully connected chain" }),
  run('big', 'lipdp-cpu', { status: 'timeout', message: 'killed after 240 s' }),
  run('crashy', 'lipdp-cpu', { status: 'failed', message: 'killed by SIGKILL (out of memory?) | last | lines' }),
];
const rows = groupByNetwork(networks, results);

/** Every table row has as many cells as the header. */
function cellCounts(md: string): number[] {
  return md
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) => l.replace(/\\\|/g, '').split('|').length);
}

describe('markdown tables', () => {
  it('summary: one row per network with bound, ratio, statuses and speed ratio', () => {
    const md = summaryTable(rows);
    expect(new Set(cellCounts(md)).size).toBe(1);
    const line = (name: string): string => md.split('\n').find((l) => l.startsWith(`| ${name} |`))!;
    expect(line('mnist_relu_3_50')).toContain('| 27.9725 | certified | 27.9701 (dsdp-neuron) | 1.00009 |');
    expect(line('mnist_relu_3_50')).toContain('| 30.0 (N) | timeout |');
    // DSDP 30 s vs lipdp 9 s
    expect(line('mnist_relu_3_50')).toContain('3.33×');
    expect(line('cifar_base_kw')).toContain("unsupported: layer 'Conv_0' (conv2d)");
    expect(line('big')).toContain('| timeout |');
    expect(line('crashy')).toContain('| failed |');
  });

  it('all runs: one row per run with status, reason and timings', () => {
    const md = runsTable(rows);
    expect(new Set(cellCounts(md)).size).toBe(1);
    expect(md.split('\n').filter((l) => l.startsWith('| ')).length).toBe(results.length + 1);
    expect(md).toContain('| too large |');
    expect(md).toContain('too large (m = 2716 variables > 1500)');
    expect(md).toContain("unsupported: layer 'Conv_0' (conv2d)");
    // Pipes inside messages must not break the table.
    expect(md).toContain('out of memory?) \\| last \\| lines');
    expect(md).toContain('| 200+50 |');
  });

  it('headline states accuracy counts and the speed ratio', () => {
    const text = headlineText(headline(rows, 'lipdp-cpu'));
    expect(text).toContain('**1 of 1**');
    expect(text).toContain('DSDP time ÷ lipdp time (> 1: lipdp faster): median 3.33×, range 3.33×–3.33× over 1 network');
    expect(text).toContain('1 ok, 1 unsupported, 1 timeout, 1 failed');
  });

  it('results.md has the machine, both tables and the figures', () => {
    const bench: BenchRun = {
      startedAt: '2025-01-01T00:00:00Z',
      finishedAt: '2025-01-01T01:00:00Z',
      machine: { cores: 2, cpuModel: 'Xeon', memoryBytes: 8 * 2 ** 30, node: 'v20.0.0', os: 'Linux' },
      options: { suites: ['mnist'], timeoutS: 240 },
      networks,
      results,
    };
    const md = resultsMarkdown(bench, ['bound_vs_time.svg']);
    expect(md).toContain('2 cores (Xeon), 8.0 GiB RAM, Node v20.0.0, Linux');
    expect(md).toContain('suites=mnist timeoutS=240');
    expect(md).toContain('## All runs');
    expect(md).toContain('![bound_vs_time.svg](bound_vs_time.svg)');
  });

  it('number formats', () => {
    expect(fmtBound(27.972524389)).toBe('27.9725');
    expect(fmtBound(null)).toBe('–');
    expect(fmtSeconds(123456)).toBe('123');
    expect(fmtSeconds(1234)).toBe('1.23');
    expect(fmtSeconds(4)).toBe('0.004');
  });
});

describe('README latest-results section', () => {
  const readme = '# Benchmarks\n\n## Kernels\n\nkernel tables\n';

  it('appends a marked section once and replaces it afterwards, keeping the rest', () => {
    const once = replaceLatestResults(readme, 'table v1');
    expect(once.startsWith(readme.trimEnd())).toBe(true);
    expect(once).toContain('## Latest results');
    expect(once).toContain(`${START_MARKER}\n\ntable v1\n\n${END_MARKER}`);
    const twice = replaceLatestResults(once, 'table v2');
    expect(twice).toContain('table v2');
    expect(twice).not.toContain('table v1');
    expect(twice.split('## Latest results').length).toBe(2);
    expect(twice).toContain('## Kernels\n\nkernel tables');
  });
});

describe('host ↔ device traffic table', () => {
  it('one row per device-backend run with per-iteration counts and the wait share of the solve; none without such runs', () => {
    expect(deviceTrafficTable(rows)).toBeNull();
    const gpu: RunResult = {
      ...run('mnist_relu_3_50', 'lipdp-webgpu', { bound: 27.98, timeMs: 10_000 }),
      deviceTraffic: { submissions: 2500, readbacks: 500, bytesUploaded: 3 * 2 ** 20, bytesDownloaded: 2 ** 19, readbackWaitMs: 4000 },
      adapter: 'llvmpipe (lavapipe)',
    };
    const md = deviceTrafficTable(groupByNetwork(networks, [...results, gpu]))!;
    expect(new Set(cellCounts(md)).size).toBe(1);
    const line = md.split('\n').find((l) => l.startsWith('| mnist_relu_3_50 |'))!;
    // 200 ADMM + 50 refinement iterations; the solve phase is 8 s, 4 s of it waiting.
    expect(line).toContain('| lipdp-webgpu | 250 | 2500 | 10.0 | 500 | 2.0 | 3.00 | 0.50 | 4.00 | 50 % |');
    const bench: BenchRun = { startedAt: '', finishedAt: '', machine: { cores: 2, cpuModel: 'Xeon', memoryBytes: 2 ** 30, node: 'v20', os: 'Linux' }, options: {}, networks, results: [...results, gpu] };
    expect(resultsMarkdown(bench)).toContain('## Host ↔ device traffic');
    expect(resultsMarkdown({ ...bench, results })).not.toContain('## Host ↔ device traffic');
  });
});
