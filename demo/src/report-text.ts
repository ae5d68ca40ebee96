/**
 * The report as text: rows for the page's report table and the one-paragraph summary. Free of
 * the DOM (unit-tested). Every number goes through num(), which never prints NaN or
 * Infinity: a value the report does not have is said in words.
 *
 * The report is the library's LipschitzReport as is (the JSON download is exactly what the CLI's
 * --json prints); what it does not carry (the backend decision, the run's time limit, when a
 * phase began) comes from the page in RunContext.
 */
import type { LipschitzReport } from '../../src/report/types.js';

export interface RunContext {
  /** Why this backend ran (backend-choice.ts). */
  readonly backendReason: string;
  /** The run's time limit (the library's `timeLimitMs`), seconds. */
  readonly timeLimitS: number;
  /** Seconds the f64 optimiser ('refine' phase) ran, measured on the page; null if it did not run. */
  readonly optimiserSeconds: number | null;
  /** Wall-clock seconds from Run to the report, measured on the page. */
  readonly wallSeconds: number;
}

export interface ReportRow {
  readonly id: string;
  readonly label: string;
  readonly text: string;
  /** Full-precision value for data-value, when the row is one number. */
  readonly value?: number | null;
  readonly title?: string;
}

const STATUS_TEXT: Record<LipschitzReport['status'], string> = {
  certified: 'certified: the bound comes from the optimised multipliers and passed the f64 certificate',
  fallback: 'fallback: the optimised multipliers did not certify; this is the best certified fallback bound',
  failed: 'failed: nothing could be certified',
};

const FORMULATION_TEXT: Record<LipschitzReport['formulation'], string> = {
  fc: 'layered LipSDP of the dense chain',
  roesser: 'layered SDP on 2-D Roesser realisations of the conv stages',
  unrolled: 'LipSDP-Neuron with each convolution unrolled to its dense operator',
  oned: 'SDP on state-space realisations of the 1-D layers (any sequence length)',
};

/** Which optimiser ran, in words (the same f64 multiplier optimiser for every network kind). */
export function optimiserText(r: LipschitzReport): string {
  return `f64 multiplier optimiser, ${r.solver.refineIterations} iterations`;
}

/**
 * The formulations whose optimiser can give the backend work (the f32 realisation products of its
 * coarse levels); the dense ones (a dense chain, the unrolled conv net) run wholly in f64 on the CPU.
 */
const USES_BACKEND: ReadonlySet<LipschitzReport['formulation']> = new Set(['roesser', 'oned']);

/** Which backend did the arithmetic of each part, in words. */
export function arithmeticText(r: LipschitzReport): string {
  const all = 'optimiser and certificate, all f64 on the CPU';
  if (r.backend !== 'webgpu') return all;
  if (!USES_BACKEND.has(r.formulation)) return `${all} (the WebGPU backend was selected but this formulation does not use it)`;
  // The device's traffic counters say whether it got work: the Newton method of short stage chains runs wholly on the CPU.
  if (r.solver.deviceTraffic?.submissions === 0) return `${all} (the WebGPU backend was selected but this run gave it no work)`;
  return "realisation products of the optimiser's coarse levels in f32 on WebGPU; final levels and certificate in f64 on the CPU";
}

export function reportRows(r: LipschitzReport, ctx: RunContext): ReportRow[] {
  const rows: ReportRow[] = [
    { id: 'upper-bound', label: 'Certified upper bound L', value: r.upperBound, text: r.upperBound === null ? 'none: nothing could be certified' : num(r.upperBound) },
    { id: 'status', label: 'Status', text: r.status, title: STATUS_TEXT[r.status] },
    { id: 'bound-source', label: 'Certificate', text: certificateText(r) },
    { id: 'lower-bound', label: 'Empirical lower bound', value: r.lowerBound, text: num(r.lowerBound, 'not found') },
    {
      id: 'naive-bound',
      label: 'Naive bound (product of layer norms)',
      value: Number.isFinite(r.naiveBound) ? r.naiveBound : null,
      text: num(r.naiveBound, 'not available for this network'),
    },
    {
      id: 'closed-form-bound',
      label: 'Closed-form multipliers bound',
      value: r.certificate.closedFormBound,
      text: num(r.certificate.closedFormBound, 'not computed for this network'),
    },
    { id: 'gap', label: 'Upper / lower', text: r.upperBound !== null && r.lowerBound > 0 ? (r.upperBound / r.lowerBound).toFixed(4) : '—' },
    { id: 'formulation-used', label: 'Formulation', text: `${r.formulation}: ${FORMULATION_TEXT[r.formulation] ?? r.formulation}` },
    { id: 'optimiser', label: 'Optimiser', value: r.solver.refineIterations, text: optimiserText(r) },
    { id: 'backend-used', label: 'Backend', text: `${r.backend}: ${arithmeticText(r)}` },
    { id: 'backend-reason', label: 'Why this backend', text: ctx.backendReason },
    { id: 'adapter', label: 'GPU adapter', text: adapterText(r) },
    { id: 'time-limit-used', label: 'Time limit', text: timeLimitText(r, ctx) },
    { id: 'lmi-sizes', label: 'LMI block sizes', text: r.solver.lmiSizes.length > 0 ? r.solver.lmiSizes.join(', ') : '—' },
    { id: 'timings', label: 'Time per phase', text: timingsText(r) },
  ];
  if (r.notices.length > 0) rows.push({ id: 'notices', label: 'Notices from lipdp', text: r.notices.join(' · ') });
  return rows;
}

