/**
 * What to do about an ONNX op lipdp cannot read, appended to the UNSUPPORTED_OP message. Each hint
 * says why the op is out of reach and the nearest thing that works (docs/pytorch.md has the
 * longer version); ops without a known workaround get the list of supported activations.
 */
const HINTS: Readonly<Record<string, string>> = {
  Softmax: 'export the logits instead (drop the final Softmax): softmax is 1-Lipschitz in ℓ2, so a bound on the logits also bounds the probabilities',
  LogSoftmax: 'export the logits instead (drop the final LogSoftmax); bound the log-probabilities separately if you need them',
  Gelu: 'GELU is not supported; retrain with a supported activation (Relu, LeakyRelu, Elu, Softplus, Tanh, Sigmoid) to certify the network',
  Erf: 'this Erf is probably an exported GELU, which is not supported; retrain with a supported activation (Relu, LeakyRelu, Elu, Softplus, Tanh, Sigmoid)',
  LayerNormalization: 'LayerNorm has no finite global Lipschitz constant (its gain grows as the variance of its input shrinks); replace it by BatchNorm in eval mode, which lipdp folds into the adjacent layer',
  Attention: 'dot-product attention is not globally Lipschitz; lipdp certifies dense, conv, pooling, residual and 1-D conv / state-space networks',
  MultiHeadAttention: 'dot-product attention is not globally Lipschitz; lipdp certifies dense, conv, pooling, residual and 1-D conv / state-space networks',
  HardSigmoid: 'not supported yet; Sigmoid is',
  Selu: 'not supported yet; Elu is (SELU is a scaled ELU: put the scale into the next layer weights)',
  Upsample: 'resampling layers are not supported',
  Resize: 'resampling layers are not supported',
  LSTM: 'recurrent layers other than linear state-space layers are not supported; see docs/ssm-json.md for SSM layers',
  GRU: 'recurrent layers other than linear state-space layers are not supported; see docs/ssm-json.md for SSM layers',
  RNN: 'recurrent layers other than linear state-space layers are not supported; see docs/ssm-json.md for SSM layers',
};

/** '; <hint>' for a known op, else the supported activations; for the one-line error message. */
export function unsupportedOpHint(op: string): string {
  return `; ${HINTS[op] ?? 'supported activations are Relu, LeakyRelu, PRelu (one slope), Elu, Softplus, Tanh, Sigmoid (docs/pytorch.md)'}`;
}
