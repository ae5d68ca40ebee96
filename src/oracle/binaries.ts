/**
 * Locating the external SDP solvers. They are optional system packages, so a missing binary must
 * produce a one-line message that says what to install rather than a bare ENOENT.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export type SdpSolver = 'dsdp' | 'csdp';

/** Executable name on PATH and the Debian package that provides it. */
export const SOLVER_BINARIES: Readonly<Record<SdpSolver, { readonly binary: string; readonly debianPackage: string }>> = {
  dsdp: { binary: 'dsdp5', debianPackage: 'dsdp' },
  csdp: { binary: 'csdp', debianPackage: 'coinor-csdp' },
};

/** Absolute path of the solver's executable, or undefined when it is not on PATH. */
export function findSolverBinary(solver: SdpSolver): string | undefined {
  const name = SOLVER_BINARIES[solver].binary;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export function solverAvailable(solver: SdpSolver): boolean {
  return findSolverBinary(solver) !== undefined;
}

export function missingSolverMessage(solver: SdpSolver): string {
  const { binary, debianPackage } = SOLVER_BINARIES[solver];
  return `lipdp oracle: the SDP solver '${binary}' is not on PATH; install the Debian package '${debianPackage}' (apt-get install ${debianPackage})`;
}

/** The executable's path, or throw the one-line install hint. */
export function requireSolverBinary(solver: SdpSolver): string {
  const path = findSolverBinary(solver);
  if (!path) throw new Error(missingSolverMessage(solver));
  return path;
}
