/**
 * Turns what a pipeline produced into the published report: adds the version fields and the
 * model description, and checks the invariants the discriminated union promises (a bound exactly
 * when the status is not 'failed', the certificate source matching the status) so that a
 * pipeline bug surfaces as an internal error instead of a report that lies about its type.
 */
import { LipdpError } from '../model/errors.js';
import type { Network } from '../model/ir.js';
import { lipdpVersion } from './version.js';
import { REPORT_SCHEMA_VERSION, type CertificateInfo, type CertificationStatus, type ErrorReport, type LipschitzReport, type ReportCommon } from './types.js';

/** A report before its status is tied to its bound: what the pipelines in estimate.ts assemble. */
export type ReportDraft = Omit<ReportCommon, 'schemaVersion' | 'lipdpVersion' | 'model'> & {
  readonly status: CertificationStatus;
  readonly upperBound: number | null;
  readonly certificate: CertificateInfo;
};

export async function finishReport(draft: ReportDraft, model: string | Uint8Array | Network, source?: string): Promise<LipschitzReport> {
  const head = { schemaVersion: REPORT_SCHEMA_VERSION, lipdpVersion: await lipdpVersion(), model: describeModel(model, source) };
  const { status, upperBound, certificate } = draft;
  if (status === 'failed') {
    if (upperBound !== null || certificate.source !== 'none') throw inconsistent(draft);
    return { ...head, ...draft, status, upperBound, certificate: { ...certificate, source: 'none' } };
  }
  if (upperBound === null || !Number.isFinite(upperBound)) throw inconsistent(draft);
  if (status === 'certified') {
    if (certificate.source !== 'solver') throw inconsistent(draft);
    return { ...head, ...draft, status, upperBound, certificate: { ...certificate, source: 'solver' } };
  }
  const src = certificate.source;
  if (src !== 'closed-form' && src !== 'naive') throw inconsistent(draft);
  return { ...head, ...draft, status, upperBound, certificate: { ...certificate, source: src } };
}

function inconsistent(d: ReportDraft): LipdpError {
  return new LipdpError('INTERNAL', `inconsistent report: status '${d.status}', upper bound ${d.upperBound}, certificate source '${d.certificate.source}'`);
}

function describeModel(model: string | Uint8Array | Network, source?: string): string {
  if (typeof model === 'string') return model;
  if (model instanceof Uint8Array) return `bytes (${source ?? 'bytes'})`;
  return `network object (${model.source})`;
}

/**
 * The report as plain JSON data. JSON has no NaN or Infinity; JSON.stringify would write null for
 * them anyway, this makes it explicit (and deep) so the printed JSON and this object agree:
 * `solver.primalResidual` / `dualResidual` are null (no network has an ADMM phase), `naiveBound` is null
 * when it was not computed.
 */
export function reportToJson(r: LipschitzReport): unknown {
  return finiteOrNull(r);
}

function finiteOrNull(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (Array.isArray(v)) return v.map(finiteOrNull);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, finiteOrNull(x)]));
  return v;
}

/** The `--json` error object; code 'INTERNAL' marks a bug in lipdp, not in the input. */
export function errorToJson(code: string, message: string): ErrorReport {
  return { error: { code, message } };
}
