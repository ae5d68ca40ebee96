/**
 * The paper suite (issue 16): the inner-chain builder against the imported GLipSDP networks, the
 * ONNX round trip the harness relies on, and the suite's options, jobs, table and figure. The
 * model-based tests run whenever ../shared/models exists (in CI it must); the rest use synthetic
 * results and in-memory models.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SDP_MAX_VARS, PAPER_SDP_MAX_VARS, parseBenchArgs } from '../../bench/args.js';
import { groupByNetwork } from '../../bench/aggregate.js';
import { PAPER_LOWER_BOUND_MS, planJobs } from '../../bench/jobs.js';
import { paperHeadline, paperTable, summaryMarkdown } from '../../bench/markdown.js';
import { paperCacheDir, suiteNetworks } from '../../bench/networks.js';
import { buildInnerChain, chainToOnnx, ensurePaperChains, layerGains } from '../../bench/paper-chains.js';
import { chainInfo, MOSEK_REFERENCE, paperChains } from '../../bench/paper-reference.js';
import { LINEAR_LABEL, MOSEK_LABEL, paperDepthChart, renderPlots } from '../../bench/plots.js';
import { PAPER_END_MARKER, PAPER_START_MARKER, replacePaperResults } from '../../bench/readme.js';
import type { BenchRun, JobSpec, NetworkInfo, RunResult } from '../../bench/types.js';
import { runJob } from '../../bench/worker.js';
import { importOnnx, importOnnxBytes } from '../../src/model/import.js';
import type { Conv2dLayer, DenseLayer } from '../../src/model/ir.js';
import { encodeModel, floatTensor, node } from '../../src/model/onnx-writer.js';

const SHARED = fileURLToPath(new URL('../../../shared/models', import.meta.url));
const have = existsSync(SHARED);
if (!have && process.env.CI) throw new Error(`../shared/models is required in CI (looked in ${SHARED})`);
const GLIPSDP = join(SHARED, 'glipsdp');

/** Largest |a − b| / max|b| over two arrays of the same length. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return err / scale;
}

describe.runIf(have)('paper chains from ../shared/models/glipsdp', () => {
  it('cnn_C3_CH8: the ×2 gains are in the graph; the chain is conv_1, ReLU[0,1], conv_2 with kernels / 2 and no bias', async () => {
    const path = join(GLIPSDP, 'cnn_C3_CH8.onnx');
    // Three Conv nodes each followed by Mul(2), then the classifier Gemm without a gain.
    expect(layerGains(readFileSync(path), 'cnn_C3_CH8')).toEqual([2, 2, 2, undefined]);
    const net = await importOnnx(path);
    const convs = net.layers.filter((l): l is Conv2dLayer => l.kind === 'conv2d');
    const chain = await buildInnerChain(path, chainInfo('cnn_C3_CH8')!);
    expect(chain.inputShape).toEqual([8, 14, 14]);
    expect(chain.outputSize).toBe(8 * 14 * 14);
    expect(chain.layers.map((l) => l.kind)).toEqual(['conv2d', 'activation', 'conv2d']);
    const relu = chain.layers[1]!;
    expect(relu.kind === 'activation' && relu.fn === 'relu' && relu.slope).toEqual({ alpha: 0, beta: 1 });
    for (const [i, k] of [0, 2].entries()) {
      const c = chain.layers[k] as Conv2dLayer;
      const src = convs[i + 1]!;
      expect([c.cout, c.cin, c.kh, c.kw, c.stride, c.pads]).toEqual([8, 8, 3, 3, [1, 1], [1, 1, 1, 1]]);
      // Exactly the imported (gain-folded) kernel halved: dividing by 2 is exact in floating point.
      expect(Array.from(c.kernel)).toEqual(Array.from(src.kernel, (v) => v / 2));
      expect(Array.from(c.bias).every((b) => b === 0)).toBe(true);
    }
    // The ONNX file the harness runs imports back to the same chain (up to the f32 storage).
    const back = importOnnxBytes(chainToOnnx(chain));
    expect(back.inputShape).toEqual([8, 14, 14]);
    expect(back.layers.map((l) => l.kind)).toEqual(['conv2d', 'activation', 'conv2d']);
    for (const k of [0, 2]) {
      const b = back.layers[k] as Conv2dLayer;
      expect([b.cout, b.cin, b.kh, b.kw, b.pads]).toEqual([8, 8, 3, 3, [1, 1, 1, 1]]);
      expect(relErr(b.kernel, (chain.layers[k] as Conv2dLayer).kernel)).toBeLessThan(1e-7);
    }
    const r = back.layers[1]!;
    expect(r.kind === 'activation' && r.slope).toEqual({ alpha: 0, beta: 1 });
  });

  it('mlp_L3_W16: the chain is linear_1ᵀ / 2, ReLU[0,1], linear_2ᵀ / 2 (first and last layers left out)', async () => {
    const path = join(GLIPSDP, 'mlp_L3_W16.onnx');
    // Four Gemms; the hidden ones carry ×2, the output one the net's own 1.1.
    const gains = layerGains(readFileSync(path), 'mlp_L3_W16');
    expect(gains.slice(0, 3)).toEqual([2, 2, 2]);
    const net = await importOnnx(path);
    const dense = net.layers.filter((l): l is DenseLayer => l.kind === 'dense');
    expect(dense).toHaveLength(4);
    const chain = await buildInnerChain(path, chainInfo('mlp_L3_W16')!);
    expect(chain.inputShape).toEqual([16]);
    expect(chain.layers.map((l) => l.kind)).toEqual(['dense', 'activation', 'dense']);
    for (const [i, k] of [0, 2].entries()) {
      const d = chain.layers[k] as DenseLayer;
      const W = dense[i + 1]!.W;
      expect([d.W.rows, d.W.cols]).toEqual([W.cols, W.rows]);
      for (let r = 0; r < W.rows; r++)
        for (let c = 0; c < W.cols; c++) expect(d.W.data[c * W.rows + r]).toBe(W.data[r * W.cols + c]! / 2);
      expect(Array.from(d.bias).every((b) => b === 0)).toBe(true);
    }
    const back = importOnnxBytes(chainToOnnx(chain));
    expect(back.layers.map((l) => l.kind)).toEqual(['dense', 'activation', 'dense']);
    for (const k of [0, 2]) expect(relErr((back.layers[k] as DenseLayer).W.data, (chain.layers[k] as DenseLayer).W.data)).toBeLessThan(1e-7);
  });

  it('ensurePaperChains writes the files once and reuses them; lipdp --formulation roesser on inner_mlp_L3_W16 gives the authors\' MOSEK value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lipdp-paper-'));
    expect(await ensurePaperChains(['inner_mlp_L3_W16'], SHARED, dir)).toEqual(['inner_mlp_L3_W16']);
    expect(await ensurePaperChains(['inner_mlp_L3_W16'], SHARED, dir)).toEqual([]);
    const job: JobSpec = { kind: 'lipdp', backend: 'cpu', formulation: 'roesser' };
    const r = await runJob({ network: 'inner_mlp_L3_W16', path: join(dir, 'inner_mlp_L3_W16.onnx'), method: 'lipdp-cpu-roesser', job, timeoutMs: 60_000, limits: { maxVars: 1, maxBlock: 1 } });
    expect(r.status).toBe('ok');
    expect(r.formulation).toBe('roesser');
    const mosek = MOSEK_REFERENCE.mlp_L3_W16!.L;
    // Depth 2: lipdp reaches the SDP optimum; MOSEK's value is printed to 6 digits.
    expect(r.bound!).toBeLessThanOrEqual(mosek * 1.001);
    expect(r.bound!).toBeGreaterThanOrEqual(mosek * (1 - 1e-5));
  });
});

describe('layerGains', () => {
  it('reads the constant multiplying each Gemm output (and undefined where none does)', () => {
    const bytes = encodeModel({
      name: 'g',
      input: { name: 'input', dims: [1, 2] },
      output: { name: 'out', dims: [1, 2] },
      nodes: [
        node('Gemm', ['input', 'w1'], ['a'], 'g1', { transB: 1 }),
        node('Mul', ['a', 'three'], ['b'], 'm1'),
        node('Relu', ['b'], ['c'], 'r1'),
        node('Gemm', ['c', 'w2'], ['out'], 'g2', { transB: 1 }),
      ],
      initializers: [floatTensor('w1', [2, 2], [1, 0, 0, 1]), floatTensor('w2', [2, 2], [1, 0, 0, 1]), floatTensor('three', [], [3])],
    });
    expect(layerGains(bytes, 'g')).toEqual([3, undefined]);
  });
});

describe('--suite paper', () => {
  const repo = (): string => {
    const root = mkdtempSync(join(tmpdir(), 'lipdp-bench-paper-'));
    mkdirSync(join(root, 'repo'));
    mkdirSync(join(root, 'shared', 'models', 'glipsdp'), { recursive: true });
    return join(root, 'repo');
  };

  it('args: suite paper alone, not part of all; its own default size limit for the peers', () => {
    const r = repo();
    const o = parseBenchArgs(['--suite', 'paper'], r);
    expect(o.suites).toEqual(['paper']);
    expect(o.sdpMaxVars).toBe(PAPER_SDP_MAX_VARS);
    expect(parseBenchArgs(['--suite', 'paper', '--sdp-max-vars', '99'], r).sdpMaxVars).toBe(99);
    const all = parseBenchArgs([], r);
    expect(all.suites).not.toContain('paper');
    expect(all.sdpMaxVars).toBe(DEFAULT_SDP_MAX_VARS);
  });

  it('jobs: lipdp with --formulation roesser and on its fc default, the peers on the Roesser export', () => {
    expect(planJobs(['lipdp', 'dsdp', 'csdp'], ['cpu'], 'paper').map((j) => j.method)).toEqual(['lipdp-cpu-roesser', 'lipdp-cpu-fc', 'dsdp-roesser', 'csdp-roesser']);
    expect(planJobs(['dsdp'], ['cpu'], 'paper').map((j) => j.job)).toEqual([{ kind: 'sdp', solver: 'dsdp', formulation: 'roesser' }]);
    expect(planJobs(['lipdp'], ['cpu'], 'paper')[0]!.job).toEqual({ kind: 'lipdp', backend: 'cpu', formulation: 'roesser', lowerBoundTimeMs: PAPER_LOWER_BOUND_MS });
    // naive/lower alone still need lipdp's report: the Roesser run.
    expect(planJobs(['naive'], ['cpu'], 'paper').map((j) => j.method)).toEqual(['lipdp-cpu-roesser']);
    // Other suites are unchanged.
    expect(planJobs(['lipdp'], ['cpu'], 'glipsdp').map((j) => j.method)).toEqual(['lipdp-cpu', 'lipdp-cpu-unrolled']);
  });

  it('networks: the 21 chains in table order with depth d and width, listed by the source models present', () => {
    const all = paperChains();
    expect(all).toHaveLength(21);
    expect(all.map((c) => c.name).slice(0, 4)).toEqual(['inner_cnn_C3_CH8', 'inner_cnn_C5_CH8', 'inner_cnn_C9_CH8', 'inner_cnn_C17_CH8']);
    for (const c of all) expect(MOSEK_REFERENCE[c.source], c.source).toBeDefined();
    expect(chainInfo('inner_mlp_L33_W64')).toMatchObject({ source: 'mlp_L33_W64', family: 'mlp', depth: 32, width: 64 });
    const r = repo();
    const models = join(r, '..', 'shared', 'models');
    for (const n of ['cnn_C5_CH16', 'mlp_L17_W32']) writeFileSync(join(models, 'glipsdp', `${n}.onnx`), '');
    const nets = suiteNetworks('paper', r, models);
    expect(nets.map((n) => [n.name, n.family, n.depth, n.width])).toEqual([
      ['inner_cnn_C5_CH16', 'cnn', 4, 16],
      ['inner_mlp_L17_W32', 'mlp', 16, 32],
    ]);
    expect(nets[0]!.path).toBe(join(paperCacheDir(r), 'inner_cnn_C5_CH16.onnx'));
  });
});

describe('paper suite rendering', () => {
  const info = (name: string): NetworkInfo => {
    const c = chainInfo(name)!;
    return { name: c.name, suite: 'paper', path: `/cache/${c.name}.onnx`, family: c.family, depth: c.depth, width: c.width };
  };
  const res = (network: string, method: string, job: JobSpec, bound: number | undefined, ms: number, status: RunResult['status'] = 'ok'): RunResult => ({
    network,
    method,
    job,
    status,
    ...(status === 'ok' ? { bound, certStatus: job.kind === 'lipdp' ? 'certified' : 'optimal', formulation: 'roesser' } : { message: status === 'skipped' ? 'too large (m = 5013 variables > 2500)' : 'killed after 60 s' }),
    times: status === 'ok' ? { import: 5, build: 0.1 * ms, solve: 0.9 * ms } : {},
    wallMs: ms + 100,
  });
  const roesser: JobSpec = { kind: 'lipdp', backend: 'cpu', formulation: 'roesser' };
  const fc: JobSpec = { kind: 'lipdp', backend: 'cpu', formulation: 'fc' };
  const dsdp: JobSpec = { kind: 'sdp', solver: 'dsdp', formulation: 'roesser' };
  const csdp: JobSpec = { kind: 'sdp', solver: 'csdp', formulation: 'roesser' };
  const networks = [info('cnn_C3_CH8'), info('cnn_C5_CH8'), info('cnn_C17_CH8'), info('mlp_L3_W16')];
  const results = [
    res('inner_cnn_C3_CH8', 'lipdp-cpu-roesser', roesser, 7.64876, 2000),
    res('inner_cnn_C3_CH8', 'lipdp-cpu-fc', fc, undefined, 0, 'skipped'),
    res('inner_cnn_C3_CH8', 'dsdp-roesser', dsdp, 7.64876, 20000),
    res('inner_cnn_C3_CH8', 'csdp-roesser', csdp, 7.64875, 6000),
    { ...res('inner_cnn_C5_CH8', 'lipdp-cpu-roesser', roesser, 28.5648, 4000), solverStatus: 'time_limit' },
    res('inner_cnn_C17_CH8', 'lipdp-cpu-roesser', roesser, undefined, 0, 'timeout'),
    res('inner_cnn_C17_CH8', 'dsdp-roesser', dsdp, undefined, 0, 'skipped'),
    res('inner_mlp_L3_W16', 'lipdp-cpu-roesser', roesser, 0.882718, 3000),
    res('inner_mlp_L3_W16', 'lipdp-cpu-fc', fc, 0.882718, 2000),
  ];
  const rows = groupByNetwork(networks, results);

  it('table: MOSEK reference columns, lipdp / MOSEK, statuses of the runs without a bound', () => {
    const md = paperTable(rows);
    const lines = md.split('\n');
    expect(lines[0]).toContain('MOSEK L (authors)');
    expect(lines[0]).toContain('lipdp L (fc)');
    expect(new Set(lines.map((l) => l.split('|').length)).size).toBe(1);
    expect(lines[2]).toMatch(/^\| cnn_C3_CH8 \| 2 \| 8 \| 7\.64876 \| 7\.64876 \| 1\.0000 \| certified \| 2\.00 \| 0\.13 \|/);
    expect(lines[3]).toContain('| 1.0026 | certified (time limit) |');
    expect(lines[4]).toContain('| timeout |');
    expect(lines[4]).toContain('too large');
    expect(lines[5]).toMatch(/^\| mlp_L3_W16 \| 2 \| 16 \| 0\.882718 \| 0\.882718 \| 1\.0000 \| certified \| 3\.00 \| – \| 0\.882718 \| 1\.0000 \| 2\.00 \|/);
    expect(paperHeadline(rows, 'lipdp-cpu-roesser')).toContain('finished 3 of 4 chains (1 of them ended by the time limit); certified L ≤ 1.001 × MOSEK (or below it) on **2 of 3** (worst lipdp / MOSEK 1.0026)');
    // The fc job skipped on the CNN chain is not counted as an attempt.
    expect(paperHeadline(rows, 'lipdp-cpu-fc')).toContain('finished 1 of 1 chains');
  });

  it('figure: time vs d per width with the MOSEK times and a linear guide; own README section', () => {
    const spec = paperDepthChart(rows, 'cnn')!;
    expect(spec.panels.map((p) => p.title)).toEqual(['inner cnn chains, c = 8']);
    const labels = spec.panels[0]!.series.map((s) => s.label);
    expect(labels).toEqual(expect.arrayContaining(['lipdp-cpu-roesser', 'dsdp-roesser', 'csdp-roesser', MOSEK_LABEL, LINEAR_LABEL]));
    // C5_CH8's run ended at the time limit: its own series, not joined to the converged ones.
    expect(spec.panels[0]!.series.find((s) => s.label === 'lipdp-cpu-roesser (time limit)')).toMatchObject({ points: [{ x: 4, y: 4 }], line: false });
    const guide = spec.panels[0]!.series.find((s) => s.label === LINEAR_LABEL)!;
    expect(guide.points).toEqual([{ x: 2, y: 2 }, { x: 16, y: 16 }]);
    expect([...renderPlots(networks, results).keys()].sort()).toEqual(['bound_vs_time.svg', 'paper_cnn_time_vs_depth.svg', 'paper_mlp_time_vs_depth.svg']);

    const run: BenchRun = { startedAt: 's', finishedAt: 'f', machine: { cores: 2, cpuModel: 'x', memoryBytes: 2 ** 33, node: 'v', os: 'o' }, options: { suites: ['paper'] }, networks, results };
    const content = summaryMarkdown(run, 'figures', ['paper_cnn_time_vs_depth.svg']);
    expect(content).toContain('MOSEK L (authors)');
    expect(content).not.toContain('best IPM L');
    const readme = '# B\n\n## Latest results\n\nx\n\n## Kernels\n\nk\n';
    const once = replacePaperResults(readme, content);
    expect(once.indexOf('## Paper suite (Scalability)')).toBeLessThan(once.indexOf('## Kernels'));
    expect(once).toContain(PAPER_START_MARKER);
    const twice = replacePaperResults(once, 'new');
    expect(twice.split(PAPER_START_MARKER)).toHaveLength(2);
    expect(twice).toContain(`${PAPER_START_MARKER}\n\nnew\n\n${PAPER_END_MARKER}`);
    expect(twice).toContain('## Latest results\n\nx');
  });
});
