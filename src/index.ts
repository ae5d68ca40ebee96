/** lipdp's public API. */
export { estimateLipschitz, DEFAULTS, type ModelInput } from './estimate.js';
export type * from './report/types.js';
export type { AdapterInfo, Backend } from './backend/backend.js';
export { CpuBackend } from './backend/cpu/cpu-backend.js';
export { createBackend } from './backend/select.js';
export { importOnnx, importOnnxBytes, type ImportOptions } from './model/import.js';
export { toFcChain } from './model/lower.js';
export { forward } from './model/forward.js';
export { LipdpError, isLipdpError, type LipdpErrorCode } from './model/errors.js';
export type { Network, FcChain, Layer, Matrix, SlopeBounds } from './model/ir.js';
export { certifyFcChain, type FcCertificate } from './certify/fc-certify.js';
export { buildLayeredSdp, buildLipSdpNeuron, toSdpaText } from './lmi/sdpa.js';
