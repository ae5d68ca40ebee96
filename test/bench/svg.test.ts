import { describe, expect, it } from 'vitest';
import { escapeXml, formatTick, makeAxis, renderChart, scale } from '../../bench/svg.js';
import { boundVsTimeChart, renderPlots, scalingChart } from '../../bench/plots.js';
import { groupByNetwork } from '../../bench/aggregate.js';
import { checkWellFormed } from './xml.js';
import { net, run } from './synthetic.js';

describe('log axes', () => {
  it('multi-decade data get ticks at powers of ten, equally spaced', () => {
    const ax = makeAxis([0.02, 3, 450], true);
    expect(ax.lo).toBe(0.01);
    expect(ax.hi).toBe(1000);
    expect(ax.ticks).toEqual([0.01, 0.1, 1, 10, 100, 1000]);
    const pos = ax.ticks.map((t) => scale(ax, t, 500));
    for (let i = 1; i < pos.length; i++) expect(pos[i]! - pos[i - 1]!).toBeCloseTo(100, 9);
  });

  it('data inside one decade get 1-2-5 (or finer) ticks inside the range', () => {
    const ax = makeAxis([27.9, 28.0, 38.5, 15.9], true);
    expect(ax.ticks.length).toBeGreaterThanOrEqual(2);
    for (const t of ax.ticks) expect(t >= ax.lo && t <= ax.hi).toBe(true);
    expect(ax.lo).toBeLessThan(15.9);
    expect(ax.hi).toBeGreaterThan(38.5);
  });

  it('ignores non-positive values on a log axis and survives empty or constant data', () => {
    expect(makeAxis([0, -1, 10, 1000], true).lo).toBe(10);
    expect(makeAxis([], true).ticks.length).toBeGreaterThan(1);
    const c = makeAxis([5, 5], true);
    expect(c.lo).toBeLessThan(5);
    expect(c.hi).toBeGreaterThan(5);
  });

  it('formats ticks briefly', () => {
    expect(formatTick(1000)).toBe('1000');
    expect(formatTick(1e5)).toBe('1e5');
    expect(formatTick(2.5e-5)).toBe('2.5e-5');
    expect(formatTick(0.5)).toBe('0.5');
  });
});

describe('renderChart', () => {
  const chart = renderChart({
    title: 'A & B <test>',
    xLabel: 'time [s]',
    yLabel: 'L',
    xLog: true,
    yLog: true,
    panels: [
      { title: 'net "one"', series: [{ label: 'lipdp-cpu', points: [{ x: 0.5, y: 28 }] }, { label: 'dsdp-neuron', points: [{ x: 30, y: 27.9 }] }], refLines: [{ label: 'naive', y: 38 }] },
      { title: 'net two', series: [{ label: 'lipdp-cpu', points: [{ x: 1, y: 2 }, { x: 10, y: 20 }], line: true }] },
    ],
  });

  it('is well-formed SVG with escaped text', () => {
    expect(checkWellFormed(chart)).toEqual([]);
    expect(chart).toContain('A &amp; B &lt;test&gt;');
    expect(chart).toContain('net &quot;one&quot;');
    expect(escapeXml('<&>"')).toBe('&lt;&amp;&gt;&quot;');
  });

  it('draws markers, lines, dashed reference lines and one legend entry per label', () => {
    expect((chart.match(/<circle /g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(chart).toMatch(/<path d="M[\d.]+,[\d.]+L/);
    expect(chart).toContain('stroke-dasharray');
    for (const label of ['lipdp-cpu', 'dsdp-neuron', 'naive']) expect(chart.split(`>${label}</text>`).length - 1).toBe(1);
  });

  it('an empty chart is still well-formed', () => {
    const svg = renderChart({ title: 't', xLabel: 'x', yLabel: 'y', xLog: true, yLog: true, panels: [] });
    expect(checkWellFormed(svg)).toEqual([]);
    expect(svg).toContain('no data');
  });

  it('the checker itself rejects broken XML', () => {
    expect(checkWellFormed('<svg><g></svg>')).not.toEqual([]);
    expect(checkWellFormed('<svg><text>a & b</text></svg>')).not.toEqual([]);
  });
});

describe('benchmark figures from synthetic results', () => {
  const networks = [
    net('mnist_relu_3_50'),
    net('cnn_x', { suite: 'cifar10' }),
    ...[3, 17, 33].flatMap((L) => [16, 32].map((W) => net(`mlp_L${L}_W${W}`, { suite: 'glipsdp', family: 'mlp', depth: L, width: W }))),
  ];
  const results = [
    run('mnist_relu_3_50', 'lipdp-cpu', { bound: 27.97, timeMs: 9000 }),
    run('mnist_relu_3_50', 'dsdp-neuron', { bound: 27.96, timeMs: 30000 }),
    run('mnist_relu_3_50', 'csdp-layered', { status: 'timeout' }),
    run('cnn_x', 'lipdp-cpu', { status: 'unsupported', message: 'conv' }),
    ...[3, 17, 33].flatMap((L) => [16, 32].flatMap((W) => [
      run(`mlp_L${L}_W${W}`, 'lipdp-cpu', { bound: L, timeMs: 100 * L * W }),
      run(`mlp_L${L}_W${W}`, 'dsdp-neuron', L < 33 ? { bound: L, timeMs: 1000 * L * W } : { status: 'skipped', message: 'too large' }),
    ])),
  ];
  const rows = groupByNetwork(networks, results);

  it('bound vs time: one panel per network with a bound, with naive/closed-form/lower lines', () => {
    const spec = boundVsTimeChart(rows);
    expect(spec.panels.map((p) => p.title)).toEqual(['mnist_relu_3_50', ...networks.slice(2).map((n) => n.name)]);
    expect(spec.panels[0]!.refLines!.map((r) => r.label)).toEqual(['naive', 'closed-form', 'lower']);
    expect(spec.xLog && spec.yLog).toBe(true);
  });

  it('time vs depth: one panel per width, one line per method, finished runs only', () => {
    const spec = scalingChart(rows, 'mlp', 'depth')!;
    expect(spec.panels.map((p) => p.title)).toEqual(['mlp W=16', 'mlp W=32']);
    const dsdp = spec.panels[0]!.series.find((s) => s.label === 'dsdp-neuron')!;
    expect(dsdp.points.map((p) => p.x)).toEqual([3, 17]);
    expect(scalingChart(rows, 'cnn', 'depth')).toBeUndefined();
  });

  it('renderPlots writes well-formed SVGs for the figures the data support', () => {
    const plots = renderPlots(networks, results);
    expect([...plots.keys()].sort()).toEqual(['bound_vs_time.svg', 'glipsdp_mlp_time_vs_depth.svg', 'glipsdp_mlp_time_vs_width.svg']);
    for (const [name, svg] of plots) expect(checkWellFormed(svg), name).toEqual([]);
  });
});
