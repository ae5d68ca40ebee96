/**
 * Start point of a long stage chain from certificates of its parts.
 *
 * Why: the joint optimiser (refine-chain.ts) creeps on long chains, and a start at the level of
 * the product of single-stage gains leaves it far above the optimum after any affordable number
 * of iterations (glipsdp cnn_C17_CH32: 4.98·10⁸ against the SDP optimum 1.06·10⁴). Short chains
 * (≤ 4 stages) it solves to within a few 0.1 % quickly. And the joint SDP contains every product
 * certificate: if parts f₁, …, f_m of the chain are certified with gains γ₁, …, γ_m (each part a
 * chain of its own from Q_in = I, its last stage linear), then scaling each part's multipliers
 * and joining them with a QC multiplier on the activation between parts is feasible for the
 * whole chain at ρ = Π γ_j² (for activations with slopes in [0, β]; see `chainParts`).
 *
 * So the chain is solved bottom-up: parts of at most LEAF_STAGES stages (at most one residual
 * block each) are optimised alone, neighbours are chained and optimised together, and so on up
 * to the whole chain, whose optimisation the caller runs from the chained start. Every level
 * starts at or below the product of the certificates below it, so the whole is never looser than
 * its parts (the optimiser only accepts improvements of g).
 *
 * Everything here is iteration-counted; nothing depends on the wall clock (see budget.ts).
 */
import { symEig } from '../linalg/eig.js';
import { recursionSteps } from '../lmi/stage/recursion.js';
import { stageForward } from '../lmi/stage/stage-math.js';
import type { Stage, StageParams } from '../lmi/stage/stages.js';
import { UNLIMITED, runSteps, type RunBudget } from './budget.js';
import { bestInputWeight, lastStub, partOrigin, refineStages, scaleParams, startParams, type SingleStage } from './refine-chain.js';

/** Largest part solved from the single-stage start (the optimiser reaches ~0.1 % there). */
export const LEAF_STAGES = 4;

/** Iterations of the optimiser on each part below the whole chain. */
export const PART_ITER = 1500;

export interface PartsOptions {
  readonly budget?: RunBudget;
  /** Iterations per part (default PART_ITER). */
  readonly partIter?: number;
  /** Stage multipliers already optimised alone (startParams' `singles`), reused. */
  readonly singles?: Map<Stage, SingleStage>;
  readonly onPart?: (from: number, to: number, g: number, iterations: number) => void;
}

/** A part [from, to) of the chain with multipliers for Q_in = I (ρ = 1) and its g. */
export interface SolvedPart {
  readonly from: number;
  readonly to: number;
  readonly params: StageParams[];
  readonly g: number;
}

/** The stages [from, to) as a chain of their own: the last one made linear (no activation, no pooling). */
export function segment(stages: readonly Stage[], from: number, to: number): Stage[] {
  const seg = stages.slice(from, to);
  const end = seg[seg.length - 1]!;
  if (!end.last) {
    const copy: Stage = { ...end, last: true, out: { G: end.out.G, a: 0, c: 0 }, pool: { mu: 1, diag: false } };
    partOrigin.set(copy, end);
    seg[seg.length - 1] = copy;
  }
  return seg;
}

/**
 * Cut points of the leaves: consecutive runs of at most LEAF_STAGES stages with at most one
 * residual block each (a residual block's own LMI is already large).
 */
export function leafCuts(stages: readonly Stage[], leaf = LEAF_STAGES): number[] {
  const cuts = [0];
  let n = 0;
  let residual = 0;
  stages.forEach((st, k) => {
    const isRes = st.kind === 'residual';
    if (n > 0 && (n === leaf || (isRes && residual > 0))) {
      cuts.push(k);
      n = 0;
      residual = 0;
    }
    n++;
    if (isRes) residual++;
  });
  cuts.push(stages.length);
  return cuts;
}

