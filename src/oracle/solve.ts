/**
 * Run DSDP or CSDP on an SdpaProblem and read the solution back. This is an oracle for tests and
 * benchmarks (an independent optimum to compare against), not part of the certified path: the
 * x it returns is whatever the solver printed and is not re-verified here.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { toSdpaText, type SdpaProblem } from '../lmi/sdpa.js';
import { requireSolverBinary, type SdpSolver } from './binaries.js';
import { parseCsdpOutput, parseDsdpOutput, parseSolutionVector, type ParsedRun, type SdpStatus } from './parse.js';

export interface SolveOptions {
  readonly solver: SdpSolver;
  /** Wall-clock limit; the solver process is killed (SIGKILL) when it is exceeded. Default 120 s. */
  readonly timeoutMs?: number;
  /** Parent directory for the per-run temporary directory (default: the OS temp directory). */
  readonly workDir?: string;
  /** Keep the run directory (problem file, parameters, solution) instead of deleting it. */
  readonly keepFiles?: boolean;
  /** Requested relative accuracy (CSDP axtol/atytol/objtol, DSDP gaptol). Default 1e-9. */
  readonly tolerance?: number;
}

export interface SolveResult {
  readonly status: SdpStatus;
  /**
   * Primal objective cᵀx of the returned x (for the Lipschitz SDPs: ρ of the problem as built,
   * i.e. still to be multiplied by problem.rhoScale). NaN when no x was read back.
   */
  readonly objective: number;
  /** Lower bound on the optimum from the solver's dual (X) problem, when it printed one. */
  readonly dualObjective?: number;
  /** Solution vector in the problem's variable order (empty when none was read back). */
  readonly x: Float64Array;
  /** Wall time of the solver process(es), including file I/O; summed over attempts. */
  readonly timeMs: number;
  /** Last few kB of the solver's stdout and stderr (of the last attempt), for messages. */
  readonly solverOutput: string;
  /** Command-line arguments of the attempt whose result this is (after the file names). */
  readonly solverArgs: readonly string[];
  /** Number of solver runs (DSDP is retried with other settings when a run fails). */
  readonly attempts: number;
  /** The run directory, when keepFiles was set. */
  readonly runDir?: string;
}

const OUTPUT_TAIL_CHARS = 4000;
/** We keep at most this much of a chatty solver's output in memory; only the tail is useful. */
const OUTPUT_KEEP_CHARS = 1 << 20;

