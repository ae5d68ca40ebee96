/** Public surface of src/model: IR types, ONNX import, evaluation, shapes and FC lowering. */
export type * from './ir.js';
export { LipdpError, isLipdpError, type LipdpErrorCode } from './errors.js';
export { importOnnx, importOnnxBytes, type ImportOptions } from './import.js';
export type { ExternalFiles } from './onnx.js';
export { forward, jvp, vjp, layerForward, layerJvp, layerVjp, chainForward, chainJvp, chainVjp } from './forward.js';
export { toFcChain, fcChainForward } from './lower.js';
export {
  type MapShape,
  type VecShape,
  type ValueShape,
  isMap,
  sizeOf,
  layerInputShape,
  layerOutputShape,
  chainShapes,
  chainOutputShape,
  networkShapes,
} from './shapes.js';
export { activationSlope, activationValue, activationDerivative } from './kernels/activation.js';
export { simplifyChain } from './simplify.js';
