/** Human-readable rendering of a LipschitzReport for the terminal. */
import type { LipschitzReport } from '../report/types.js';

export function formatReport(r: LipschitzReport): string {
  const lines: string[] = [];
  // Non-finite values are the report's "not available" markers (null in JSON).
  const num = (v: number | null): string => (v === null || !Number.isFinite(v) ? 'none' : v.toPrecision(7));
  lines.push(`model            ${r.network.source}`);
  lines.push(`network          ${r.network.inputSize} inputs → ${r.network.outputSize} outputs, ${r.network.layers.length} layers`);
  for (const l of r.network.layers) lines.push(`                   ${l}`);
  lines.push('');
  lines.push(`certified L      ${num(r.upperBound)}   (${r.status}; ℓ2 → ℓ2, certificate in f64 from ${r.certificate.source} multipliers)`);
  lines.push(`lower bound      ${num(r.lowerBound)}   (empirical, max difference quotient)`);
  lines.push(`naive bound      ${num(r.naiveBound)}   (product of certified layer norms)`);
  if (r.certificate.closedFormBound !== null) lines.push(`closed form      ${num(r.certificate.closedFormBound)}   (scalar multipliers)`);
  if (r.upperBound !== null && r.lowerBound > 0) lines.push(`gap              upper/lower = ${(r.upperBound / r.lowerBound).toFixed(4)}`);
  if (r.certificate.rhoInterval) {
    const [lo, hi] = r.certificate.rhoInterval;
    lines.push(`ρ = L² interval  [${lo.toPrecision(10)}, ${hi.toPrecision(10)}]  (lo infeasible, hi verified)`);
  }
  lines.push('');
  const adapter = r.adapter ? ` on ${[r.adapter.vendor, r.adapter.architecture, r.adapter.description || r.adapter.device].filter(Boolean).join(' / ')}` : '';
  lines.push(`backend          ${r.backend} (${r.solverPrecision} iterations)${adapter}`);
  lines.push(`solver           f64 multiplier optimiser, ${r.solver.refineIterations} it${r.solver.status === 'time_limit' ? ' (ended by the time limit)' : ''}`);
  lines.push(`LMI sizes        ${r.solver.lmiSizes.join(', ')}  (formulation: ${r.formulation})`);
  const t = r.timings;
  lines.push(
    `time (ms)        import ${t.import.toFixed(0)}, bounds ${t.bounds.toFixed(0)}, build ${t.build.toFixed(0)}, solve ${t.solve.toFixed(0)}, certify ${t.certify.toFixed(0)}, total ${t.total.toFixed(0)}`,
  );
  for (const n of r.notices) lines.push(`note             ${n}`);
  return lines.join('\n');
}
