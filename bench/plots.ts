/**
 * The benchmark's figures as chart specs for bench/svg.ts: certified bound against time per network
 * (small multiples), and time against depth and against width/channels for the GLipSDP families.
 * Both axes are log scale: times span milliseconds to the timeout, and depths/widths double.
 */
import { groupByNetwork, isLipdp, methodTimeMs, type NetworkRow } from './aggregate.js';
import { renderChart, type ChartSpec, type Panel, type Series } from './svg.js';
import { mosekReference } from './paper-reference.js';
import type { NetworkInfo, RunResult } from './types.js';

/** Series labels of the paper-suite figures besides the methods. */
export const MOSEK_LABEL = 'MOSEK (authors, their laptop)';
export const LINEAR_LABEL = 'linear in d (guide)';

/** Fixed colours so a method looks the same in every figure. */
export const METHOD_COLORS: Readonly<Record<string, string>> = {
  'lipdp-cpu': '#1f77b4',
  'lipdp-webgpu': '#17becf',
  'dsdp-neuron': '#d62728',
  'dsdp-layered': '#ff7f0e',
  'csdp-neuron': '#2ca02c',
  'csdp-layered': '#9467bd',
  'lipdp-cpu-roesser': '#1f77b4',
  'lipdp-cpu-roesser (time limit)': '#1f77b4',
  'lipdp-cpu-fc (time limit)': '#17becf',
  'lipdp-cpu-fc': '#17becf',
  'lipdp-webgpu-roesser': '#aec7e8',
  'lipdp-webgpu-fc': '#9edae5',
  'dsdp-roesser': '#d62728',
  'csdp-roesser': '#2ca02c',
  [MOSEK_LABEL]: '#e377c2',
  [LINEAR_LABEL]: '#c7c7c7',
  naive: '#7f7f7f',
  'closed-form': '#8c564b',
  lower: '#bcbd22',
};

const seconds = (ms: number): number => ms / 1000;

/** One panel per network that has at least one finished bound. */
export function boundVsTimeChart(rows: readonly NetworkRow[]): ChartSpec {
  const panels: Panel[] = [];
  for (const row of rows) {
    const series: Series[] = [];
    for (const r of row.runs) {
      const t = methodTimeMs(r);
      if (t === undefined || typeof r.bound !== 'number') continue;
      series.push({ label: r.method, points: [{ x: seconds(t), y: r.bound }] });
    }
    if (series.length === 0) continue;
    // Naive, closed-form and lower bounds come with lipdp's (first) report: horizontal lines.
    const own = row.runs.find((r) => isLipdp(r) && r.status === 'ok');
    const refLines = [];
    if (own?.naiveBound !== undefined && Number.isFinite(own.naiveBound)) refLines.push({ label: 'naive', y: own.naiveBound });
    if (typeof own?.closedFormBound === 'number') refLines.push({ label: 'closed-form', y: own.closedFormBound });
    if (own?.lowerBound !== undefined && own.lowerBound > 0) refLines.push({ label: 'lower', y: own.lowerBound });
    panels.push({ title: row.network.name, series, refLines });
  }
  return {
    title: 'Upper bound on L vs time (build + solve + certify)',
    xLabel: 'time [s]',
    yLabel: 'L',
    xLog: true,
    yLog: true,
    panels,
    columns: 4,
    panelWidth: 300,
    panelHeight: 220,
    colors: METHOD_COLORS,
  };
}

/**
 * Time against one family parameter (depth or width), one panel per value of the other, one
 * series per method. Only finished runs are plotted: a timeout has no time to show.
 */
export function scalingChart(
  rows: readonly NetworkRow[],
  family: 'mlp' | 'cnn',
  along: 'depth' | 'width',
): ChartSpec | undefined {
  const nets = rows.filter((r) => r.network.family === family && r.network.depth !== undefined && r.network.width !== undefined);
  if (nets.length === 0) return undefined;
  const other = along === 'depth' ? 'width' : 'depth';
  const otherName = other === 'width' ? (family === 'mlp' ? 'W' : 'CH') : family === 'mlp' ? 'L' : 'C';
  const groups = [...new Set(nets.map((r) => r.network[other]!))].sort((a, b) => a - b);
  const panels: Panel[] = groups.map((g) => {
    const byMethod = new Map<string, { x: number; y: number }[]>();
    for (const row of nets.filter((r) => r.network[other] === g))
      for (const run of row.runs) {
        const t = methodTimeMs(run);
        if (t === undefined) continue;
        const list = byMethod.get(run.method) ?? [];
        list.push({ x: row.network[along]!, y: seconds(t) });
        byMethod.set(run.method, list);
      }
    return { title: `${family} ${otherName}=${g}`, series: [...byMethod].map(([label, points]) => ({ label, points, line: true })) };
  });
  // Nothing finished (e.g. CNNs before conv support): no figure rather than empty axes.
  if (panels.every((p) => p.series.length === 0)) return undefined;
  const alongName = along === 'depth' ? (family === 'mlp' ? 'depth L (layers)' : 'depth C (conv layers)') : family === 'mlp' ? 'width W' : 'channels CH';
  return {
    title: `GLipSDP ${family}: time vs ${along === 'depth' ? 'depth' : family === 'mlp' ? 'width' : 'channels'}`,
    xLabel: alongName,
    yLabel: 'time [s]',
    xLog: true,
    yLog: true,
    panels,
    columns: 3,
    colors: METHOD_COLORS,
  };
}

