/**
 * The page's two SVG charts, redrawn from a ConvergenceTrace on each animation frame that has
 * new data (a run has at most a few thousand points, so redrawing from scratch stays cheap and
 * keeps the code free of incremental bookkeeping):
 *   bound:    how far the bound was from where the run ended, |L(t) − L_final| / L_final, on a
 *             log scale against seconds: certified bounds solid (steps), uncertified optimiser
 *             estimates dashed; the phase boundaries as labelled vertical lines;
 *   interval: one row each for the empirical lower bound, the certified bound, the closed-form
 *             bound and the naive bound on a log axis, with the interval where L lies shaded.
 * The viewBox is 600 units wide and text is 13–14 units, so at a 600 px wide page text stays at
 * about 12 px or more.
 */
import { ConvergenceTrace, extent, linearTicks, logTicks, logTicks125, pathData, scale, stepped, type Point } from './trace.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 600;
const M = { left: 62, right: 14 };

/** Labels of the phases whose start the bound chart marks with a labelled line. */
const PHASE_LABEL: Readonly<Record<string, string>> = {
  refine: 'f64 optimiser',
  certify: 'certify',
};

class Canvas {
  constructor(private readonly svg: SVGSVGElement, height: number) {
    svg.setAttribute('viewBox', `0 0 ${W} ${height}`);
    svg.replaceChildren();
  }

  line(x1: number, y1: number, x2: number, y2: number, cls: string): void {
    this.el('line', { x1, y1, x2, y2, class: cls });
  }

  text(x: number, y: number, s: string, cls: string, anchor?: 'start' | 'middle' | 'end'): void {
    const e = this.el('text', { x, y, class: cls, ...(anchor ? { 'text-anchor': anchor } : {}) });
    e.textContent = s;
  }

  path(d: string, cls: string): void {
    this.el('path', { d, class: cls });
  }

  el(tag: string, attrs: Record<string, string | number>): SVGElement {
    const e = document.createElementNS(NS, tag) as SVGElement;
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, typeof v === 'number' ? v.toFixed(1) : v);
    this.svg.appendChild(e);
    return e;
  }

  /** A marker of a given shape at (x, y) (shapes tell series apart without colour). */
  marker(shape: 'circle' | 'square' | 'triangle' | 'diamond' | 'bar', x: number, y: number, cls: string, size = 4): void {
    const s = size;
    if (shape === 'circle') this.el('circle', { cx: x, cy: y, r: s, class: cls });
    else if (shape === 'square') this.el('rect', { x: x - s, y: y - s, width: 2 * s, height: 2 * s, class: cls });
    else if (shape === 'triangle') this.path(`M${x},${y - s * 1.2}L${x + s * 1.1},${y + s * 0.8}L${x - s * 1.1},${y + s * 0.8}Z`, cls);
    else if (shape === 'diamond') this.path(`M${x},${y - s * 1.3}L${x + s},${y}L${x},${y + s * 1.3}L${x - s},${y}Z`, cls);
    else this.el('rect', { x: x - 2, y: y - s * 1.8, width: 4, height: s * 3.6, class: cls });
  }

  /** Legend entries in rows (wrapping) starting at y: a line sample, then the label. */
  legend(y: number, entries: readonly { cls: string; label: string }[]): number {
    let x = M.left;
    for (const e of entries) {
      const w = 34 + e.label.length * 7 + 16;
      if (x + w > W - M.right && x > M.left) {
        x = M.left;
        y += 18;
      }
      this.line(x, y - 5, x + 26, y - 5, `series ${e.cls}`);
      this.text(x + 32, y, e.label, 'legend');
      x += w;
    }
    return y;
  }

  xAxisTime(sx: (v: number) => number, tMax: number, y: number): void {
    this.line(M.left, y, W - M.right, y, 'axis');
    for (const v of linearTicks(0, tMax, 6)) {
      this.line(sx(v), y, sx(v), y + 4, 'axis');
      this.text(sx(v), y + 17, fmtTick(v), 'tick-x', 'middle');
    }
    this.text((M.left + W - M.right) / 2, y + 35, 'time since Run (s)', 'axis-label', 'middle');
  }

  yAxisLog(sy: (v: number) => number, lo: number, hi: number, label: string, y0: number, y1: number): void {
    this.line(M.left, y0, M.left, y1, 'axis');
    for (const v of logTicks(lo, hi)) {
      if (v < lo || v > hi) continue;
      this.line(M.left, sy(v), W - M.right, sy(v), 'grid');
      this.text(M.left - 6, sy(v) + 4, expTick(v), 'tick-y', 'end');
    }
    // Rotated label along the axis.
    const e = this.el('text', { x: 0, y: 0, class: 'axis-label', 'text-anchor': 'middle', transform: `translate(14 ${((y0 + y1) / 2).toFixed(1)}) rotate(-90)` });
    e.textContent = label;
  }
}