export async function solveSdpa(problem: SdpaProblem, opts: SolveOptions): Promise<SolveResult> {
  const binary = requireSolverBinary(opts.solver);
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const tol = opts.tolerance ?? 1e-9;
  const dir = await mkdtemp(join(opts.workDir ?? tmpdir(), `lipdp-${opts.solver}-`));
  try {
    const probFile = 'problem.dat-s';
    const solFile = 'solution.txt';
    await writeFile(join(dir, probFile), toSdpaText(problem));
    if (opts.solver === 'csdp') {
      // CSDP reads param.csdp from its working directory.
      await writeFile(join(dir, 'param.csdp'), csdpParams(tol));
    }
    const deadline = performance.now() + timeoutMs;
    // CSDP takes its settings from param.csdp, DSDP from flags: one list of attempts for both.
    const attemptFlags = opts.solver === 'csdp' ? CSDP_ATTEMPTS : DSDP_FALLBACK_FLAGS;
    let timeMs = 0;
    let attempts = 0;
    let last: { parsed: ParsedRun; x: Float64Array | undefined; output: string; flags: readonly string[] } | undefined;
    for (const flags of attemptFlags) {
      const left = deadline - performance.now();
      if (attempts > 0 && left <= 0) break;
      attempts++;
      await rm(join(dir, solFile), { force: true });
      // A CSDP retry runs on its built-in defaults (no param.csdp).
      if (opts.solver === 'csdp' && attempts > 1) await rm(join(dir, 'param.csdp'), { force: true });
      const args = opts.solver === 'csdp' ? [probFile, solFile] : [...dsdpArgs(probFile, solFile, tol), ...flags];
      const t0 = performance.now();
      const run = await runProcess(binary, args, dir, Math.max(left, 1));
      timeMs += performance.now() - t0;
      let parsed: ParsedRun;
      if (run.timedOut) parsed = { status: 'timeout' };
      else if (opts.solver === 'csdp') parsed = parseCsdpOutput(run.output, run.code);
      else parsed = parseDsdpOutput(run.output);
      const solText = run.timedOut ? '' : await readFile(join(dir, solFile), 'utf8').catch(() => '');
      const x = parseSolutionVector(solText, problem.c.length);
      if (!x && (parsed.status === 'optimal' || parsed.status === 'inaccurate')) parsed = { ...parsed, status: 'failed' };
      last = { parsed, x, output: run.output, flags: args.slice(1) };
      // Retry only where other settings can help: not on timeouts or on a (certified) infeasibility.
      if (!RETRYABLE.has(parsed.status)) break;
    }
    const { parsed, x, output, flags } = last!;
    const status = parsed.status;
    let objective = Number.NaN;
    if (x) {
      objective = 0;
      for (let i = 0; i < x.length; i++) objective += problem.c[i]! * x[i]!;
    }
    const tail = output.length > OUTPUT_TAIL_CHARS ? output.slice(-OUTPUT_TAIL_CHARS) : output;
    return {
      status,
      objective,
      ...(parsed.dualObjective !== undefined ? { dualObjective: parsed.dualObjective } : {}),
      x: x ?? new Float64Array(0),
      timeMs,
      solverOutput: tail,
      solverArgs: flags,
      attempts,
      ...(opts.keepFiles ? { runDir: dir } : {}),
    };
  } finally {
    if (!opts.keepFiles) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * CSDP 6.2 parses param.csdp as key=value lines. Its default tolerances are 1e-8; we tighten them
 * because this is the reference optimum other code is compared against. perturbobj=0: we want the
 * optimum of the problem exactly as written; on random Lipschitz SDPs the default objective
 * perturbation moved ρ by up to ~3e-7 relative (measured), harmless but avoidable.
 */
export function csdpParams(tol: number): string {
  return [
    `axtol=${tol}`,
    `atytol=${tol}`,
    `objtol=${tol}`,
    'pinftol=1.0e8',
    'dinftol=1.0e8',
    'maxiter=300',
    'minstepfrac=0.90',
    'maxstepfrac=0.97',
    'minstepp=1.0e-8',
    'minstepd=1.0e-8',
    'usexzgap=1',
    'tweakgap=0',
    'affine=0',
    'printlevel=1',
    'perturbobj=0',
    'fastmode=0',
  ].join('\n') + '\n';
}

/**
 * DSDP settings tried in turn while a run ends 'failed' or 'max_iterations'. On random Lipschitz
 * SDPs the default dynamic-ρ strategy occasionally stalls far from the optimum (a few % off, caught
 * by the duality gap); a fixed larger potential parameter, a different initial barrier, or no
 * Schur-matrix reuse then converge.
 */
export const DSDP_FALLBACK_FLAGS: readonly (readonly string[])[] = [[], ['-rho', '10'], ['-mu0', '1'], ['-reuse', '0']];
/**
 * CSDP attempts: the tight settings of csdpParams, then (only if that run ends 'failed' or
 * 'max_iterations') CSDP's defaults. Measured: on a 4×4 single-layer LipSDP-Neuron SDP (one
 * variable) the tight run gave up with a relative gap of 1.7e-5 ("lack of progress"), failing the
 * oracle test for some seeds.
 */
const CSDP_ATTEMPTS: readonly (readonly string[])[] = [[], []];
const RETRYABLE: ReadonlySet<SdpStatus> = new Set<SdpStatus>(['failed', 'max_iterations']);

/** DSDP 5.8 command line: tight relative gap, more iterations than the default 200. */
export function dsdpArgs(probFile: string, solFile: string, tol: number): string[] {
  return [probFile, '-save', solFile, '-gaptol', String(tol), '-maxit', '500'];
}

interface ProcessRun {
  code: number | null;
  output: string;
  timedOut: boolean;
}

function runProcess(binary: string, args: string[], cwd: string, timeoutMs: number): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const append = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.length > OUTPUT_KEEP_CHARS) output = output.slice(-OUTPUT_KEEP_CHARS / 2);
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`lipdp oracle: could not run ${binary}: ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}