/**
 * The paper suite's figure: time against the chain depth d, one panel per width, one series per
 * method that finished (skipped and timed-out runs have no time to show), the authors' MOSEK
 * times where quoted, and a guide line through lipdp's shallowest point that grows linearly in d
 * (log-log axes: a method growing at most linearly stays on or under a line of that slope).
 */
export function paperDepthChart(rows: readonly NetworkRow[], family: 'mlp' | 'cnn'): ChartSpec | undefined {
  const nets = rows.filter((r) => r.network.suite === 'paper' && r.network.family === family && r.network.depth !== undefined && r.network.width !== undefined);
  if (nets.length === 0) return undefined;
  const widths = [...new Set(nets.map((r) => r.network.width!))].sort((a, b) => a - b);
  const panels: Panel[] = widths.map((w) => {
    const inPanel = nets.filter((r) => r.network.width === w).sort((a, b) => a.network.depth! - b.network.depth!);
    const byMethod = new Map<string, { x: number; y: number }[]>();
    for (const row of inPanel)
      for (const run of row.runs) {
        const t = methodTimeMs(run);
        if (t === undefined) continue;
        // A run the time limit ended took the limit, not the time to converge: its own unjoined
        // series, so the method's line is not mistaken for flattening out with depth.
        const label = run.solverStatus === 'time_limit' ? `${run.method} (time limit)` : run.method;
        byMethod.set(label, [...(byMethod.get(label) ?? []), { x: row.network.depth!, y: seconds(t) }]);
      }
    const series: Series[] = [...byMethod].map(([label, points]) => ({ label, points, line: !label.endsWith('(time limit)') }));
    const mosek = inPanel.flatMap((row) => {
      const s = mosekReference(row.network.name)?.seconds;
      return s !== undefined ? [{ x: row.network.depth!, y: s }] : [];
    });
    if (mosek.length > 0) series.push({ label: MOSEK_LABEL, points: mosek, line: true });
    const main = [...byMethod].find(([m]) => m.endsWith('-roesser') && m.startsWith('lipdp'))?.[1].sort((a, b) => a.x - b.x)[0];
    // (the guide starts from a converged lipdp run: a time-limited one is not the method's pace)
    const maxDepth = inPanel[inPanel.length - 1]!.network.depth!;
    if (main && maxDepth > main.x) series.push({ label: LINEAR_LABEL, points: [main, { x: maxDepth, y: (main.y * maxDepth) / main.x }], line: true });
    return { title: `inner ${family} chains, ${family === 'mlp' ? 'w' : 'c'} = ${w}`, series };
  });
  if (panels.every((p) => p.series.length === 0)) return undefined;
  return {
    title: `Paper suite (Scalability): time vs depth, ${family === 'mlp' ? 'MLP' : 'CNN'} inner chains`,
    xLabel: 'layers in the chain d',
    yLabel: 'time [s]',
    xLog: true,
    yLog: true,
    panels,
    columns: 3,
    colors: METHOD_COLORS,
  };
}

/** File name → SVG text for every figure the results support. */
export function renderPlots(networks: readonly NetworkInfo[], results: readonly RunResult[]): Map<string, string> {
  const rows = groupByNetwork(networks, results);
  const out = new Map<string, string>();
  out.set('bound_vs_time.svg', renderChart(boundVsTimeChart(rows)));
  for (const family of ['mlp', 'cnn'] as const) {
    const spec = paperDepthChart(rows, family);
    if (spec) out.set(`paper_${family}_time_vs_depth.svg`, renderChart(spec));
  }
  // The GLipSDP family charts are for the full networks; the paper chains have their own.
  const glipsdpRows = rows.filter((r) => r.network.suite !== 'paper');
  for (const family of ['mlp', 'cnn'] as const)
    for (const along of ['depth', 'width'] as const) {
      const spec = scalingChart(glipsdpRows, family, along);
      if (spec) out.set(`glipsdp_${family}_time_vs_${along}.svg`, renderChart(spec));
    }
  return out;
}