/** Whether a limit was what ended the run's optimisers, in words. */
export function timeLimitText(r: LipschitzReport, ctx: RunContext): string {
  return `${fmtS(ctx.timeLimitS)} for the whole solve${
    hitLimit(r) ? ' (the solve stopped on it: a longer limit may give a tighter bound)' : ' (not reached: the optimisers stopped on their own tests)'
  }`;
}

/** The run's time limit ended the solve early (the library says so in solver.status). */
export function hitLimit(r: LipschitzReport): boolean {
  return r.solver.status === 'time_limit';
}

/** One paragraph a reader can paste into notes or a paper draft. */
export function summaryParagraph(r: LipschitzReport, ctx: RunContext): string {
  const net = `${r.network.source} (${r.network.inputSize} inputs → ${r.network.outputSize} outputs, ${r.network.layers.length} layers: ${r.network.layers.join('; ')})`;
  const bound =
    r.upperBound === null
      ? 'lipdp could not certify an upper bound on its ℓ2 Lipschitz constant'
      : `lipdp certified an upper bound L ≤ ${num(r.upperBound)} on its ℓ2 Lipschitz constant (status ${r.status}; f64 certificate from ${r.certificate.source} multipliers)`;
  const others = [`empirical lower bound ${num(r.lowerBound, 'not found')}`, `naive bound ${num(r.naiveBound, 'not available')}`];
  if (r.certificate.closedFormBound !== null) others.push(`closed-form bound ${num(r.certificate.closedFormBound)}`);
  if (r.upperBound !== null && r.lowerBound > 0) others.push(`upper/lower ratio ${(r.upperBound / r.lowerBound).toFixed(3)}`);
  const how = `Formulation ${r.formulation}; ${optimiserText(r)}; backend ${r.backend} (${arithmeticText(r)}).`;
  const time = `Run in the browser demo in ${ctx.wallSeconds.toFixed(1)} s (time limit: ${timeLimitText(r, ctx)}).`;
  return `For ${net}, ${bound}; ${others.join(', ')}. ${how} ${time}`;
}

function certificateText(r: LipschitzReport): string {
  const iv = r.certificate.rhoInterval;
  const interval = iv ? `; ρ = L² verified at ${iv[1].toPrecision(8)}, infeasible at ${iv[0].toPrecision(8)}` : '';
  return `f64, from ${r.certificate.source} multipliers${interval}`;
}

function adapterText(r: LipschitzReport): string {
  if (r.backend !== 'webgpu') return 'none (CPU backend)';
  const a = r.adapter;
  const parts = [a?.vendor, a?.architecture, a?.description || a?.device].filter((s): s is string => !!s);
  return parts.length > 0 ? parts.join(' / ') : 'WebGPU adapter (the browser did not disclose its details)';
}

/** Phase times as the library measured them, plus what they do not cover, so they add up. */
export function timingsText(r: LipschitzReport): string {
  const t = r.timings;
  const parts: [string, number][] = [
    ['import', t.import],
    ['bounds', t.bounds],
    ['build', t.build],
    ['optimiser', t.solve],
    ['certify', t.certify],
  ];
  const sum = parts.reduce((a, [, v]) => a + (Number.isFinite(v) ? v : 0), 0);
  const other = t.total - sum;
  if (Number.isFinite(other) && other >= 0.5) parts.push(['other (backend setup, naive bound, blends)', other]);
  return `${parts.map(([k, v]) => `${k} ${ms(v)}`).join(' · ')} · total ${ms(t.total)}`;
}

export function num(v: number | null | undefined, missing = '—'): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return missing;
  return v.toPrecision(7);
}

function ms(v: number): string {
  if (!Number.isFinite(v)) return '—';
  return v < 10 ? `${v.toFixed(1)} ms` : v < 10_000 ? `${v.toFixed(0)} ms` : `${(v / 1000).toFixed(1)} s`;
}

function fmtS(s: number): string {
  return `${Number(s.toPrecision(3))} s`;
}
