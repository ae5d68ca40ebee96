/**
 * First-layer compression as a rule of the stage chain:
 * a first stage that is a plain dense map v = G u on a vector u of n inputs, n > m outputs.
 *
 * Its LMI [[ρI + 2a GᵀΛG, −c GᵀΛ], [−c ΛG, 2Λ − Q_1]] (or ρI − GᵀG/s² if it is the last) splits,
 * by congruence with an orthonormal basis [V V⊥] of R^n (V spanning the rows of G), into ρI on V⊥
 * and the same LMI with G V in place of G; and any G̃ with G̃G̃ᵀ = GGᵀ equals G V up to an orthogonal
 * factor, which the congruence with it absorbs (it keeps ρI). So with G̃ = (GGᵀ)^{1/2} (m × m) the
 * stage has m inputs instead of n and the same multipliers are feasible at the same ρ — in exact
 * arithmetic. The optimisers and the certifier's recursion work on the compressed chain; the
 * certifier's verification rebuilds every LMI from the ORIGINAL stages, so rounding in G̃ can make
 * a certificate fail, never make it wrong.
 */
import type { Matrix } from '../../model/ir.js';
import { symEig } from '../../linalg/eig.js';
import { gramRows } from '../../linalg/dense.js';
import type { Stage, StagePlan } from './stages.js';

/** The plan with its first stage compressed, or the plan itself when the rule does not apply. */
export function compressFirstStage(plan: StagePlan): StagePlan {
  const st = plan.stages[0];
  if (!st || !compressible(st)) return plan;
  const G = rowGramSqrt(st.out.G);
  const m = G.rows;
  const first: Stage = { ...st, nz: m, qin: { c: m, rep: 1, order: 'pixel-major' }, out: { ...st.out, G } };
  return { ...plan, stages: [first, ...plan.stages.slice(1)] };
}

/** A dense map on all of z; as the first stage its incoming weight is ρI (whatever Q ⊗ I order). */
function compressible(st: Stage): boolean {
  return st.kind === 'dense' && st.systems.length === 0 && st.internal.length === 0 && st.qin.c * st.qin.rep === st.nz && st.nz > st.out.G.rows;
}

/** (WWᵀ)^{1/2} (m × m) for W (m × n): the compressed weight of the module comment. */
export function rowGramSqrt(W: Matrix): Matrix {
  const m = W.rows;
  const { values, vectors } = symEig(gramRows(W).data, m);
  const r = new Float64Array(m * m);
  for (let k = 0; k < m; k++) {
    const sq = Math.sqrt(Math.max(values[k]!, 0));
    if (sq === 0) continue;
    for (let i = 0; i < m; i++) {
      const vi = sq * vectors[k * m + i]!;
      for (let j = 0; j < m; j++) r[i * m + j] += vi * vectors[k * m + j]!;
    }
  }
  return { rows: m, cols: m, data: r };
}
