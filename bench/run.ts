/**
 * Benchmark harness: lipdp against DSDP and CSDP (on lipdp's own SDPA exports) on trained MNIST and
 * CIFAR-10 networks and the GLipSDP families. Every method runs in its own child process, one at a
 * time (so timings do not compete for the cores), and the results are rewritten after every run so
 * an interrupted run still leaves usable files.
 *
 *   npx tsx bench/run.ts [--suite …] [--backend …] [--methods …] [--timeout s] [--out dir] [--quick]
 *
 * Output (in --out): runs/<network>__<method>.json (+ .log), results.json, results.md, *.svg.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs, UsageError, USAGE, type BenchOptions } from './args.js';
import { runInChild } from './child.js';
import { planJobs, type PlannedJob } from './jobs.js';
import { machineInfo } from './machine.js';
import { resultsMarkdown, summaryMarkdown, fmtBound, fmtSeconds } from './markdown.js';
import { executionOrder, paperCacheDir, selectNetworks } from './networks.js';
import { renderPlots } from './plots.js';
import { replaceLatestResults, replacePaperResults } from './readme.js';
import type { BenchRun, NetworkInfo, RunResult } from './types.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Plain-text options for the record (paths relative to the repository where possible). */
function optionsRecord(o: BenchOptions): Record<string, unknown> {
  return {
    suites: o.suites,
    backends: o.backends,
    methods: o.methods,
    timeoutS: o.timeoutS,
    quick: o.quick,
    ...(o.renderOnly ? { renderOnly: true } : {}),
    sdpMaxVars: o.sdpMaxVars,
    sdpMaxBlock: o.sdpMaxBlock,
    ...(o.models.length ? { models: o.models.map((m) => m.replace(`${REPO_ROOT}/`, '')) } : {}),
    ...(o.filter.length ? { filter: o.filter } : {}),
  };
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Write results.json, results.md and the figures for what has run so far. */
function writeOutputs(run: BenchRun, outDir: string): string[] {
  writeFileSync(join(outDir, 'results.json'), JSON.stringify(run, null, 2));
  const plots = renderPlots(run.networks, run.results);
  for (const [name, svg] of plots) writeFileSync(join(outDir, name), svg);
  writeFileSync(join(outDir, 'results.md'), resultsMarkdown(run, [...plots.keys()]));
  return [...plots.keys()];
}

/** A run recorded earlier in the same output directory (for --resume), if its file is complete. */
function recordedRun(file: string, network: string, method: string): RunResult | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as RunResult;
    return r.network === network && r.method === method && typeof r.status === 'string' && typeof r.wallMs === 'number' ? r : undefined;
  } catch {
    return undefined;
  }
}

function lastEnd(results: readonly RunResult[]): string | undefined {
  return results.map((r) => r.endedAt).filter((t): t is string => !!t).sort().pop();
}

function describe(r: RunResult): string {
  if (r.status === 'ok') return `${r.certStatus ?? 'ok'} L=${fmtBound(r.bound)}`;
  return `${r.status}${r.message ? `: ${r.message.slice(0, 120)}` : ''}`;
}

