/**
 * Renders the final report and the layer table into the page. Every value sits in an element
 * with a data-testid; numbers also carry their full-precision value in data-value so tests (and
 * curious users) need not parse the formatted text.
 */
import type { LipschitzReport } from '../../src/report/types.js';
import type { NetworkInfo } from './protocol.js';
import { reportRows, type RunContext } from './report-text.js';

export function renderReport(root: HTMLElement, r: LipschitzReport, ctx: RunContext): void {
  const dl = document.createElement('dl');
  for (const row of reportRows(r, ctx)) {
    const dt = document.createElement('dt');
    dt.textContent = row.label;
    const dd = document.createElement('dd');
    dd.dataset.testid = row.id;
    dd.textContent = row.text;
    if (row.value !== undefined && row.value !== null && Number.isFinite(row.value)) dd.dataset.value = String(row.value);
    if (row.title) dd.title = row.title;
    if (row.id === 'upper-bound') dd.classList.add('headline');
    if (row.id === 'status') dd.classList.add(`status-${r.status}`);
    dl.append(dt, dd);
  }
  root.replaceChildren(dl);
  root.hidden = false;
}

/**
 * The layer table: from the page's own import of the model when it has one (shapes and parameter
 * counts), else from the report's one-line layer summaries. The LMI block sizes are the report's;
 * it does not break the bound down per layer or stage, so neither does the table.
 */
export function renderLayers(root: HTMLElement, info: NetworkInfo | null, r: LipschitzReport | null): void {
  const table = document.createElement('table');
  table.dataset.testid = 'layer-table';
  const caption = document.createElement('caption');
  caption.textContent = info
    ? `${info.source}: input [${info.inputShape.join('×')}], ${info.outputSize} outputs; ${networkKind(info)}, solved by the f64 multiplier optimiser`
    : `${r?.network.source ?? ''}: layers as the report lists them`;
  table.append(caption);
  const head = table.createTHead().insertRow();
  const cols = info ? ['#', 'layer', 'input shape', 'output shape', 'parameters'] : ['#', 'layer'];
  for (const c of cols) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = c;
    head.append(th);
  }
  const body = table.createTBody();
  if (info) {
    info.layers.forEach((l, i) => {
      const tr = body.insertRow();
      cell(tr, String(i + 1));
      cell(tr, `${'↳ '.repeat(l.depth)}${l.detail}`).dataset.kind = l.kind;
      cell(tr, `[${l.inShape.join('×')}]`);
      cell(tr, `[${l.outShape.join('×')}]`);
      cell(tr, l.params > 0 ? l.params.toLocaleString('en') : '—');
    });
  } else if (r) {
    r.network.layers.forEach((l, i) => {
      const tr = body.insertRow();
      cell(tr, String(i + 1));
      cell(tr, l);
    });
  }
  const out: HTMLElement[] = [table];
  if (r) {
    const p = document.createElement('p');
    p.className = 'lmi-note';
    p.dataset.testid = 'lmi-blocks';
    p.textContent = `LMI blocks the solver worked on (${r.formulation} formulation): ${r.solver.lmiSizes.join(', ') || '—'}.`;
    out.push(p);
    out.push(stageTable(r));
  }
  root.replaceChildren(...out);
  root.hidden = false;
}

/**
 * One row per LMI block (stage): its size and its own certified gain (the stage alone with a
 * linear output; the factors of the naive bound), as the report gives them.
 */
function stageTable(r: LipschitzReport): HTMLTableElement {
  const table = document.createElement('table');
  table.dataset.testid = 'stage-table';
  table.createCaption().textContent = 'Stages (one LMI block each)';
  const head = table.createTHead().insertRow();
  for (const h of ['stage', 'LMI size', 'own certified gain']) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = h;
    head.appendChild(th);
  }
  const body = table.createTBody();
  const gains = r.solver.stageGains;
  r.solver.lmiSizes.forEach((n, i) => {
    const tr = body.insertRow();
    cell(tr, String(i + 1));
    cell(tr, String(n));
    const g = gains?.[i];
    cell(tr, g === undefined ? 'not computed' : g === null || !Number.isFinite(g) ? 'not certified alone' : g.toPrecision(6));
  });
  return table;
}

/** What kind of network the solver sees, for the layer table's caption. */
function networkKind(info: NetworkInfo): string {
  if (info.denseChain) return 'a dense chain (layered LipSDP, one stage per layer)';
  if (info.signal) return 'a 1-D signal network (state-space realisations)';
  return 'conv / pooling / residual structure';
}

function cell(tr: HTMLTableRowElement, text: string): HTMLTableCellElement {
  const td = tr.insertCell();
  td.textContent = text;
  return td;
}
