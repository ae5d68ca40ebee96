/**
 * From raw per-run results to per-network summaries and the headline numbers: the reference value
 * each bound is compared against, ratios, and lipdp's accuracy and speed relative to DSDP / CSDP.
 * Pure functions of the results, so the renderers and tests share one definition of every number.
 */
import type { NetworkInfo, RunResult } from './types.js';

export interface Reference {
  readonly value: number;
  /** Method label the value came from, e.g. "dsdp-neuron", or "lipdp-cpu" when no peer finished. */
  readonly source: string;
  /** True when it is an interior-point optimum (the brief's "best reference"). */
  readonly interiorPoint: boolean;
}

export const isPeer = (r: RunResult): boolean => r.job.kind === 'sdp';
export const isLipdp = (r: RunResult): boolean => r.job.kind === 'lipdp';
const hasBound = (r: RunResult): r is RunResult & { bound: number } =>
  r.status === 'ok' && typeof r.bound === 'number' && Number.isFinite(r.bound) && r.bound > 0;

/**
 * The best interior-point optimum: the smallest ρ among DSDP/CSDP runs that reported 'optimal',
 * falling back to 'inaccurate' ones (a short-of-tolerance optimum can sit slightly below the true
 * one, so it is trusted only when nothing better exists); else lipdp's own smallest bound.
 */
export function referenceFor(runs: readonly RunResult[], formulation?: string): Reference | undefined {
  const peers = runs.filter((r) => isPeer(r) && hasBound(r) && sameSdp(r, formulation));
  for (const wanted of ['optimal', 'inaccurate']) {
    const c = peers.filter((r) => r.certStatus === wanted).sort((a, b) => a.bound! - b.bound!)[0];
    if (c) return { value: c.bound!, source: c.method, interiorPoint: true };
  }
  const own = runs.filter((r) => isLipdp(r) && hasBound(r) && sameSdp(r, formulation)).sort((a, b) => a.bound! - b.bound!)[0];
  return own ? { value: own.bound!, source: own.method, interiorPoint: false } : undefined;
}

/**
 * Convolutional networks have two SDPs whose optima differ (lipdp's Roesser stage SDP, the
 * peers' "layered"; and LipSDP-Neuron of the unrolled chain): a run is compared only with runs
 * of the same one. Fully connected formulations all share the LipSDP optimum.
 */
function convFormulation(r: RunResult | undefined): string | undefined {
  return r?.formulation === 'roesser' || r?.formulation === 'unrolled' ? r.formulation : undefined;
}

function sameSdp(r: RunResult, formulation: string | undefined): boolean {
  return formulation === undefined || r.formulation === formulation;
}

/** The reference a given run is compared against (the row's own for fully connected networks). */
export function referenceOf(row: NetworkRow, run: RunResult | undefined): Reference | undefined {
  const f = convFormulation(run);
  return f === undefined ? row.reference : referenceFor(row.runs, f);
}

export function ratioTo(run: RunResult, ref: Reference | undefined): number | undefined {
  return ref && hasBound(run) ? run.bound / ref.value : undefined;
}

/**
 * The time a method needs for the bound, excluding model import (shared by all) and lipdp's naive
 * and lower bounds (extras the peers do not compute): build + solve + certify for lipdp, SDP build +
 * solver run (incl. writing the SDPA file) for DSDP/CSDP.
 */
export function methodTimeMs(run: RunResult): number | undefined {
  if (run.status !== 'ok') return undefined;
  const t = run.times;
  const parts = [t.build, t.solve, t.certify].filter((x): x is number => typeof x === 'number');
  return parts.length > 0 ? parts.reduce((a, b) => a + b, 0) : run.wallMs;
}

/** The fastest successful run of one peer solver on a network (either formulation). */
export function fastestPeer(runs: readonly RunResult[], solver: 'dsdp' | 'csdp', formulation?: string): RunResult | undefined {
  return runs
    .filter((r) => r.job.kind === 'sdp' && r.job.solver === solver && hasBound(r) && sameSdp(r, formulation))
    .sort((a, b) => methodTimeMs(a)! - methodTimeMs(b)!)[0];
}

/**
 * The lipdp run the summary reports: the tighter bound among the backends' main runs (the unrolled
 * variant only when asked for by name), ties to the first backend run.
 */