export async function runBench(opts: BenchOptions, log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<BenchRun> {
  const networks = selectNetworks(opts, REPO_ROOT);
  const jobsOf = (net: NetworkInfo): PlannedJob[] => planJobs(opts.methods, opts.backends, net.suite);
  mkdirSync(join(opts.outDir, 'runs'), { recursive: true });
  // The paper suite's chains are generated from the glipsdp models before anything runs (and
  // before executionOrder, which sizes the files); a re-render needs only the recorded runs.
  const paper = networks.filter((n) => n.suite === 'paper');
  if (paper.length > 0 && !opts.renderOnly && opts.modelsDir) {
    const { ensurePaperChains } = await import('./paper-chains.js');
    const built = await ensurePaperChains(paper.map((n) => n.name), opts.modelsDir, paperCacheDir(REPO_ROOT));
    if (built.length > 0) log(`bench: built ${built.length} paper-suite chains in ${paperCacheDir(REPO_ROOT).replace(`${REPO_ROOT}/`, '')}`);
  }
  const results: RunResult[] = [];
  // A resumed run keeps the start time of the run it continues.
  const earlier = opts.resume && existsSync(join(opts.outDir, 'results.json')) ? (JSON.parse(readFileSync(join(opts.outDir, 'results.json'), 'utf8')) as BenchRun) : undefined;
  let run: BenchRun = {
    startedAt: earlier?.startedAt ?? new Date().toISOString(),
    machine: machineInfo(),
    options: optionsRecord(opts),
    networks,
    results,
  };
  if (!opts.modelsDir && opts.models.length === 0) log('bench: no models directory (../shared/models) found; running the repository fixtures only');
  const total = networks.reduce((a, n) => a + jobsOf(n).length, 0);
  log(`bench: ${networks.length} networks, ${total} jobs, timeout ${opts.timeoutS} s, output ${opts.outDir}`);
  let done = 0;
  for (const net of executionOrder(networks))
    for (const { method, job } of jobsOf(net)) {
      done++;
      const base = join(opts.outDir, 'runs', `${safeName(net.name)}__${method}`);
      const previous = opts.resume ? recordedRun(`${base}.json`, net.name, method) : undefined;
      if (previous) {
        results.push(previous);
        log(`[${done}/${total}] ${net.name} ${method}: recorded earlier: ${describe(previous)}`);
        continue;
      }
      if (opts.renderOnly) continue;
      const childResult = await runInChild(
        { network: net.name, path: net.path, method, job, timeoutMs: opts.timeoutS * 1000, limits: { maxVars: opts.sdpMaxVars, maxBlock: opts.sdpMaxBlock } },
        { resultFile: `${base}.json`, logFile: `${base}.log`, cwd: REPO_ROOT },
      );
      const result = { ...childResult, endedAt: new Date().toISOString() };
      // The worker's own file is replaced by the final record (wall time and memory from the parent).
      writeFileSync(`${base}.json`, JSON.stringify(result, null, 2));
      results.push(result);
      log(`[${done}/${total}] ${net.name} ${method}: ${describe(result)} (${fmtSeconds(result.wallMs)} s)`);
      run = { ...run, results };
      writeOutputs(run, opts.outDir);
    }
  const gpu = results.find((r) => r.adapter)?.adapter;
  // A re-render keeps the recorded end time and shows only networks that have runs.
  const shown = opts.renderOnly ? networks.filter((n) => results.some((r) => r.network === n.name)) : networks;
  if (shown.length < networks.length) log(`bench: ${networks.length - shown.length} networks have no recorded runs and are left out`);
  run = { ...run, networks: shown, finishedAt: opts.renderOnly ? lastEnd(results) ?? earlier?.finishedAt ?? '?' : new Date().toISOString(), machine: machineInfo(gpu), results };
  const figures = writeOutputs(run, opts.outDir);
  if (opts.updateReadme) updateReadme(run, opts.outDir, figures);
  return run;
}

/** Copy the figures next to the README (bench/figures/) and rewrite its "Latest results" section. */
function updateReadme(run: BenchRun, outDir: string, allFigures: readonly string[]): void {
  // A paper-suite run fills its own section and leaves "Latest results" (the other suites) alone,
  // including that section's figures: it publishes only its own paper_*.svg.
  const paperOnly = run.networks.length > 0 && run.networks.every((n) => n.suite === 'paper');
  const figures = paperOnly ? allFigures.filter((f) => f.startsWith('paper_')) : allFigures;
  const figDir = join(REPO_ROOT, 'bench', 'figures');
  mkdirSync(figDir, { recursive: true });
  for (const f of figures) copyFileSync(join(outDir, f), join(figDir, f));
  const readmePath = join(REPO_ROOT, 'bench', 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const content = summaryMarkdown(run, 'figures', figures);
  writeFileSync(readmePath, paperOnly ? replacePaperResults(readme, content) : replaceLatestResults(readme, content));
}

async function main(): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(process.argv.slice(2), REPO_ROOT);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`bench: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const run = await runBench(opts);
  process.stdout.write(`bench: wrote ${join(opts.outDir, 'results.md')} (${run.results.length} runs)\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main();
