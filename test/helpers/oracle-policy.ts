/**
 * Interior-point oracles (DSDP, CSDP) are installed by .ci/run. In CI a missing binary must FAIL
 * the suite; on a developer machine without them the oracle tests are skipped with a warning.
 */
import { solverAvailable, type SdpSolver } from '../../src/oracle/index.js';

export function oracleTestsEnabled(solver: SdpSolver): boolean {
  if (solverAvailable(solver)) return true;
  if (process.env.CI) return true; // run anyway: the oracle call throws "binary missing" and the test fails
  console.warn(`[lipdp tests] ${solver} not installed: oracle comparisons skipped (install with bash .ci/install-system.sh)`);
  return false;
}
