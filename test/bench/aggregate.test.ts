import { describe, expect, it } from 'vitest';
import { fastestPeer, groupByNetwork, headline, methodTimeMs, ratioTo, referenceFor, spread } from '../../bench/aggregate.js';
import { net, run } from './synthetic.js';

describe('referenceFor', () => {
  it('is the smallest optimal interior-point value, whatever the formulation', () => {
    const ref = referenceFor([
      run('a', 'lipdp-cpu', { bound: 10.001 }),
      run('a', 'dsdp-neuron', { bound: 10.0002 }),
      run('a', 'csdp-layered', { bound: 10.0 }),
      run('a', 'csdp-neuron', { bound: 9.9, certStatus: 'inaccurate' }),
    ]);
    expect(ref).toEqual({ value: 10.0, source: 'csdp-layered', interiorPoint: true });
  });

  it('uses an inaccurate optimum only when no optimal one exists', () => {
    const ref = referenceFor([run('a', 'lipdp-cpu', { bound: 11 }), run('a', 'dsdp-neuron', { bound: 10.5, certStatus: 'inaccurate' })]);
    expect(ref).toEqual({ value: 10.5, source: 'dsdp-neuron', interiorPoint: true });
  });

  it("falls back to lipdp's own bound when no peer finished (timeout, too large, failed)", () => {
    const ref = referenceFor([
      run('a', 'lipdp-cpu', { bound: 11 }),
      run('a', 'lipdp-webgpu', { bound: 11.2 }),
      run('a', 'dsdp-neuron', { status: 'timeout' }),
      run('a', 'dsdp-layered', { status: 'skipped', message: 'too large (m = 9999 variables > 1500)' }),
      run('a', 'csdp-neuron', { status: 'failed', message: 'csdp: infeasible' }),
    ]);
    expect(ref).toEqual({ value: 11, source: 'lipdp-cpu', interiorPoint: false });
  });

  it('is undefined when nothing produced a bound (unsupported network)', () => {
    expect(referenceFor([run('a', 'lipdp-cpu', { status: 'unsupported', message: 'conv' }), run('a', 'dsdp-neuron', { status: 'unsupported' })])).toBeUndefined();
  });
});

describe('ratios and times', () => {
  it('ratio to the reference; none for runs without a bound', () => {
    const ref = { value: 8, source: 'dsdp-neuron', interiorPoint: true };
    expect(ratioTo(run('a', 'lipdp-cpu', { bound: 8.004 }), ref)).toBeCloseTo(1.0005, 12);
    expect(ratioTo(run('a', 'lipdp-cpu', { status: 'timeout' }), ref)).toBeUndefined();
    expect(ratioTo(run('a', 'lipdp-cpu', { bound: 8 }), undefined)).toBeUndefined();
  });

  it('method time is build + solve + certify, and undefined unless ok', () => {
    expect(methodTimeMs(run('a', 'lipdp-cpu', { timeMs: 2000 }))).toBeCloseTo(2000, 9);
    expect(methodTimeMs(run('a', 'dsdp-neuron', { timeMs: 3000 }))).toBeCloseTo(3000, 9);
    expect(methodTimeMs(run('a', 'dsdp-neuron', { status: 'timeout' }))).toBeUndefined();
  });

  it('fastestPeer picks the quicker finished formulation of one solver', () => {
    const runs = [run('a', 'dsdp-neuron', { timeMs: 3000 }), run('a', 'dsdp-layered', { timeMs: 2000 }), run('a', 'csdp-neuron', { timeMs: 100 })];
    expect(fastestPeer(runs, 'dsdp')?.method).toBe('dsdp-layered');
    expect(fastestPeer([run('a', 'dsdp-neuron', { status: 'timeout' })], 'dsdp')).toBeUndefined();
  });

  it('spread: median of odd and even counts, min, max', () => {
    expect(spread([3, 1, 2])).toEqual({ n: 3, median: 2, min: 1, max: 3 });
    expect(spread([4, 1, 2, 3])).toEqual({ n: 4, median: 2.5, min: 1, max: 4 });
    expect(spread([])).toBeUndefined();
  });
});

describe('headline', () => {
  const networks = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => net(n));
  const results = [
    // a: within 0.1 %, lipdp 4× faster than DSDP, 2× faster than CSDP
    run('a', 'lipdp-cpu', { bound: 10.005, timeMs: 1000 }),
    run('a', 'dsdp-neuron', { bound: 10, timeMs: 4000 }),
    run('a', 'csdp-neuron', { bound: 10.00001, timeMs: 2000 }),
    // b: within 0.5 % only; lipdp slower than DSDP
    run('b', 'lipdp-cpu', { bound: 10.3, timeMs: 1000 }),
    run('b', 'dsdp-neuron', { bound: 10.26, timeMs: 500 }),
    // c: 1 % off
    run('c', 'lipdp-cpu', { bound: 10.1, timeMs: 1000 }),
    run('c', 'csdp-layered', { bound: 10, timeMs: 8000 }),
    // d: peers timed out: no reference, counts as a peer timeout
    run('d', 'lipdp-cpu', { bound: 5, timeMs: 1000 }),
    run('d', 'dsdp-neuron', { status: 'timeout' }),
    // e: unsupported everywhere
    run('e', 'lipdp-cpu', { status: 'unsupported', message: "layer 'conv' (conv2d) …" }),
    run('e', 'dsdp-neuron', { status: 'unsupported' }),
    // f: lipdp crashed, DSDP fine
    run('f', 'lipdp-cpu', { status: 'failed', message: 'killed by SIGKILL' }),
    run('f', 'dsdp-neuron', { bound: 3 }),
  ];
  const h = headline(groupByNetwork(networks, results), 'lipdp-cpu');

  it('counts networks within 0.1 % and 0.5 % of the interior-point optimum', () => {
    expect(h.compared).toBe(3);
    expect(h.within01).toBe(1);
    expect(h.within05).toBe(2);
    expect(h.worstRatio).toBeCloseTo(1.01, 12);
  });

  it('counts lipdp statuses', () => {
    expect(h.lipdpStatus).toEqual({ ok: 4, unsupported: 1, failed: 1 });
  });

  it('speed ratio peer/lipdp with median and range; timeouts and slower networks listed', () => {
    expect(h.dsdp.ratio).toEqual({ n: 2, median: 2.25, min: 0.5, max: 4 });
    expect(h.dsdp.peerTimeouts).toBe(1);
    expect(h.dsdp.lipdpSlower).toEqual(['b']);
    expect(h.csdp.ratio).toEqual({ n: 2, median: 5, min: 2, max: 8 });
    expect(h.csdp.lipdpSlower).toEqual([]);
  });
});
