/**
 * The analysis stages of a convolutional / residual / dense network (docs/method.md §3–§6), in one
 * uniform LMI shape so that the certifier and the optimiser treat every block kind alike.
 *
 * A stage has a stacked variable z (incoming signal u first, then states, internal activations)
 * and an output pre-activation v = G z. Its LMI is
 *
 *   M = [[ N,         −c GᵀΛ       ],
 *        [ −c ΛG,     2Λ − μ·Q_out ]] ⪰ 0           (non-last; output w = φ(v), slope [α, β])
 *   M = N − GᵀG ⪰ 0                                    (last; linear output y = v)
 *
 * with N = Ũᵀ Q̃_in Ũ                                   (incoming weight on u, see `qin`)
 *        + Σ_systems T_jᵀ (blkdiag(P_j, 0) − [A_j B_j]ᵀ P_j [A_j B_j]) T_j   (Roesser dissipation)
 *        + Σ_internal [2a GᵢᵀΛᵢGᵢ − c(GᵢᵀΛᵢEᵢ + EᵢᵀΛᵢGᵢ) + 2EᵢᵀΛᵢEᵢ]   (QCs of inner activations)
 *        + 2a GᵀΛG                                      (αβ part of the output QC)
 * where a = αβ, c = α+β, P_j = blkdiag(P1_j, P2_j) (block-diagonal: 2-D dissipativity) and T_j
 * picks (x_j, input_j) out of z. Summed over the pixel grid it telescopes (zero initial states,
 * P ⪰ 0) into Σ vᵀ…: i.e. Σ Δwᵀ(μQ_out)Δw ≤ Σ ΔuᵀQ̃_inΔu, and pooling with gain μ then gives
 * Σ ΔpᵀQ_outΔp ≤ Σ ΔuᵀQ̃_inΔu for the pooled output p (Q_out ⪰ 0; diagonal after max pooling).
 */
import type { Matrix } from '../../model/ir.js';
import type { ValueShape } from '../../model/shapes.js';
import { nextUp } from '../../certify/psd-check.js';

/** A Roesser system inside a stage: x = [x1; x2] at z[xOff ..), input z[inOff .. inOff+nin). */
export interface StageSystem {
  readonly name: string;
  readonly nx1: number;
  readonly nx2: number;
  /** nx × nx, full form [[A11, A12], [A21, A22]]. */
  readonly A: Matrix;
  /** nx × nin */
  readonly B: Matrix;
  readonly xOff: number;
  readonly inOff: number;
  readonly nin: number;
}

/** An inner activation w_i = φ(G_i z), with w_i stored in z[wOff .. wOff + G.rows). */
export interface StageQc {
  readonly wOff: number;
  readonly G: Matrix;
  /** αβ */
  readonly a: number;
  /** α+β */
  readonly c: number;
}

/**
 * How the incoming per-pixel weight Q_in (c × c) acts on u = z[0 .. c·rep):
 * 'pixel-major': u[p·c + i] (stride blocks, Roesser input order) ⇒ Q̃ = I_rep ⊗ Q_in;
 * 'channel-major': u[i·rep + p] (NCHW flatten into a dense layer) ⇒ Q̃ = Q_in ⊗ I_rep.
 */
export interface StageInput {
  readonly c: number;
  readonly rep: number;
  readonly order: 'pixel-major' | 'channel-major';
}

export interface Stage {
  readonly kind: 'conv' | 'residual' | 'dense';
  /** Names of the IR layers in the stage, for messages. */
  readonly name: string;
  readonly nz: number;
  readonly qin: StageInput;
  readonly systems: readonly StageSystem[];
  readonly internal: readonly StageQc[];
  /** Output map v = G z (G: m × nz) and the slope of the activation after it (a = c = 0 if last). */
  readonly out: { readonly G: Matrix; readonly a: number; readonly c: number };
  readonly last: boolean;
  /** Pooling after the activation: squared gain μ, and whether Q_out must be diagonal (max). */
  readonly pool: { readonly mu: number; readonly diag: boolean };
  /** Shape of the stage's (pooled) output in the true network. */
  readonly outShape: ValueShape;
  /** Residual stages only: how the stage is a chain (see ResidualChain). */
  readonly residual?: ResidualChain;
}

