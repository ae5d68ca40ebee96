/** lipdp's public API. */
import * as onnxImport from './model/import.js';
import type { Network } from './model/ir.js';

export { estimateLipschitz, DEFAULTS, type ModelInput } from './estimate.js';
export type * from './report/types.js';
export { REPORT_SCHEMA_VERSION } from './report/types.js';
export { reportToJson, errorToJson } from './report/finish.js';
export { lipdpVersion } from './report/version.js';
export type { AdapterInfo, Backend } from './backend/backend.js';
export { CpuBackend } from './backend/cpu/cpu-backend.js';
export { createBackend } from './backend/select.js';
export { toFcChain } from './model/lower.js';
export { loadSsmJson, parseSsmJson } from './model/ssm-json.js';
export { forward } from './model/forward.js';
export { LipdpError, isLipdpError, type LipdpErrorCode } from './model/errors.js';
export type { Network, FcChain, Layer, Matrix, SlopeBounds } from './model/ir.js';
export { certifyFcChain } from './certify/fc-certify.js';
export type { Certificate, Certificate as FcCertificate } from './certify/certificate.js';
export { buildLayeredSdp, buildLipSdpNeuron, toSdpaText } from './lmi/sdpa.js';

/**
 * Options of importOnnx / importOnnxBytes. Restated here rather than re-exported from
 * model/import.ts because that module's declarations import the ONNX protobuf types, whose
 * declarations need a global `Long` that a consumer compiling with `"types": ["node"]` does not
 * have; the assignments below make the compiler check that both stay compatible.
 */
export interface ImportOptions {
  /** Name used in messages (default: the file's base name, or 'bytes'). */
  readonly source?: string;
  /** External data files by the location the model stores (browser, or bytes input). */
  readonly externalFiles?: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>;
  /** Directory to read external data from when the input is bytes (Node only). */
  readonly baseDir?: string;
  /** Fold scale/shift layers into adjacent dense/conv layers (default true). */
  readonly simplify?: boolean;
  /** Which graph input to use when there are several. */
  readonly inputName?: string;
}

/** Import an ONNX model from a path (Node; external data is read next to it) or from bytes. */
export const importOnnx: (input: Uint8Array | string, opts?: ImportOptions) => Promise<Network> = onnxImport.importOnnx;
/** Import an ONNX model from bytes, synchronously; external data only from `opts.externalFiles`. */
export const importOnnxBytes: (bytes: Uint8Array, opts?: ImportOptions) => Network = onnxImport.importOnnxBytes;
