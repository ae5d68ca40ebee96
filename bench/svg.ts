/**
 * A small SVG chart writer: a grid of panels (small multiples) sharing one legend, each panel with
 * linear or log axes, point/line series and horizontal reference lines. Enough for the benchmark
 * plots without a dependency; output is plain, deterministic SVG 1.1 text.
 */

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface Series {
  readonly label: string;
  readonly points: readonly Point[];
  /** Connect the points (sorted by x) with a line. */
  readonly line?: boolean;
}

export interface RefLine {
  readonly label: string;
  readonly y: number;
}

export interface Panel {
  readonly title: string;
  readonly series: readonly Series[];
  readonly refLines?: readonly RefLine[];
}

export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly xLog: boolean;
  readonly yLog: boolean;
  readonly panels: readonly Panel[];
  readonly columns?: number;
  readonly panelWidth?: number;
  readonly panelHeight?: number;
  /** Fixed colours per series/ref-line label (others are taken from the palette in order). */
  readonly colors?: Readonly<Record<string, string>>;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#17becf', '#bcbd22'];
const MARKERS = ['circle', 'square', 'triangle', 'diamond', 'down', 'cross'] as const;
type Marker = (typeof MARKERS)[number];

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Short number text for tick labels: 0.001, 0.5, 20, 1e4, 2.5e-5. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) {
    const [m, e] = v.toExponential().split('e') as [string, string];
    const mant = Number(Number(m).toPrecision(2));
    return `${mant}e${Number(e)}`;
  }
  return String(Number(v.toPrecision(3)));
}

export interface Axis {
  readonly lo: number;
  readonly hi: number;
  readonly log: boolean;
  readonly ticks: readonly number[];
}

/**
 * Axis range and ticks for the data. Log axes span whole decades when the data cover more than one
 * (ticks at powers of ten), else 1-2-5 ticks inside a padded range; linear axes use "nice" steps.
 * Non-positive values cannot be drawn on a log axis and are ignored for its range.
 */
export function makeAxis(values: readonly number[], log: boolean): Axis {
  const vs = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (vs.length === 0) return log ? { lo: 1, hi: 10, log, ticks: [1, 10] } : { lo: 0, hi: 1, log, ticks: [0, 0.5, 1] };
  let lo = Math.min(...vs);
  let hi = Math.max(...vs);
  if (log) {
    const dLo = Math.floor(Math.log10(lo));
    const dHi = Math.ceil(Math.log10(hi));
    if (dHi - dLo >= 2) {
      const ticks: number[] = [];
      const step = Math.ceil((dHi - dLo) / 8);
      for (let d = dLo; d <= dHi; d += step) ticks.push(10 ** d);
      return { lo: 10 ** dLo, hi: 10 ** dHi, log, ticks };
    }
    // Within about a decade: pad by 5% (in log space) and put 1-2-5 ticks (or finer) inside.
    if (lo === hi) {
      lo /= 1.1;
      hi *= 1.1;
    }
    const pad = (Math.log10(hi) - Math.log10(lo)) * 0.08;
    lo = 10 ** (Math.log10(lo) - pad);
    hi = 10 ** (Math.log10(hi) + pad);
    let ticks = mantissaTicks(lo, hi, [1, 2, 5]);
    if (ticks.length < 2) ticks = mantissaTicks(lo, hi, [1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9]);
    if (ticks.length < 2) ticks = linearTicks(lo, hi);
    return { lo, hi, log, ticks };
  }
  if (lo === hi) {
    lo -= Math.abs(lo) * 0.1 || 1;
    hi += Math.abs(hi) * 0.1 || 1;
  }
  const ticks = linearTicks(lo, hi);
  return { lo: Math.min(lo, ticks[0]!), hi: Math.max(hi, ticks[ticks.length - 1]!), log, ticks };
}