export function mainLipdp(runs: readonly RunResult[], method?: string): RunResult | undefined {
  const own = runs.filter((r) => isLipdp(r) && (method === undefined ? !(r.job.kind === 'lipdp' && r.job.formulation) : r.method === method));
  return own.filter(hasBound).sort((a, b) => a.bound! - b.bound!)[0] ?? own[0];
}

export interface NetworkRow {
  readonly network: NetworkInfo;
  readonly runs: readonly RunResult[];
  readonly reference: Reference | undefined;
}

export function groupByNetwork(networks: readonly NetworkInfo[], results: readonly RunResult[]): NetworkRow[] {
  return networks.map((network) => {
    const runs = results.filter((r) => r.network === network.name);
    // The row's reference belongs to lipdp's main run (Roesser for convolutional networks).
  const main = runs.find((r) => isLipdp(r) && !(r.job.kind === 'lipdp' && r.job.formulation));
  return { network, runs, reference: referenceFor(runs, convFormulation(main)) };
  });
}

export interface Spread {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function spread(values: readonly number[]): Spread | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { n: s.length, median, min: s[0]!, max: s[s.length - 1]! };
}

export interface PeerSpeed {
  /** peer time / lipdp time over networks where both finished (> 1: lipdp faster). */
  readonly ratio: Spread | undefined;
  /** Networks where lipdp finished and the peer timed out. */
  readonly peerTimeouts: number;
  /** Networks (names) where lipdp was slower than the peer. */
  readonly lipdpSlower: readonly string[];
}

export interface Headline {
  readonly lipdpMethod: string;
  /** Networks with a lipdp bound and an interior-point reference. */
  readonly compared: number;
  readonly within01: number;
  readonly within05: number;
  /** Worst lipdp / reference ratio among the compared networks. */
  readonly worstRatio: number | undefined;
  readonly dsdp: PeerSpeed;
  readonly csdp: PeerSpeed;
  /** Status counts of the lipdp runs, e.g. { ok: 12, unsupported: 20 }. */
  readonly lipdpStatus: Readonly<Record<string, number>>;
}

function peerSpeed(rows: readonly NetworkRow[], lipdpMethod: string, solver: 'dsdp' | 'csdp'): PeerSpeed {
  const ratios: number[] = [];
  const slower: string[] = [];
  let peerTimeouts = 0;
  for (const row of rows) {
    const own = row.runs.find((r) => r.method === lipdpMethod);
    const tOwn = own ? methodTimeMs(own) : undefined;
    if (tOwn === undefined) continue;
    const peer = fastestPeer(row.runs, solver, convFormulation(own));
    if (!peer) {
      if (row.runs.some((r) => r.job.kind === 'sdp' && r.job.solver === solver && r.status === 'timeout')) peerTimeouts++;
      continue;
    }
    const ratio = methodTimeMs(peer)! / tOwn;
    ratios.push(ratio);
    if (ratio < 1) slower.push(row.network.name);
  }
  return { ratio: spread(ratios), peerTimeouts, lipdpSlower: slower };
}

export function headline(rows: readonly NetworkRow[], lipdpMethod: string): Headline {
  let compared = 0;
  let within01 = 0;
  let within05 = 0;
  let worst: number | undefined;
  const lipdpStatus: Record<string, number> = {};
  for (const row of rows) {
    const own = row.runs.find((r) => r.method === lipdpMethod);
    if (!own) continue;
    lipdpStatus[own.status] = (lipdpStatus[own.status] ?? 0) + 1;
    const ref = referenceOf(row, own);
    if (!ref?.interiorPoint) continue;
    const ratio = ratioTo(own, ref);
    if (ratio === undefined) continue;
    compared++;
    if (ratio <= 1.001) within01++;
    if (ratio <= 1.005) within05++;
    worst = worst === undefined ? ratio : Math.max(worst, ratio);
  }
  return {
    lipdpMethod,
    compared,
    within01,
    within05,
    worstRatio: worst,
    dsdp: peerSpeed(rows, lipdpMethod, 'dsdp'),
    csdp: peerSpeed(rows, lipdpMethod, 'csdp'),
    lipdpStatus,
  };
}

/** The lipdp method labels present, in a stable order (cpu before webgpu). */
export function lipdpMethods(results: readonly RunResult[]): string[] {
  return [...new Set(results.filter(isLipdp).map((r) => r.method))].sort();
}
