/** finishReport ties status, bound and certificate source together; reportToJson leaves no NaN. */
import { describe, expect, it } from 'vitest';
import { finishReport, reportToJson, type ReportDraft } from '../../src/report/finish.js';
import { lipdpVersion } from '../../src/report/version.js';
import { REPORT_SCHEMA_VERSION } from '../../src/report/types.js';
import { isLipdpError } from '../../src/model/errors.js';
import pkg from '../../package.json' with { type: 'json' };

const draft: ReportDraft = {
  upperBound: 2.5,
  status: 'certified',
  lowerBound: 1,
  naiveBound: Infinity,
  backend: 'cpu',
  solverPrecision: 'f64',
  timings: { import: 1, build: 1, solve: 1, certify: 1, bounds: 1, total: 5 },
  solver: { iterations: 0, primalResidual: NaN, dualResidual: NaN, status: 'f64-optimiser', refineIterations: 3, lmiSizes: [4], bufferBytes: 0 },
  certificate: { precision: 'f64', source: 'solver', rhoInterval: [6, 6.25], closedFormBound: null },
  network: { source: 'x.onnx', inputSize: 2, outputSize: 1, layers: [] },
  formulation: 'roesser',
  notices: [],
};

describe('finishReport / reportToJson', () => {
  it('adds the version fields and the model description', async () => {
    const r = await finishReport(draft, 'models/x.onnx');
    expect(r.schemaVersion).toBe(REPORT_SCHEMA_VERSION);
    expect(r.lipdpVersion).toBe(pkg.version);
    expect(await lipdpVersion()).toBe(pkg.version);
    expect(r.model).toBe('models/x.onnx');
    expect((await finishReport(draft, new Uint8Array(1), 'up.onnx')).model).toBe('bytes (up.onnx)');
  });

  it('rejects a status that contradicts the bound or the certificate source', async () => {
    const bad: ReportDraft[] = [
      { ...draft, status: 'failed' },
      { ...draft, upperBound: null },
      { ...draft, upperBound: Infinity },
      { ...draft, status: 'fallback' },
      { ...draft, certificate: { ...draft.certificate, source: 'naive' } },
    ];
    for (const d of bad) {
      const e = await finishReport(d, 'x').catch((err: unknown) => err);
      expect(isLipdpError(e) && e.code === 'INTERNAL', JSON.stringify({ s: d.status, u: d.upperBound })).toBe(true);
    }
    const failed = await finishReport({ ...draft, status: 'failed', upperBound: null, certificate: { ...draft.certificate, source: 'none' } }, 'x');
    expect(failed.upperBound).toBeNull();
  });

  it('writes null for every non-finite number, at any depth', async () => {
    const j = reportToJson(await finishReport(draft, 'x')) as { naiveBound: unknown; solver: { primalResidual: unknown; dualResidual: unknown } };
    expect(j.naiveBound).toBeNull();
    expect(j.solver.primalResidual).toBeNull();
    expect(j.solver.dualResidual).toBeNull();
    expect(JSON.stringify(j)).not.toMatch(/NaN|Infinity/);
  });
});
