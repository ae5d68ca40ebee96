/**
 * Parsers for what CSDP and DSDP print and save. Both are read defensively: a solver that stops
 * early may print partial output, and the caller must learn that from `status`, not from a throw.
 *
 * Sign conventions (both read SDPA: min cᵀx s.t. Σ x_i F_i − F_0 ⪰ 0, whose dual is
 * max tr(F_0 X) s.t. tr(F_i X) = c_i, X ⪰ 0):
 * - CSDP calls the X problem "primal" and our x problem "dual": its "Dual objective value" is cᵀx,
 *   its "Primal objective value" is tr(F_0 X), a lower bound on our optimum.
 * - DSDP maximises −cᵀx over y = x: its "DSDP Solution" is −cᵀx and its "P Objective" is
 *   −tr(F_0 X).
 */

export type SdpStatus =
  | 'optimal'
  /** Stopped with a solution, but short of the requested accuracy. */
  | 'inaccurate'
  /** Our (x) problem has no feasible point. */
  | 'infeasible'
  /** Our (x) problem is unbounded below. */
  | 'unbounded'
  | 'max_iterations'
  | 'timeout'
  | 'failed';

export interface ParsedRun {
  status: SdpStatus;
  /** cᵀx as printed by the solver (our primal objective), if found. */
  printedObjective?: number;
  /** Lower bound on our optimum from the solver's X problem, if found. */
  dualObjective?: number;
}

/** First non-empty line of a CSDP/DSDP solution file: the vector x (= their y), length m. */
export function parseSolutionVector(text: string, m: number): Float64Array | undefined {
  const line = text.split('\n').find((l) => l.trim().length > 0);
  if (line === undefined) return undefined;
  const parts = line.trim().split(/\s+/);
  if (parts.length !== m) return undefined;
  const x = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const v = Number(parts[i]);
    if (!Number.isFinite(v)) return undefined;
    x[i] = v;
  }
  return x;
}

/** CSDP: status from its exit code (documented in CSDP's user guide), objectives from stdout. */
export function parseCsdpOutput(stdout: string, exitCode: number | null): ParsedRun {
  const status = csdpStatus(exitCode);
  const printed = matchNumber(stdout, /Dual objective value:\s*(\S+)/);
  const dual = matchNumber(stdout, /Primal objective value:\s*(\S+)/);
  return withObjectives(status, printed, dual);
}

function csdpStatus(code: number | null): SdpStatus {
  switch (code) {
    case 0:
      return 'optimal';
    case 1:
      // "primal infeasible": no X, so our problem is unbounded below (or infeasible too).
      return 'unbounded';
    case 2:
      // "dual infeasible": no feasible x.
      return 'infeasible';
    case 3:
      // "partial success": a solution, but the requested accuracy was not reached.
      return 'inaccurate';
    case 4:
      return 'max_iterations';
    default:
      return 'failed';
  }
}

/**
 * DSDP: its exit code is 0 whatever happened, so the status comes from the log lines. A run that
 * stops without "Converged" (small steps, or just "DSDP Finished" after a numerical stall) is
 * accepted as 'inaccurate' only when its printed relative duality gap is at most `acceptGap`:
 * measured on random Lipschitz SDPs, such stops are either accurate to ~1e-9 or off by up to a
 * few percent, and the gap separates the two cleanly.
 */
export function parseDsdpOutput(stdout: string, acceptGap = 1e-6): ParsedRun {
  const sol = matchNumber(stdout, /DSDP Solution:\s*(\S+)/);
  const pobj = matchNumber(stdout, /P Objective\s*:\s*(\S+)/);
  const printed = sol === undefined ? undefined : -sol;
  const dual = pobj === undefined ? undefined : -pobj;
  let status: SdpStatus;
  if (/DSDP Primal Unbounded, Dual Infeasible/.test(stdout)) status = 'infeasible';
  else if (/DSDP Dual Unbounded, Primal Infeasible/.test(stdout)) status = 'unbounded';
  else if (/DSDP Terminated Due Maximum Number of Iterations/.test(stdout)) status = 'max_iterations';
  else if (/DSDP Converged/.test(stdout)) status = 'optimal';
  else if (printed !== undefined && dual !== undefined && /DSDP (Terminated|Finished)/.test(stdout)) {
    const gap = Math.abs(printed - dual) / Math.max(Math.abs(printed), Math.abs(dual), 1e-300);
    status = gap <= acceptGap ? 'inaccurate' : 'failed';
  } else status = 'failed';
  return withObjectives(status, printed, dual);
}

function withObjectives(status: SdpStatus, printed: number | undefined, dual: number | undefined): ParsedRun {
  const r: ParsedRun = { status };
  if (printed !== undefined) r.printedObjective = printed;
  if (dual !== undefined) r.dualObjective = dual;
  return r;
}

/** Last match of `re` in `text` as a finite number. */
function matchNumber(text: string, re: RegExp): number | undefined {
  const all = [...text.matchAll(new RegExp(re.source, 'g'))];
  const last = all[all.length - 1];
  if (!last) return undefined;
  const v = Number(last[1]);
  return Number.isFinite(v) ? v : undefined;
}