/**
 * Multipliers of the whole chain (ρ = 1) from certificates of consecutive parts covering it.
 *
 * Part j's multipliers (certified for Q_in = I) are scaled by s = λ_min(Q)/ρ*_j, Q the weight the
 * chain so far delivers and ρ*_j the input weight at which they give the part its smallest
 * ρ·g(ρ): the part's LMIs are linear in (multipliers, Q_in) and monotone in Q_in, so they hold
 * with Q ⪰ λ_min(Q)·I. Its last stage gets the output multiplier Λ = I/(c²σ), σ = λ_max(G N⁻¹ Gᵀ)
 * at the actual Q, which makes the outgoing Loewner-maximal Q* ⪰ I/(c²σ) (for ReLU, c = 1, that
 * is exactly the part's gain: no loss in the join).
 */
export async function chainParts(stages: readonly Stage[], parts: readonly SolvedPart[], budget: RunBudget = UNLIMITED): Promise<StageParams[] | null> {
  const out: StageParams[] = [];
  const c0 = stages[0]!.qin.c;
  let Q: Float64Array = new Float64Array(c0 * c0);
  for (let i = 0; i < c0; i++) Q[i * c0 + i] = 1;
  for (const part of parts) {
    const c = stages[part.from]!.qin.c;
    const q = symEig(Q, c).values[0]!;
    if (!(q > 0)) return null;
    const s = q / (await bestInputWeight(segment(stages, part.from, part.to), part.params, budget));
    for (let k = part.from; k < part.to; k++) {
      const st = stages[k]!;
      let prm = scaleParams([part.params[k - part.from]!], s)[0]!;
      if (k === part.to - 1 && !st.last) {
        const fw = stageForward({ ...st, last: true }, Q, { ...prm, lamOut: null });
        if (!fw || !(fw.g! > 0) || !Number.isFinite(fw.g!)) return null;
        const m = st.out.G.rows;
        const cc = st.out.c;
        prm = { ...prm, lamOut: new Float64Array(m).fill(1 / (cc * cc * fw.g!)), diagShape: st.pool.diag ? new Float64Array(m).fill(1) : null };
      }
      out.push(prm);
      if (st.last) return out;
      const r = await runSteps(recursionSteps([st, lastStub(st)], [prm, { P: [], lamInt: [], lamOut: null }], { rho: 1, Q0: Q }), budget);
      if (!r) return null;
      Q = r.qs[0]!;
    }
  }
  return out;
}

/**
 * Bottom-up solve of the chain's parts (see the module comment). Returns the chained start of
 * the whole chain and the parts of the top split, or null when some part has no feasible start.
 * The whole chain itself is left to the caller's optimiser.
 */
export async function startFromParts(stages: readonly Stage[], opts: PartsOptions = {}): Promise<{ start: StageParams[]; top: SolvedPart[] } | null> {
  const cuts = leafCuts(stages);
  if (cuts.length <= 2) return null;
  const budget = opts.budget ?? UNLIMITED;
  const iter = opts.partIter ?? PART_ITER;
  const solve = async (from: number, to: number, start: StageParams[]): Promise<SolvedPart> => {
    const r = await refineStages(segment(stages, from, to), start, { maxIter: iter, budget });
    opts.onPart?.(from, to, r.g, r.iterations);
    return { from, to, params: r.params, g: r.g };
  };
  let level: SolvedPart[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [from, to] = [cuts[i]!, cuts[i + 1]!];
    const start = await startParams(segment(stages, from, to), 300, opts.singles, budget);
    if (!start) return null;
    level.push(await solve(from, to, start));
  }
  // Join neighbours until two parts remain; the caller optimises their join (the whole chain).
  while (level.length > 2) {
    const next: SolvedPart[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const [a, b] = [level[i]!, level[i + 1]];
      if (!b) {
        next.push(a);
        continue;
      }
      const seg = segment(stages, a.from, b.to);
      const joined = await chainParts(seg, [shift(a, a.from), shift(b, a.from)], budget);
      // The join is feasible by construction; should rounding break it, keep the pair split.
      if (joined) next.push(await solve(a.from, b.to, joined));
      else next.push(a, b);
    }
    if (next.length === level.length) break;
    level = next;
  }
  const start = await chainParts(stages, level, budget);
  return start ? { start, top: level } : null;
}

function shift(p: SolvedPart, by: number): SolvedPart {
  return { ...p, from: p.from - by, to: p.to - by };
}

