/**
 * Renders the final LipschitzReport into the page's report section. Every value sits in an
 * element with a data-testid; numbers also carry their full-precision value in data-value so
 * tests (and curious users) need not parse the formatted text.
 */
import type { LipschitzReport } from '../../src/report/types.js';

const STATUS_TEXT: Record<LipschitzReport['status'], string> = {
  certified: 'certified: the bound comes from the optimised multipliers and passed the f64 certificate',
  fallback: 'fallback: the optimised multipliers did not certify; this is the best certified fallback bound',
  failed: 'failed: nothing could be certified',
};

export function renderReport(root: HTMLElement, r: LipschitzReport): void {
  const rows: Row[] = [
    { id: 'upper-bound', label: 'Certified upper bound L', value: r.upperBound, text: num(r.upperBound), strong: true },
    { id: 'status', label: 'Status', text: r.status, title: STATUS_TEXT[r.status] },
    { id: 'bound-source', label: 'Certificate', text: `f64, from ${r.certificate.source} multipliers` },
    { id: 'lower-bound', label: 'Empirical lower bound', value: r.lowerBound, text: num(r.lowerBound) },
    { id: 'naive-bound', label: 'Naive bound (product of layer norms)', value: r.naiveBound, text: num(r.naiveBound) },
    { id: 'closed-form-bound', label: 'Closed-form multipliers bound', value: r.certificate.closedFormBound, text: num(r.certificate.closedFormBound) },
    { id: 'gap', label: 'Upper / lower', text: r.upperBound !== null && r.lowerBound > 0 ? (r.upperBound / r.lowerBound).toFixed(4) : '—' },
    { id: 'backend-used', label: 'Backend', text: `${r.backend} (${r.solverPrecision} iterations, f64 certificate)` },
    { id: 'adapter', label: 'GPU adapter', text: adapterText(r) },
    { id: 'network', label: 'Network', text: `${r.network.source}: ${r.network.inputSize} → ${r.network.outputSize}; ${r.network.layers.join('; ')}` },
    { id: 'lmi-sizes', label: 'LMI block sizes', text: r.solver.lmiSizes.join(', ') },
    {
      id: 'iterations',
      label: 'Iterations',
      value: r.solver.iterations,
      text: `ADMM ${r.solver.iterations} (${r.solver.status}; primal ${exp(r.solver.primalResidual)}, dual ${exp(r.solver.dualResidual)}), f64 refinement ${r.solver.refineIterations}`,
    },
    { id: 'timings', label: 'Time per phase', text: timingsText(r) },
  ];
  if (r.notices.length > 0) rows.push({ id: 'notices', label: 'Notices', text: r.notices.join(' · ') });

  const dl = document.createElement('dl');
  for (const row of rows) {
    const dt = document.createElement('dt');
    dt.textContent = row.label;
    const dd = document.createElement('dd');
    dd.dataset.testid = row.id;
    dd.textContent = row.text;
    if (row.value !== undefined && row.value !== null) dd.dataset.value = String(row.value);
    if (row.title) dd.title = row.title;
    if (row.strong) dd.classList.add('headline');
    if (row.id === 'status') dd.classList.add(`status-${r.status}`);
    dl.append(dt, dd);
  }
  root.replaceChildren(dl);
  root.hidden = false;
}

interface Row {
  readonly id: string;
  readonly label: string;
  readonly text: string;
  readonly value?: number | null;
  readonly title?: string;
  readonly strong?: boolean;
}

function num(v: number | null): string {
  if (v === null) return '—';
  return Number.isFinite(v) ? v.toPrecision(7) : String(v);
}

function exp(v: number): string {
  return Number.isFinite(v) ? v.toExponential(2) : String(v);
}

function adapterText(r: LipschitzReport): string {
  if (r.backend !== 'webgpu') return 'none (CPU backend)';
  const a = r.adapter;
  const parts = [a?.vendor, a?.architecture, a?.description || a?.device].filter((s): s is string => !!s);
  return parts.length > 0 ? parts.join(' / ') : 'WebGPU adapter (the browser did not disclose its details)';
}

function timingsText(r: LipschitzReport): string {
  const t = r.timings;
  const ms = (v: number) => `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ms`;
  return `import ${ms(t.import)} · bounds ${ms(t.bounds)} · build ${ms(t.build)} · solve ${ms(t.solve)} · certify ${ms(t.certify)} · total ${ms(t.total)}`;
}
