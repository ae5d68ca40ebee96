/**
 * Live SVG plot of a ConvergenceTrace, in two panels sharing the x axis (ADMM iterations, then
 * the f64 refinement's iterations):
 *   top:    primal and dual residuals, log scale;
 *   bottom: best certified bound (solid), refinement estimates (dashed, labelled uncertified),
 *           the final certified bound and the empirical lower bound (horizontal lines).
 * Redrawn from scratch on each animation frame that has new data; a run has at most a few
 * thousand points, so this stays cheap and keeps the code free of incremental bookkeeping.
 */
import { ConvergenceTrace, extent, linearTicks, logTicks, pathData, scale, type Point } from './trace.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 720;
const H = 486;
const M = { left: 64, right: 16 };
/** Panel frames: title baseline, first legend row (room for two), then the plotting area y0..y1. */
const TOP = { title: 16, legend: 34, y0: 60, y1: 196 };
const BOTTOM = { title: 256, legend: 274, y0: 300, y1: 436 };
/** Approximate advance of the 11px legend font, for laying out legend entries in a row. */
const LEGEND_CHAR_PX = 6.1;

export class ConvergencePlot {
  private scheduled = false;

  constructor(
    private readonly svg: SVGSVGElement,
    private trace: ConvergenceTrace,
  ) {
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
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

  private draw(): void {
    const t = this.trace;
    this.svg.replaceChildren();
    this.text(M.left, TOP.title, 'Residuals (ADMM, log scale)', 'title');
    this.text(M.left, BOTTOM.title, 'Upper bound on L', 'title');
    if (t.empty) this.text(W / 2, (TOP.y0 + TOP.y1) / 2, 'Run a model to see the solver converge', 'placeholder');

    // Top: residuals against ADMM iterations only (they are reported every few iterations).
    const sxAdmm = scale([0, Math.max(t.admmEnd, 10)], [M.left, W - M.right]);
    this.xAxis(sxAdmm, Math.max(t.admmEnd, 10), TOP.y1, 'ADMM iteration');
    const res = extent([t.primal, t.dual]);
    if (res) {
      const [lo, hi] = [res[0] / 1.5, res[1] * 1.5];
      const sy = scale([lo, hi], [TOP.y1, TOP.y0], true);
      for (const v of logTicks(lo, hi)) if (v >= lo && v <= hi) this.yTick(sy(v), v.toExponential(0));
      this.series(t.primal, sxAdmm, sy, 'primal', true);
      this.series(t.dual, sxAdmm, sy, 'dual', true);
      this.legend(TOP.legend, [
        ['primal', 'primal residual'],
        ['dual', 'dual residual'],
      ]);
    }

    // Bottom: bounds against ADMM iterations followed by the refinement's iterations.
    const xMax = Math.max(t.lastX(), 10);
    const sx = scale([0, xMax], [M.left, W - M.right]);
    this.xAxis(sx, xMax, BOTTOM.y1, t.estimates.length > 0 ? 'iteration (ADMM, then f64 refinement)' : 'ADMM iteration');
    if (t.estimates.length > 0) {
      const xb = sx(t.admmEnd);
      this.line(xb, BOTTOM.y0, xb, BOTTOM.y1, 'phase-split');
      this.text(xb + 4, BOTTOM.y1 - 6, 'f64 refinement →', 'note');
    }
    const bnd = extent([t.certified, t.estimates], [t.lowerBound, t.final]);
    if (bnd) {
      const pad = (bnd[1] - bnd[0]) * 0.08 || bnd[1] * 0.05;
      const [lo, hi] = [bnd[0] - pad, bnd[1] + pad];
      const sy = scale([lo, hi], [BOTTOM.y1, BOTTOM.y0]);
      for (const v of linearTicks(lo, hi, 4)) this.yTick(sy(v), String(Number(v.toPrecision(4))));
      this.series(t.estimates, sx, sy, 'estimate', false);
      this.series(stepped(t.certified), sx, sy, 'certified', false);
      if (t.final !== null) this.line(M.left, sy(t.final), W - M.right, sy(t.final), 'final');
      if (t.lowerBound !== null) this.line(M.left, sy(t.lowerBound), W - M.right, sy(t.lowerBound), 'lower');
      const entries: [string, string][] = [['certified', 'best certified bound (f64)']];
      if (t.estimates.length > 0) entries.push(['estimate', 'refinement estimate (not certified)']);
      if (t.final !== null) entries.push(['final', `final certified L = ${t.final.toPrecision(6)}`]);
      if (t.lowerBound !== null) entries.push(['lower', `empirical lower bound = ${t.lowerBound.toPrecision(6)}`]);
      this.legend(BOTTOM.legend, entries);
    }
  }

  private xAxis(sx: (v: number) => number, xMax: number, y: number, label: string): void {
    this.line(M.left, y, W - M.right, y, 'axis');
    for (const v of linearTicks(0, xMax, 6)) {
      if (!Number.isInteger(v)) continue;
      this.line(sx(v), y, sx(v), y + 4, 'axis');
      this.text(sx(v), y + 15, String(v), 'tick-x');
    }
    this.text((M.left + W - M.right) / 2, y + 30, label, 'axis-label');
  }

  private yTick(y: number, label: string): void {
    this.line(M.left, y, W - M.right, y, 'grid');
    this.text(M.left - 6, y + 4, label, 'tick-y');
  }

  /** Legend entries in a row (wrapping), above the panel's plotting area. */
  private legend(y0: number, entries: readonly [string, string][]): void {
    let x = M.left;
    let y = y0;
    for (const [cls, label] of entries) {
      const w = 30 + label.length * LEGEND_CHAR_PX + 18;
      if (x + w > W - M.right && x > M.left) {
        x = M.left;
        y += 14;
      }
      this.line(x, y - 4, x + 22, y - 4, cls);
      this.text(x + 28, y, label, 'legend');
      x += w;
    }
  }

  private series(points: readonly Point[], sx: (v: number) => number, sy: (v: number) => number, cls: string, markers: boolean): void {
    if (points.length === 0) return;
    // A lone point still shows as a short stub (a zero-length path draws nothing).
    this.el('path', { d: points.length === 1 ? `${pathData(points, sx, sy)}h2` : pathData(points, sx, sy), class: `series ${cls}` });
    if (markers) for (const p of points) this.el('circle', { cx: sx(p.x), cy: sy(p.y), r: 2.5, class: `marker ${cls}` });
  }

  private line(x1: number, y1: number, x2: number, y2: number, cls: string): void {
    this.el('line', { x1, y1, x2, y2, class: cls });
  }

  private text(x: number, y: number, s: string, cls: string): void {
    this.el('text', { x, y, class: cls }).textContent = s;
  }

  private el(tag: string, attrs: Record<string, string | number>): SVGElement {
    const e = document.createElementNS(NS, tag) as SVGElement;
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, typeof v === 'number' ? v.toFixed(1) : v);
    this.svg.appendChild(e);
    return e;
  }
}

/** A best-so-far series drawn as steps: the bound holds until the next improvement. */
function stepped(points: readonly Point[]): Point[] {
  const out: Point[] = [];
  for (const p of points) {
    const prev = out[out.length - 1];
    if (prev && prev.y !== p.y) out.push({ x: p.x, y: prev.y });
    out.push(p);
  }
  return out;
}