export class ChartSet {
  private scheduled = false;

  constructor(
    private readonly svgs: { readonly bound: SVGSVGElement; readonly interval: SVGSVGElement },
    private trace: ConvergenceTrace,
  ) {
    this.draw();
  }

  reset(trace: ConvergenceTrace): void {
    this.trace = trace;
    this.update();
  }

  /** Schedule a redraw on the next animation frame (progress events arrive far faster). */
  update(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.draw();
    });
  }

  /** Redraw now (tests and screenshots need the final state without waiting for a frame). */
  draw(): void {
    drawBound(this.svgs.bound, this.trace);
    drawInterval(this.svgs.interval, this.trace);
  }
}

/** Panel geometry: title, legend, plotting area y0..y1, x axis below. */
const BOUND = { h: 320, title: 18, legend: 42, note: 64, y0: 84, y1: 260 };

function drawBound(svg: SVGSVGElement, t: ConvergenceTrace): void {
  const c = new Canvas(svg, BOUND.h);
  c.text(M.left, BOUND.title, 'Bound convergence: distance to the final bound (log scale)', 'title');
  const tMax = Math.max(t.lastT, 1);
  const sx = scale([0, tMax], [M.left, W - M.right]);
  c.xAxisTime(sx, tMax, BOUND.y1);
  const cert = t.relativeGap(stepped(t.certified));
  const est = t.relativeGap(t.estimates);
  const ref = t.reference;
  const refName = t.final !== null ? 'final certified L' : t.bestCertified !== null ? 'best certified L so far' : 'latest estimate';
  if (ref === null) {
    c.text((M.left + W - M.right) / 2, (BOUND.y0 + BOUND.y1) / 2, t.samples.length === 0 ? 'Run a model to see its bound converge' : 'No bound yet', 'placeholder', 'middle');
    svg.setAttribute('aria-label', 'Bound convergence chart: no bound yet');
    return;
  }
  const ext = extent([cert, est]);
  const [lo, hi] = ext ? [Math.max(ext[0] / 2, 1e-9), ext[1] * 2] : [1e-6, 1];
  const sy = scale([lo, hi], [BOUND.y1, BOUND.y0], true);
  c.yAxisLog(sy, lo, hi, `|L − ref| / ref`, BOUND.y0, BOUND.y1);
  phaseLines(c, t, sx, BOUND.y0, BOUND.y1);
  series(c, est, sx, sy, 'estimate');
  // The final certified bound is the reference (distance 0, below any log axis): the certified
  // line drops to the axis floor when it arrives, and says so.
  const finalPt = t.final !== null ? t.certified[t.certified.length - 1] : undefined;
  const certDrawn = finalPt && cert.length > 0 ? [...cert, { x: finalPt.x, y: cert[cert.length - 1]!.y }, { x: finalPt.x, y: lo }] : cert;
  series(c, certDrawn, sx, sy, 'certified');
  if (finalPt) {
    c.marker('circle', sx(finalPt.x), sy(lo), 'point certified', 5);
    c.text(sx(finalPt.x) - 8, sy(lo) - 8, 'final', 'note', 'end');
  }
  const entries = [{ cls: 'certified', label: 'certified bound (f64)' }];
  if (t.estimates.length > 0) entries.push({ cls: 'estimate', label: 'optimiser estimate (not certified)' });
  const legendEnd = c.legend(BOUND.legend, entries);
  c.text(M.left, Math.max(BOUND.note, legendEnd + 20), `ref = ${refName} = ${ref.toPrecision(6)}; points equal to ref are not drawn`, 'note');
  if (ext === null) c.text((M.left + W - M.right) / 2, (BOUND.y0 + BOUND.y1) / 2, 'every bound so far equals the reference', 'placeholder', 'middle');
  svg.setAttribute(
    'aria-label',
    `Bound convergence chart: ${t.certified.length} certified points and ${t.estimates.length} estimates over ${tMax.toFixed(1)} s; reference ${refName} ${ref.toPrecision(6)}.`,
  );
}

const IV = { h: 230, title: 18, row0: 60, rowH: 30, axisPad: 14, labelW: 210 };

