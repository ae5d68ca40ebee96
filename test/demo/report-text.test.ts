/** The report's rows and summary (demo/src/report-text.ts): every network kind, never NaN. */
import { describe, expect, it } from 'vitest';
import { reportRows, summaryParagraph, timingsText, type RunContext } from '../../demo/src/report-text.js';
import type { LipschitzReport } from '../../src/report/types.js';

const ctx: RunContext = { backendReason: 'Auto chose the CPU backend: software adapter.', admmLimitS: 15, optimiserLimitS: 60, optimiserSeconds: 3, wallSeconds: 5 };

/** A conv-net report as the library returns it: NaN residuals, no ADMM, an infinite naive bound. */
const conv: LipschitzReport = {
  schemaVersion: 1,
  lipdpVersion: '0.1.0',
  model: 'cnn_tiny.onnx',
  upperBound: 14.48,
  status: 'certified',
  lowerBound: 1.92,
  naiveBound: Infinity,
  backend: 'webgpu',
  solverPrecision: 'f32',
  adapter: { vendor: 'google', architecture: 'swiftshader' },
  timings: { import: 12, bounds: 560, build: 280, solve: 3100, certify: 60, total: 4100 },
  solver: { iterations: 0, primalResidual: NaN, dualResidual: NaN, status: 'f64-optimiser', refineIterations: 3200, lmiSizes: [15, 32, 64], bufferBytes: 0 },
  certificate: { precision: 'f64', source: 'solver', rhoInterval: [209.5, 209.6], closedFormBound: null },
  network: { source: 'cnn_tiny.onnx', inputSize: 64, outputSize: 10, layers: ['conv 1→4 k3x3 s1', 'relu [0,1]'] },
  formulation: 'unrolled',
  notices: ['the unrolled formulation is optimised in f64 on the CPU; the backend was not used'],
};

describe('report text', () => {
  it('names the optimiser and the arithmetic of a conv net, without NaN or Infinity', () => {
    const rows = reportRows(conv, ctx);
    const text = rows.map((r) => `${r.label} ${r.text}`).join('\n') + summaryParagraph(conv, ctx);
    expect(text).not.toMatch(/NaN|Infinity|undefined/);
    const row = (id: string) => rows.find((r) => r.id === id)!.text;
    expect(row('optimiser')).toMatch(/^f64 multiplier optimiser, 3200 iterations/);
    expect(row('backend-used')).toMatch(/all f64 on the CPU \(the WebGPU backend was selected but this formulation does not use it\)/);
    expect(row('naive-bound')).toBe('not available for this network');
    expect(row('closed-form-bound')).toBe('not computed for this network');
    expect(rows.find((r) => r.id === 'naive-bound')!.value).toBeNull();
  });

  it('says when the optimiser ran out its time limit', () => {
    const rows = reportRows({ ...conv, solver: { ...conv.solver, status: 'time_limit' } }, { ...ctx, optimiserLimitS: 3, optimiserSeconds: 2.99 });
    expect(rows.find((r) => r.id === 'time-limit-used')!.text).toMatch(/stopped on it/);
  });

  it('lists phase times that add up to the total', () => {
    expect(timingsText(conv)).toBe('import 12 ms · bounds 560 ms · build 280 ms · optimiser 3100 ms · certify 60 ms · other (backend setup, naive bound, blends) 88 ms · total 4100 ms');
  });

  it('describes a dense chain run by ADMM', () => {
    const fc: LipschitzReport = {
      ...conv,
      backend: 'cpu',
      solverPrecision: 'f64',
      naiveBound: 31.5,
      formulation: 'fc',
      solver: { ...conv.solver, iterations: 200, primalResidual: 6.3e-3, dualResidual: 1.5e-2, status: 'time_limit', refineIterations: 1366 },
      notices: [],
    };
    const rows = reportRows(fc, ctx);
    expect(rows.find((r) => r.id === 'optimiser')!.text).toBe(
      'ADMM, 200 iterations (stopped: time limit), final residuals primal 6.30e-3 / dual 1.50e-2; then the f64 refinement of its multipliers, 1366 iterations',
    );
    expect(rows.find((r) => r.id === 'time-limit-used')!.text).toBe('60 s for the whole solve (the solve stopped on it: a longer limit may give a tighter bound)');
    expect(summaryParagraph(fc, ctx)).toMatch(/^For cnn_tiny.onnx .* lipdp certified an upper bound L ≤ 14.48000 /);
  });
});
