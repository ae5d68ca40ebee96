/**
 * Markdown rendering of benchmark results: the headline numbers, a one-row-per-network summary and
 * the full one-row-per-run table. results.md holds all of it; the README's "Latest results" section
 * holds the same minus the full table.
 */
import {
  fastestPeer,
  groupByNetwork,
  headline,
  lipdpMethods,
  mainLipdp,
  referenceOf,
  methodTimeMs,
  ratioTo,
  type Headline,
  type NetworkRow,
  type Spread,
} from './aggregate.js';
import { mosekReference } from './paper-reference.js';
import type { BenchRun, MachineInfo, RunResult } from './types.js';

/** 6 significant digits: enough to see a 0.01 % difference between bounds. */
export function fmtBound(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return Number(v.toPrecision(6)).toString();
}

export function fmtRatio(v: number | undefined): string {
  return v === undefined ? '–' : v.toFixed(5);
}

export function fmtSeconds(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  const s = ms / 1000;
  if (s >= 100) return s.toFixed(0);
  if (s >= 10) return s.toFixed(1);
  if (s >= 0.01) return s.toFixed(2);
  return s.toFixed(3);
}

const fmtMiB = (b: number | undefined): string => (b === undefined || !(b > 0) ? '–' : (b / 2 ** 20).toFixed(b < 10 * 2 ** 20 ? 1 : 0));