function drawInterval(svg: SVGSVGElement, t: ConvergenceTrace): void {
  const c = new Canvas(svg, IV.h);
  c.text(M.left, IV.title, 'Where L lies: lower and upper bounds (log scale)', 'title');
  const upper = t.final ?? t.bestCertified;
  const rows: { label: string; v: number | null; cls: string; shape: 'circle' | 'square' | 'triangle' | 'diamond' | 'bar'; missing: string }[] = [
    { label: 'empirical lower bound', v: t.lowerBound, cls: 'lower', shape: 'triangle', missing: 'after the run' },
    { label: t.final !== null ? 'certified upper bound' : 'certified so far', v: upper, cls: 'certified', shape: 'bar', missing: 'none yet' },
    { label: 'closed-form multipliers', v: t.closedFormBound, cls: 'closed', shape: 'diamond', missing: 'not in this report' },
    { label: 'naive (norm product)', v: t.naiveBound, cls: 'naive', shape: 'square', missing: 'not available' },
  ];
  const vals = rows.map((r) => r.v).filter((v): v is number => v !== null && Number.isFinite(v) && v > 0);
  const x0 = IV.labelW;
  const x1 = W - M.right - 60;
  const axisY = IV.row0 + rows.length * IV.rowH - IV.rowH / 2 + IV.axisPad;
  if (vals.length === 0) {
    c.text(W / 2, IV.row0 + 40, 'Bounds appear here as the run produces them', 'placeholder', 'middle');
    svg.setAttribute('aria-label', 'Bounds chart: no bounds yet');
    return;
  }
  const lo = Math.min(...vals) / 1.15;
  const hi = Math.max(...vals) * 1.15;
  const sx = scale([lo, hi], [x0, x1], true);
  if (t.lowerBound !== null && upper !== null && upper >= t.lowerBound) {
    c.el('rect', { x: sx(t.lowerBound), y: IV.row0 - IV.rowH / 2, width: Math.max(sx(upper) - sx(t.lowerBound), 1), height: rows.length * IV.rowH, class: 'band' });
    c.text((sx(t.lowerBound) + sx(upper)) / 2, IV.row0 - IV.rowH / 2 - 4, 'L lies here', 'note', 'middle');
  }
  rows.forEach((r, i) => {
    const y = IV.row0 + i * IV.rowH;
    c.text(x0 - 10, y + 5, r.label, 'row-label', 'end');
    c.line(x0, y, x1, y, 'grid');
    if (r.v !== null && Number.isFinite(r.v) && r.v > 0) {
      c.marker(r.shape, sx(r.v), y, `point ${r.cls}`, 6);
      c.text(sx(r.v) + 11, y + 5, r.v.toPrecision(5), 'value');
    } else c.text(x0 + 6, y + 5, r.missing, 'missing');
  });
  c.line(x0, axisY, x1, axisY, 'axis');
  // Within a decade round linear steps label the axis better than 1-2-5 (e.g. 20, 25, 30, 35).
  const ticks = hi / lo < 10 ? linearTicks(lo, hi, 5) : Math.log10(hi / lo) < 1.5 ? logTicks125(lo, hi) : logTicks(lo, hi).filter((v) => v >= lo && v <= hi);
  for (const v of ticks) {
    c.line(sx(v), axisY, sx(v), axisY + 4, 'axis');
    c.text(sx(v), axisY + 17, fmtTick(v), 'tick-x', 'middle');
  }
  c.text((x0 + x1) / 2, axisY + 35, 'ℓ2 Lipschitz constant (output units per input unit)', 'axis-label', 'middle');
  svg.setAttribute('aria-label', `Bounds chart: ${rows.map((r) => `${r.label} ${r.v !== null && Number.isFinite(r.v) ? r.v.toPrecision(6) : r.missing}`).join('; ')}.`);
}

function phaseLines(c: Canvas, t: ConvergenceTrace, sx: (v: number) => number, y0: number, y1: number): void {
  let lastLabelEnd = -Infinity;
  for (const p of t.phases) {
    if (p.phase === 'done' || p.phase === 'import') continue;
    const x = sx(p.t);
    c.line(x, y0, x, y1, 'phase-split');
    // Only the optimiser and the certificate are labelled (the short set-up phases before them
    // would overprint); a label that would run off the right edge is drawn to the left of its line.
    const label = PHASE_LABEL[p.phase];
    if (label === undefined) continue;
    const w = label.length * 7;
    const right = x + 3 + w <= W - M.right;
    const start = right ? x + 3 : x - 3 - w;
    if (start < lastLabelEnd + 4) continue;
    c.text(right ? x + 3 : x - 3, y0 + 12, label, 'phase-label', right ? 'start' : 'end');
    lastLabelEnd = start + w;
  }
}

function series(c: Canvas, points: readonly Point[], sx: (v: number) => number, sy: (v: number) => number, cls: string): void {
  if (points.length === 0) return;
  // A lone point still shows as a short stub (a zero-length path draws nothing).
  c.path(points.length === 1 ? `${pathData(points, sx, sy)}h3` : pathData(points, sx, sy), `series ${cls}`);
}

function fmtTick(v: number): string {
  return String(Number(v.toPrecision(4)));
}

function expTick(v: number): string {
  const k = Math.round(Math.log10(v));
  return k >= -2 && k <= 2 ? String(Number(v.toPrecision(3))) : `1e${k}`;
}
