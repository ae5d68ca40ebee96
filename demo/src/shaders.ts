/**
 * Every WGSL file of the WebGPU backend, imported as text so the browser bundle needs no file
 * system. Typed as Record<ShaderName, string>: a shader added to SHADER_NAMES without an import
 * here is a type error (and test/demo/shaders.test.ts checks the shaders/ directory itself).
 */
import type { ShaderName } from '../../src/backend/webgpu/shaders.js';
import cholesky from '../../shaders/cholesky.wgsl';
import gemm from '../../shaders/gemm.wgsl';
import psdJacobi from '../../shaders/psd_jacobi.wgsl';
import psdJacobiGlobal from '../../shaders/psd_jacobi_global.wgsl';
import trsv from '../../shaders/trsv.wgsl';
import vecOps from '../../shaders/vec_ops.wgsl';

export const SHADER_SOURCES: Readonly<Record<ShaderName, string>> = {
  cholesky,
  gemm,
  psd_jacobi: psdJacobi,
  psd_jacobi_global: psdJacobiGlobal,
  trsv,
  vec_ops: vecOps,
};
