/**
 * The certificate of a fully connected chain for given multipliers — the public entry point for
 * users who bring their own Λ — is the stage chain's certificate (chain-certify.ts): the chain
 * becomes dense stages (one per layer, model/lower.ts chainNetwork) and Λ_k the multipliers of
 * stage k's activation.
 */
import type { FcChain } from '../model/ir.js';
import { chainNetwork } from '../model/lower.js';
import { planStages } from '../lmi/stage/structure.js';
import { compressFirstStage } from '../lmi/stage/compress.js';
import type { StageParams } from '../lmi/stage/stages.js';
import { certifyStages, type ChainCertificate, type ChainCertifyOptions } from './chain-certify.js';

/** Certify L for the chain with hidden-layer multipliers Λ_k (one vector per activation, ≥ 0). */
export async function certifyFcChain(chain: FcChain, lambdas: readonly Float64Array[], opts: Omit<ChainCertifyOptions, 'recursionStages'> = {}): Promise<ChainCertificate> {
  const hidden = chain.layers.length - 1;
  if (lambdas.length !== hidden) throw new Error(`certifyFcChain: need ${hidden} multiplier vectors, got ${lambdas.length}`);
  lambdas.forEach((lam, k) => {
    if (lam.length !== chain.layers[k]!.W.rows) throw new Error(`certifyFcChain: λ_${k} has ${lam.length} entries, layer has ${chain.layers[k]!.W.rows} outputs`);
  });
  const plan = planStages(chainNetwork(chain, 'chain'));
  const params: StageParams[] = plan.stages.map((_, k) => ({ P: [], lamInt: [], lamOut: k < hidden ? lambdas[k]! : null, diagShape: null }));
  return certifyStages(plan, params, { ...opts, recursionStages: compressFirstStage(plan).stages });
}