function mantissaTicks(lo: number, hi: number, mantissas: readonly number[]): number[] {
  const out: number[] = [];
  for (let d = Math.floor(Math.log10(lo)); d <= Math.ceil(Math.log10(hi)); d++)
    for (const m of mantissas) {
      const v = Number((m * 10 ** d).toPrecision(6));
      if (v >= lo && v <= hi) out.push(v);
    }
  return out;
}

function linearTicks(lo: number, hi: number): number[] {
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const out: number[] = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Position of v on [0, length] along the axis. */
export function scale(axis: Axis, v: number, length: number): number {
  const f = axis.log
    ? (Math.log10(v) - Math.log10(axis.lo)) / (Math.log10(axis.hi) - Math.log10(axis.lo))
    : (v - axis.lo) / (axis.hi - axis.lo);
  return f * length;
}

const r2 = (v: number): string => String(Math.round(v * 100) / 100);

function marker(kind: Marker, x: number, y: number, color: string): string {
  const s = 3.5;
  switch (kind) {
    case 'circle':
      return `<circle cx="${r2(x)}" cy="${r2(y)}" r="${s}" fill="${color}"/>`;
    case 'square':
      return `<rect x="${r2(x - s)}" y="${r2(y - s)}" width="${2 * s}" height="${2 * s}" fill="${color}"/>`;
    case 'triangle':
      return `<path d="M${r2(x)},${r2(y - s - 1)}L${r2(x + s + 1)},${r2(y + s)}L${r2(x - s - 1)},${r2(y + s)}Z" fill="${color}"/>`;
    case 'diamond':
      return `<path d="M${r2(x)},${r2(y - s - 1)}L${r2(x + s + 1)},${r2(y)}L${r2(x)},${r2(y + s + 1)}L${r2(x - s - 1)},${r2(y)}Z" fill="${color}"/>`;
    case 'down':
      return `<path d="M${r2(x)},${r2(y + s + 1)}L${r2(x + s + 1)},${r2(y - s)}L${r2(x - s - 1)},${r2(y - s)}Z" fill="${color}"/>`;
    case 'cross':
      return `<path d="M${r2(x - s)},${r2(y - s)}L${r2(x + s)},${r2(y + s)}M${r2(x - s)},${r2(y + s)}L${r2(x + s)},${r2(y - s)}" stroke="${color}" stroke-width="2"/>`;
  }
}

interface Style {
  readonly color: string;
  readonly marker: Marker;
}

/** One colour and marker per label, shared by all panels so the legend holds for each. */
function styles(spec: ChartSpec): Map<string, Style> {
  const map = new Map<string, Style>();
  let next = 0;
  const add = (label: string): void => {
    if (map.has(label)) return;
    const i = next++;
    map.set(label, { color: spec.colors?.[label] ?? PALETTE[i % PALETTE.length]!, marker: MARKERS[i % MARKERS.length]! });
  };
  for (const p of spec.panels) {
    for (const s of p.series) add(s.label);
    for (const r of p.refLines ?? []) add(r.label);
  }
  return map;
}

const M = { left: 62, right: 12, top: 26, bottom: 40 };

function renderPanel(panel: Panel, spec: ChartSpec, st: Map<string, Style>, ox: number, oy: number, w: number, h: number): string {
  const xs = panel.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = [...panel.series.flatMap((s) => s.points.map((p) => p.y)), ...(panel.refLines ?? []).map((r) => r.y)];
  const ax = makeAxis(xs, spec.xLog);
  const ay = makeAxis(ys, spec.yLog);
  const pw = w - M.left - M.right;
  const ph = h - M.top - M.bottom;
  const px = (v: number): number => M.left + scale(ax, v, pw);
  const py = (v: number): number => M.top + ph - scale(ay, v, ph);
  const ok = (p: Point): boolean => Number.isFinite(p.x) && Number.isFinite(p.y) && (!spec.xLog || p.x > 0) && (!spec.yLog || p.y > 0);
  const out: string[] = [`<g transform="translate(${ox},${oy})">`];
  out.push(`<text x="${M.left + pw / 2}" y="16" text-anchor="middle" font-weight="bold">${escapeXml(panel.title)}</text>`);
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (const t of ax.ticks) {
    const x = r2(px(t));
    out.push(`<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${x}" y="${M.top + ph + 14}" text-anchor="middle" class="tick">${escapeXml(formatTick(t))}</text>`);
  }
  for (const t of ay.ticks) {
    const y = r2(py(t));
    out.push(`<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 4}" y="${y}" text-anchor="end" dominant-baseline="middle" class="tick">${escapeXml(formatTick(t))}</text>`);
  }
  out.push(`<text x="${M.left + pw / 2}" y="${h - 6}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);
  out.push(`<text transform="translate(12,${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`);
  for (const r of panel.refLines ?? []) {
    if (spec.yLog && !(r.y > 0)) continue;
    const y = r2(py(r.y));
    out.push(`<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="${st.get(r.label)!.color}" stroke-dasharray="5,3"><title>${escapeXml(`${r.label}: ${r.y}`)}</title></line>`);
  }
  for (const s of panel.series) {
    const style = st.get(s.label)!;
    const pts = s.points.filter(ok);
    if (s.line && pts.length > 1) {
      const d = [...pts].sort((a, b) => a.x - b.x).map((p, i) => `${i ? 'L' : 'M'}${r2(px(p.x))},${r2(py(p.y))}`).join('');
      out.push(`<path d="${d}" fill="none" stroke="${style.color}" stroke-width="1.5"/>`);
    }
    for (const p of pts) out.push(marker(style.marker, px(p.x), py(p.y), style.color));
  }
  out.push('</g>');
  return out.join('\n');
}

function renderLegend(st: Map<string, Style>, refLabels: ReadonlySet<string>, width: number, y0: number): { svg: string; height: number } {
  const out: string[] = [];
  const itemW = 150;
  const perRow = Math.max(1, Math.floor((width - 20) / itemW));
  let i = 0;
  for (const [label, style] of st) {
    const x = 10 + (i % perRow) * itemW;
    const y = y0 + Math.floor(i / perRow) * 18;
    out.push(
      refLabels.has(label)
        ? `<line x1="${x}" y1="${y}" x2="${x + 16}" y2="${y}" stroke="${style.color}" stroke-dasharray="5,3"/>`
        : marker(style.marker, x + 8, y, style.color),
    );
    out.push(`<text x="${x + 22}" y="${y}" dominant-baseline="middle">${escapeXml(label)}</text>`);
    i++;
  }
  return { svg: out.join('\n'), height: Math.ceil(i / perRow) * 18 + 6 };
}

export function renderChart(spec: ChartSpec): string {
  const cols = Math.max(1, Math.min(spec.columns ?? 3, spec.panels.length || 1));
  const w = spec.panelWidth ?? 320;
  const h = spec.panelHeight ?? 240;
  const rows = Math.max(1, Math.ceil(spec.panels.length / cols));
  const width = cols * w;
  const st = styles(spec);
  const refLabels = new Set(spec.panels.flatMap((p) => (p.refLines ?? []).map((r) => r.label)));
  const titleH = 30;
  const legend = renderLegend(st, refLabels, width, titleH + rows * h + 12);
  const height = titleH + rows * h + legend.height + 12;
  const body = spec.panels.map((p, i) => renderPanel(p, spec, st, (i % cols) * w, titleH + Math.floor(i / cols) * h, w, h));
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<style>.tick{font-size:9px;fill:#444}</style>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(spec.title)}</text>`,
    ...(spec.panels.length === 0 ? [`<text x="${width / 2}" y="${titleH + h / 2}" text-anchor="middle">no data</text>`] : body),
    legend.svg,
    '</svg>',
    '',
  ].join('\n');
}