/** Keep table cells on one line and free of pipe characters. */
export function cell(s: string, max = 140): string {
  const one = s.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** What a run that produced no bound shows instead: its status, with the reason for skips. */
export function statusText(r: RunResult, withMessage: boolean): string {
  if (r.status === 'ok') return r.certStatus ?? 'ok';
  if (r.status === 'skipped' && r.message?.startsWith('too large')) return withMessage ? r.message : 'too large';
  if (withMessage && r.message) return `${r.status}: ${r.message}`;
  return r.status;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function peerCell(row: NetworkRow, solver: 'dsdp' | 'csdp', lipdp: RunResult | undefined): string {
  const best = fastestPeer(row.runs, solver, lipdp?.formulation === 'roesser' || lipdp?.formulation === 'unrolled' ? lipdp.formulation : undefined);
  if (best) return `${fmtSeconds(methodTimeMs(best))} (${best.method.endsWith('neuron') ? 'N' : 'Lay'})`;
  const tried = row.runs.filter((r) => r.job.kind === 'sdp' && r.job.solver === solver);
  if (tried.length === 0) return '–';
  return [...new Set(tried.map((r) => statusText(r, false)))].join(' / ');
}

function speedCell(row: NetworkRow, lipdp: RunResult | undefined, solver: 'dsdp' | 'csdp'): string {
  const best = fastestPeer(row.runs, solver, lipdp?.formulation === 'roesser' || lipdp?.formulation === 'unrolled' ? lipdp.formulation : undefined);
  const tOwn = lipdp ? methodTimeMs(lipdp) : undefined;
  if (!best || tOwn === undefined) return '–';
  const r = methodTimeMs(best)! / tOwn;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×`;
}

export function summaryTable(rows: readonly NetworkRow[], lipdpMethod?: string): string {
  const head = ['Network', 'lipdp L', 'status', 'best IPM L (by)', 'lipdp / IPM', 'closed-form', 'naive', 'lower', 'lipdp s', 'DSDP s', 'CSDP s', 'DSDP ÷ lipdp', 'CSDP ÷ lipdp'];
  const body = rows.map((row) => {
    const own = mainLipdp(row.runs, lipdpMethod);
    const ref = referenceOf(row, own);
    const ip = ref?.interiorPoint ? `${fmtBound(ref.value)} (${ref.source})` : '–';
    const ownOk = own?.status === 'ok';
    return [
      row.network.name,
      ownOk ? fmtBound(own.bound) : '–',
      own ? cell(statusText(own, own.status === 'unsupported'), 60) : '–',
      ip,
      ref?.interiorPoint && own ? fmtRatio(ratioTo(own, ref)) : '–',
      ownOk ? fmtBound(own.closedFormBound) : '–',
      ownOk ? fmtBound(own.naiveBound) : '–',
      ownOk ? fmtBound(own.lowerBound) : '–',
      own ? (ownOk ? fmtSeconds(methodTimeMs(own)) : own.status === 'timeout' ? 'timeout' : '–') : '–',
      peerCell(row, 'dsdp', own),
      peerCell(row, 'csdp', own),
      speedCell(row, own, 'dsdp'),
      speedCell(row, own, 'csdp'),
    ];
  });
  return table(head, body);
}

export function runsTable(rows: readonly NetworkRow[]): string {
  const head = ['Network', 'Method', 'Status', 'Upper bound', 'Ratio', 'Lower', 'Wall s', 'Import s', 'Build s', 'Solve s', 'Certify s', 'Iter', 'Peak RSS MiB', 'GPU MiB', 'Adapter', 'Note'];
  const body: string[][] = [];
  for (const row of rows)
    for (const r of row.runs) {
      const iter = r.iterations === undefined ? '–' : r.refineIterations ? `${r.iterations}+${r.refineIterations}` : String(r.iterations);
      const note = [r.formulation && r.formulation !== 'fc' ? `formulation ${r.formulation}` : undefined, r.solverStatus === 'time_limit' ? 'time limit ended the optimiser' : undefined, r.status === 'ok' ? undefined : statusText(r, true), ...(r.notices ?? [])].filter((s): s is string => !!s).join('; ');
      body.push([
        row.network.name,
        r.method,
        r.status === 'ok' ? (r.certStatus ?? 'ok') : r.status === 'skipped' && r.message?.startsWith('too large') ? 'too large' : r.status,
        fmtBound(r.bound),
        fmtRatio(ratioTo(r, referenceOf(row, r))),
        fmtBound(r.lowerBound),
        fmtSeconds(r.wallMs),
        fmtSeconds(r.times.import),
        fmtSeconds(r.times.build),
        fmtSeconds(r.times.solve),
        fmtSeconds(r.times.certify),
        iter,
        fmtMiB(r.maxRssBytes),
        fmtMiB(r.bufferBytes),
        cell(r.adapter ?? '–', 40),
        cell(note || '', 160),
      ]);
    }
  return table(head, body);
}

function fmtSpread(s: Spread | undefined): string {
  if (!s) return 'no network where both finished';
  const f = (v: number): string => (v >= 10 ? v.toFixed(0) : v.toFixed(2));
  return `median ${f(s.median)}×, range ${f(s.min)}×–${f(s.max)}× over ${s.n} network${s.n === 1 ? '' : 's'}`;
}

export function headlineText(h: Headline): string {
  const statuses = Object.entries(h.lipdpStatus)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  const lines = [
    `**${h.lipdpMethod}** on ${Object.values(h.lipdpStatus).reduce((a, b) => a + b, 0)} networks: ${statuses}.`,
    h.compared > 0
      ? `Within 0.1 % of the best interior-point optimum on **${h.within01} of ${h.compared}** networks with a reference, within 0.5 % on **${h.within05} of ${h.compared}** (worst ratio ${fmtRatio(h.worstRatio)}).`
      : 'No network has both a lipdp bound and an interior-point optimum.',
  ];
  for (const [name, s] of [['DSDP', h.dsdp], ['CSDP', h.csdp]] as const) {
    let line = `Speed, ${name} time ÷ lipdp time (> 1: lipdp faster): ${fmtSpread(s.ratio)}`;
    if (s.peerTimeouts > 0) line += `; ${name} timed out on ${s.peerTimeouts} more where lipdp finished`;
    if (s.lipdpSlower.length > 0) line += `; lipdp slower on ${s.lipdpSlower.join(', ')}`;
    lines.push(`${line}.`);
  }
  return lines.map((l) => `- ${l}`).join('\n');
}

export function machineText(m: MachineInfo): string {
  const gib = (m.memoryBytes / 2 ** 30).toFixed(1);
  return `${m.cores} cores (${m.cpuModel}), ${gib} GiB RAM, Node ${m.node}, ${m.os}${m.gpu ? `; GPU: ${m.gpu}` : ''}`;
}

export const COLUMN_NOTES = `Times: "lipdp s" is build + solve (the f64 multiplier optimiser) + certify; DSDP/CSDP "s" is SDP
build + solver run on the fastest formulation that finished (N = LipSDP-Neuron, Lay = layered).
Model import and lipdp's naive/lower bounds are excluded from both. "best IPM L" is the smallest
interior-point optimum (DSDP or CSDP, either formulation; not re-verified); "lipdp / IPM" is lipdp's
certified bound over it.`;

/** The lipdp run of a paper row with the given label, e.g. lipdp-cpu-roesser. */
function runOf(row: NetworkRow, method: string): RunResult | undefined {
  return row.runs.find((r) => r.method === method);
}

/** Bound of a run that finished, else its status (timeout, too large, skipped …). */
function boundOrStatus(r: RunResult | undefined): string {
  if (!r) return '–';
  // An interior-point optimum short of the solver's tolerance is shown, but marked.
  if (r.status === 'ok') return `${fmtBound(r.bound)}${r.certStatus === 'inaccurate' ? ' (inacc.)' : ''}`;
  return statusText(r, false);
}

function mosekRatio(r: RunResult | undefined, mosek: number | undefined): string {
  if (!r || r.status !== 'ok' || typeof r.bound !== 'number' || mosek === undefined) return '–';
  return (r.bound / mosek).toFixed(4);
}

/** lipdp's certificate status, with the time limit named when it ended the optimiser. */
function lipdpStatus(r: RunResult): string {
  return `${r.certStatus ?? 'ok'}${r.solverStatus === 'time_limit' ? ' (time limit)' : ''}`;
}

const runSeconds = (r: RunResult | undefined): string => (r?.status === 'ok' ? fmtSeconds(methodTimeMs(r)) : '–');

/**
 * The paper suite's table: one row per inner chain, with the authors' MOSEK value and time as
 * printed reference columns next to lipdp (Roesser, and its fully connected default where that
 * differs) and the peers on lipdp's Roesser export of the same SDP.
 */
export function paperTable(rows: readonly NetworkRow[], backend = 'cpu'): string {
  const roesser = `lipdp-${backend}-roesser`;
  const fc = `lipdp-${backend}-fc`;
  const withFc = rows.some((row) => runOf(row, fc)?.status === 'ok');
  const head = [
    'inner chain', 'd', 'width', 'MOSEK L (authors)', 'lipdp L (roesser)', 'lipdp / MOSEK', 'status', 'lipdp s', 'MOSEK s (authors)',
    ...(withFc ? ['lipdp L (fc)', 'fc / MOSEK', 'fc s'] : []),
    'DSDP L', 'DSDP s', 'CSDP L', 'CSDP s',
  ];
  const body = rows.map((row) => {
    const ref = mosekReference(row.network.name);
    const own = runOf(row, roesser);
    const f = runOf(row, fc);
    const dsdp = row.runs.find((r) => r.job.kind === 'sdp' && r.job.solver === 'dsdp');
    const csdp = row.runs.find((r) => r.job.kind === 'sdp' && r.job.solver === 'csdp');
    const fcCells = !withFc ? [] : f?.status === 'ok' ? [`${fmtBound(f.bound)}${f.solverStatus === 'time_limit' ? ' (time limit)' : f.certStatus !== 'certified' ? ` (${f.certStatus})` : ''}`, mosekRatio(f, ref?.L), runSeconds(f)] : ['–', '–', '–'];
    return [
      row.network.name.replace(/^inner_/, ''),
      String(row.network.depth ?? '–'),
      String(row.network.width ?? '–'),
      ref ? fmtBound(ref.L) : '–',
      boundOrStatus(own),
      mosekRatio(own, ref?.L),
      own ? cell(own.status === 'ok' ? lipdpStatus(own) : statusText(own, false), 40) : '–',
      own?.status === 'ok' ? runSeconds(own) : own?.status === 'timeout' ? 'timeout' : '–',
      ref?.seconds !== undefined ? String(ref.seconds) : '–',
      ...fcCells,
      boundOrStatus(dsdp),
      runSeconds(dsdp),
      boundOrStatus(csdp),
      runSeconds(csdp),
    ];
  });
  return table(head, body);
}

/** Counts for the paper suite's headline: rows within 0.1 % of MOSEK (or below it). */
export function paperHeadline(rows: readonly NetworkRow[], method: string): string {
  let within = 0;
  let finished = 0;
  let limited = 0;
  let worst: number | undefined;
  for (const row of rows) {
    const r = runOf(row, method);
    const ref = mosekReference(row.network.name);
    if (!r || r.status !== 'ok' || typeof r.bound !== 'number' || !ref) continue;
    finished++;
    if (r.solverStatus === 'time_limit') limited++;
    const q = r.bound / ref.L;
    if (q <= 1.001) within++;
    worst = worst === undefined ? q : Math.max(worst, q);
  }
  // A skipped run (the fc job on a convolutional chain) was never an attempt.
  const tried = rows.filter((row) => { const r = runOf(row, method); return r !== undefined && r.status !== 'skipped'; }).length;
  if (tried === 0) return '';
  let line = `- **${method}**: finished ${finished} of ${tried} chains${limited > 0 ? ` (${limited} of them ended by the time limit)` : ''}; certified L ≤ 1.001 × MOSEK (or below it) on **${within} of ${finished}**${worst !== undefined ? ` (worst lipdp / MOSEK ${worst.toFixed(4)})` : ''}.`;
  // Side by side with the peers on the same (Roesser) SDP, where they finished.
  const h = headline(rows, method);
  for (const [name, sp] of [['DSDP', h.dsdp], ['CSDP', h.csdp]] as const) {
    if (!sp.ratio && sp.peerTimeouts === 0) continue;
    line += ` ${name} time ÷ lipdp time: ${fmtSpread(sp.ratio)}${sp.peerTimeouts > 0 ? `, ${name} timed out on ${sp.peerTimeouts} more` : ''}${sp.lipdpSlower.length > 0 ? `; lipdp slower on ${sp.lipdpSlower.map((n) => n.replace(/^inner_/, '')).join(', ')}` : ''}.`;
  }
  return line;
}

export const PAPER_NOTES = `"MOSEK L / s (authors)": the optimum and solver time the authors report (MOSEK 11 on their
laptop, not this machine; times only where issue 16 quotes them). "lipdp L (roesser)":
\`estimateLipschitz\` with \`formulation: 'roesser'\`, default options otherwise (but the empirical
lower-bound search capped at 2 s: the table does not use it); "lipdp L (fc)": the default
path of a fully connected chain (formulation 'fc': one dense stage per layer), MLP chains only. lipdp runs with a time limit
of 85 % of the per-job timeout; "(time limit)": the limit ended the optimiser, the bound is still
certified. "lipdp s" is build + solve + certify; DSDP/CSDP "s" is SDP build + solver run on
lipdp's Roesser export (\`export-sdpa --formulation roesser\`); their L is the solver's optimum,
not re-verified ("inacc.": the solver stopped short of its tolerance). d is the number of layers
in the chain (C − 1 or H − 1), width the channels c or neurons w.`;

/** The part shared by results.md and the README section. */
export function summaryMarkdown(run: BenchRun, figureDir?: string, figures: readonly string[] = []): string {
  const allRows = groupByNetwork(run.networks, run.results);
  // The paper suite's chains have their own table (reference columns from the paper).
  const paperRows = allRows.filter((r) => r.network.suite === 'paper');
  const rows = allRows.filter((r) => r.network.suite !== 'paper');
  const parts: string[] = [];
  parts.push(`Run ${run.startedAt}${run.finishedAt ? ` – ${run.finishedAt}` : ' (in progress)'}; options: \`${optionsText(run.options)}\`.`);
  parts.push(`Machine: ${machineText(run.machine)}.`);
  if (paperRows.length > 0) {
    const lines = lipdpMethods(run.results).map((m) => paperHeadline(paperRows, m)).filter((l) => l.length > 0);
    if (lines.length > 0) parts.push(lines.join('\n'));
    parts.push(paperTable(paperRows));
    parts.push(PAPER_NOTES);
  }
  if (rows.length > 0) {
    for (const m of lipdpMethods(run.results)) parts.push(headlineText(headline(rows, m)));
    parts.push(summaryTable(rows));
    parts.push(COLUMN_NOTES);
  }
  if (figures.length > 0) parts.push(figures.map((f) => `![${f}](${figureDir ? `${figureDir}/` : ''}${f})`).join('\n'));
  return parts.join('\n\n');
}

function optionsText(o: Record<string, unknown>): string {
  return Object.entries(o)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
    .join(' ');
}

export function resultsMarkdown(run: BenchRun, figures: readonly string[] = []): string {
  const rows = groupByNetwork(run.networks, run.results);
  const traffic = deviceTrafficTable(rows);
  return [
    '# lipdp benchmark results',
    summaryMarkdown(run, undefined, figures),
    '## All runs',
    runsTable(rows),
    ...(traffic ? ['## Host ↔ device traffic (device backends)', traffic] : []),
    '',
  ].join('\n\n');
}

/**
 * Per device-backend run: how the host and the device shared the solve. "Wait" is host time
 * blocked on read-backs (device work, transfer and queue latency); the rest of the solve phase ran
 * on the host. Per-iteration counts divide by all optimiser iterations.
 * Null when no run used a device backend.
 */
export function deviceTrafficTable(rows: readonly NetworkRow[]): string | null {
  const body: string[][] = [];
  for (const row of rows)
    for (const r of row.runs) {
      const t = r.deviceTraffic;
      if (!t) continue;
      const its = (r.iterations ?? 0) + (r.refineIterations ?? 0);
      const per = (n: number) => (its > 0 ? (n / its).toFixed(1) : '–');
      const solveMs = r.times.solve;
      body.push([
        row.network.name,
        r.method,
        String(its),
        String(t.submissions),
        per(t.submissions),
        String(t.readbacks),
        per(t.readbacks),
        (t.bytesUploaded / 2 ** 20).toFixed(2),
        (t.bytesDownloaded / 2 ** 20).toFixed(2),
        fmtSeconds(t.readbackWaitMs),
        solveMs !== undefined && solveMs > 0 ? `${Math.min(100, (100 * t.readbackWaitMs) / solveMs).toFixed(0)} %` : '–',
        cell(r.adapter ?? '–', 40),
      ]);
    }
  if (body.length === 0) return null;
  return table(['Network', 'Method', 'Iter', 'Submissions', 'per iter', 'Read-backs', 'per iter', 'Up MiB', 'Down MiB', 'Wait s', 'Wait / solve', 'Adapter'], body);
}