/**
 * The chain structure of a residual stage (structure.ts residualStage): branch pieces
 * L_0, φ_1, L_1, …, φ_K, L_K and the skip S. Piece k reads z[inOff .. inOff + nin) (u for k = 0,
 * else the output of internal QC k − 1) and drives internal QC k (k < K) or the output; `sys` is
 * its Roesser system's index in `systems`, or −1 for a piece without state (dense, scale). Only
 * the start point (solver/residual-start.ts) uses this; the LMI is defined by the generic fields.
 */
export interface ResidualChain {
  readonly pieces: readonly { readonly sys: number; readonly inOff: number; readonly nin: number }[];
  readonly skip: { readonly sys: number; readonly inOff: number; readonly nin: number };
}

export interface StagePlan {
  readonly stages: readonly Stage[];
  /**
   * Certified Lipschitz factor of what lies outside the stage chain, multiplying its bound: an
   * elementwise input scale in front of the first stage that could not be folded (‖diag(s)‖ =
   * max|s|), and an activation (with its pooling) after the last linear map (max(|α|, |β|)·√μ).
   */
  readonly outerGain: number;
}

/** Multipliers of one stage. */
export interface StageParams {
  /** Per system: P1 (nx1 × nx1) and P2 (nx2 × nx2), symmetric row-major. */
  readonly P: readonly { readonly P1: Float64Array; readonly P2: Float64Array }[];
  /** Per internal QC: λ (one per channel). */
  readonly lamInt: readonly Float64Array[];
  /** Output QC λ (non-last stages), else null. */
  readonly lamOut: Float64Array | null;
  /**
   * After max pooling only: the positive shape d of the diagonal outgoing weight,
   * Q_out = t·diag(d)/μ with t = λ_min(diag(d)^{-1/2} Q* diag(d)^{-1/2}) = max{t : Q* ⪰ t·diag(d)}.
   * A FIXED shape keeps the choice Loewner-monotone in Q* (so feasibility stays monotone in ρ,
   * which bisection needs); the optimiser tunes d.
   */
  readonly diagShape?: Float64Array | null;
}

/** Is this the dense-after-flatten shape that the Kronecker fast path handles? */
export function isKronDense(st: Stage): boolean {
  return st.kind === 'dense' && st.systems.length === 0 && st.internal.length === 0 && st.qin.order === 'channel-major' && st.qin.rep > 1 && st.out.a === 0;
}

/** The z-index of channel i at pixel p in the incoming weight Q ⊗ I (pixel-major) or I ⊗ Q. */
export function qinIndex(qin: Stage['qin'], p: number, i: number): number {
  return qin.order === 'pixel-major' ? p * qin.c + i : i * qin.rep + p;
}

/**
 * N is the incoming weight alone (Q_in ⊗ I): a dense stage without systems or internal QCs whose
 * activation has αβ = 0 (or none). Its N ≻ 0 is then the previous stage's Q* ≻ 0 (or ρ > 0).
 */
export function nIsInputWeight(st: Stage): boolean {
  return st.kind === 'dense' && st.systems.length === 0 && st.internal.length === 0 && (st.last || st.out.a === 0);
}

export function lmiSize(st: Stage): number {
  return st.nz + (st.last ? 0 : st.out.G.rows);
}

/** The slope interval [α, β] of an activation stored as a = αβ, c = α + β (roots of x² − cx + a). */
export function slopeInterval(a: number, c: number): { lo: number; hi: number } {
  const disc = Math.sqrt(Math.max(c * c - 4 * a, 0));
  return { lo: (c - disc) / 2, hi: (c + disc) / 2 };
}

/** max(|α|, |β|) of the stage's output activation, rounded up: its Lipschitz constant. */
export function activationGain(st: Stage): number {
  const { lo, hi } = slopeInterval(st.out.a, st.out.c);
  return nextUp(Math.max(Math.abs(hi), Math.abs(lo)) * (1 + 1e-12));
}
