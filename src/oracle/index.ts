/** External SDP solvers (DSDP, CSDP) as oracles for the Lipschitz SDPs. */
export { findSolverBinary, missingSolverMessage, requireSolverBinary, solverAvailable, SOLVER_BINARIES } from './binaries.js';
export type { SdpSolver } from './binaries.js';
export { parseCsdpOutput, parseDsdpOutput, parseSolutionVector } from './parse.js';
export type { ParsedRun, SdpStatus } from './parse.js';
export { csdpParams, dsdpArgs, DSDP_FALLBACK_FLAGS, solveSdpa } from './solve.js';
export type { SolveOptions, SolveResult } from './solve.js';
export { lipSdpOracle, stageSdpOracle } from './lipsdp.js';
export type { LipOracleOptions, LipOracleResult } from './lipsdp.js';
