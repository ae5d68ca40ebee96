/** The report's rows and summary (demo/src/report-text.ts): every network kind, never NaN. */
import { describe, expect, it } from 'vitest';
import { reportRows, summaryParagraph, timingsText, type RunContext } from '../../demo/src/report-text.js';
import type { LipschitzReport } from '../../src/report/types.js';

const ctx: RunContext = { backendReason: 'Auto chose the CPU backend: software adapter.', timeLimitS: 60, optimiserSeconds: 3, wallSeconds: 5 };

/**
 * A report as the library returns it for every network kind: solver.iterations 0, NaN
 * primal/dual residuals (fields the report still has, which the page must not print), an
 * infinite naive bound.
 */
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
    expect(text).not.toMatch(/NaN|Infinity|undefined|residual/);
    const row = (id: string) => rows.find((r) => r.id === id)!.text;
    expect(row('optimiser')).toBe('f64 multiplier optimiser, 3200 iterations');
    expect(rows.find((r) => r.id === 'optimiser')!.value).toBe(3200);
    expect(row('backend-used')).toMatch(/all f64 on the CPU \(the WebGPU backend was selected but this formulation does not use it\)/);
    expect(row('naive-bound')).toBe('not available for this network');
    expect(row('closed-form-bound')).toBe('not computed for this network');
    expect(rows.find((r) => r.id === 'naive-bound')!.value).toBeNull();
  });

  it('says when the optimiser ran out its time limit', () => {
    const rows = reportRows({ ...conv, solver: { ...conv.solver, status: 'time_limit' } }, { ...ctx, timeLimitS: 3, optimiserSeconds: 2.99 });
    expect(rows.find((r) => r.id === 'time-limit-used')!.text).toBe('3 s for the whole solve (the solve stopped on it: a longer limit may give a tighter bound)');
    expect(reportRows(conv, ctx).find((r) => r.id === 'time-limit-used')!.text).toBe('60 s for the whole solve (not reached: the optimisers stopped on their own tests)');
  });

  it('names the WebGPU work only for the formulations that do device work', () => {
    const backendUsed = (r: LipschitzReport) => reportRows(r, ctx).find((row) => row.id === 'backend-used')!.text;
    expect(backendUsed({ ...conv, formulation: 'roesser', notices: [] })).toBe(
      "webgpu: realisation products of the optimiser's coarse levels in f32 on WebGPU; final levels and certificate in f64 on the CPU",
    );
    expect(backendUsed({ ...conv, formulation: 'oned', notices: [] })).toMatch(/^webgpu: realisation products .* in f32 on WebGPU/);
    expect(backendUsed({ ...conv, backend: 'cpu', solverPrecision: 'f64', formulation: 'roesser', notices: [] })).toBe('cpu: optimiser and certificate, all f64 on the CPU');
    // The device's counters: no submission means the run gave it nothing to do (a Newton-sized chain).
    const traffic = { submissions: 0, readbacks: 0, bytesUploaded: 0, bytesDownloaded: 0, readbackWaitMs: 0 };
    expect(backendUsed({ ...conv, formulation: 'roesser', solver: { ...conv.solver, deviceTraffic: traffic }, notices: [] })).toBe(
      'webgpu: optimiser and certificate, all f64 on the CPU (the WebGPU backend was selected but this run gave it no work)',
    );
    expect(backendUsed({ ...conv, formulation: 'roesser', solver: { ...conv.solver, deviceTraffic: { ...traffic, submissions: 40, readbacks: 20 } }, notices: [] })).toMatch(
      /^webgpu: realisation products of the optimiser's coarse levels in f32 on WebGPU;/,
    );
  });

  it('lists phase times that add up to the total', () => {
    expect(timingsText(conv)).toBe('import 12 ms · bounds 560 ms · build 280 ms · optimiser 3100 ms · certify 60 ms · other (backend setup, naive bound, blends) 88 ms · total 4100 ms');
  });

  it('describes a dense chain like every other net: the f64 multiplier optimiser', () => {
    const fc: LipschitzReport = {
      ...conv,
      backend: 'cpu',
      solverPrecision: 'f64',
      naiveBound: 31.5,
      formulation: 'fc',
      solver: { ...conv.solver, status: 'time_limit', refineIterations: 1366 },
      notices: [],
    };
    const rows = reportRows(fc, ctx);
    const row = (id: string) => rows.find((r) => r.id === id)!;
    expect(row('optimiser').text).toBe('f64 multiplier optimiser, 1366 iterations');
    expect(row('optimiser').value).toBe(1366);
    expect(row('formulation-used').text).toBe('fc: layered LipSDP of the dense chain');
    expect(row('backend-used').text).toBe('cpu: optimiser and certificate, all f64 on the CPU');
    expect(row('time-limit-used').text).toBe('60 s for the whole solve (the solve stopped on it: a longer limit may give a tighter bound)');
    expect(timingsText(fc)).toMatch(/ · optimiser 3100 ms · /);
    const summary = summaryParagraph(fc, ctx);
    expect(summary).toMatch(/^For cnn_tiny.onnx .* lipdp certified an upper bound L ≤ 14.48000 /);
    expect(summary).toContain('Formulation fc; f64 multiplier optimiser, 1366 iterations; backend cpu (optimiser and certificate, all f64 on the CPU).');
    const text = rows.map((r) => r.text).join('\n') + summary;
    expect(text).not.toMatch(/NaN|Infinity|undefined|residual/);
  });

  it('says that WebGPU did no work on a dense chain', () => {
    const fc: LipschitzReport = { ...conv, formulation: 'fc', notices: ['the dense chain is optimised in f64 on the CPU; the backend was not used'] };
    const rows = reportRows(fc, ctx);
    expect(rows.find((r) => r.id === 'backend-used')!.text).toBe(
      'webgpu: optimiser and certificate, all f64 on the CPU (the WebGPU backend was selected but this formulation does not use it)',
    );
    expect(rows.find((r) => r.id === 'adapter')!.text).toBe('google / swiftshader');
    expect(rows.find((r) => r.id === 'notices')!.text).toBe('the dense chain is optimised in f64 on the CPU; the backend was not used');
  });
});
