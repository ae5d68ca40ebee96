/**
 * Command-line options of bench/run.ts. Parsing is a pure function of argv (plus the repository
 * root and a clock for the defaults) so that tests can check it without touching the disk.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ALL_METHODS, type BackendId, type MethodId, type SuiteId } from './types.js';

export type SuiteChoice = 'cifar10' | 'mnist' | 'glipsdp' | 'paper' | 'all';

export interface BenchOptions {
  readonly suites: readonly SuiteId[];
  readonly backends: readonly BackendId[];
  readonly methods: readonly MethodId[];
  /** Per method and network, seconds. */
  readonly timeoutS: number;
  readonly outDir: string;
  /** undefined when no models directory was given and none was found. */
  readonly modelsDir: string | undefined;
  readonly quick: boolean;
  readonly updateReadme: boolean;
  /** Reuse runs already recorded in --out (runs/*.json) instead of running them again. */
  readonly resume: boolean;
  /** Run nothing: render from the runs recorded in --out (networks without any are left out). */
  readonly renderOnly: boolean;
  /** Explicit model files (replace the suites when given). */
  readonly models: readonly string[];
  /** Only networks whose name contains one of these. */
  readonly filter: readonly string[];
  /** Interior-point size limit (see sdp-size.ts). */
  readonly sdpMaxVars: number;
  readonly sdpMaxBlock: number;
  readonly help: boolean;
}

export const DEFAULT_TIMEOUT_S = 180;
export const QUICK_TIMEOUT_S = 60;
export const DEFAULT_SDP_MAX_VARS = 1000;
export const DEFAULT_SDP_MAX_BLOCK = 1100;
/**
 * The paper suite's Roesser SDPs have small blocks (≤ 192) but many variables; DSDP and CSDP
 * factor the dense m×m Schur complement, so m decides. With m ≤ 2500 the peers get the c = 8 CNN
 * chains up to C9 and the MLP chains up to about 2300 variables, which finish in minutes on the
 * 2-core machine; larger ones would only burn the timeout.
 */
export const PAPER_SDP_MAX_VARS = 2500;

export const USAGE = `usage: npx tsx bench/run.ts [options]
  --suite cifar10|mnist|glipsdp|paper|all
                                      networks to run (default all; paper = the inner chains of
                                      the authors' Scalability table, not part of all)
  --backend cpu|webgpu|both           lipdp backend(s) (default cpu)
  --methods LIST                      comma list of lipdp,dsdp,csdp,naive,closed-form,lower (default all)
  --timeout S                         seconds per method and network (default ${DEFAULT_TIMEOUT_S}, --quick ${QUICK_TIMEOUT_S})
  --out DIR                           output directory (default bench/out/<timestamp>)
  --models-dir PATH                   trained models (default ../shared/models next to the repo)
  --model FILE                        benchmark this ONNX file (repeatable; replaces the suites)
  --filter TEXT                       only networks whose name contains TEXT (repeatable)
  --sdp-max-vars N, --sdp-max-block N interior-point size limit (default ${DEFAULT_SDP_MAX_VARS} variables, --suite paper ${PAPER_SDP_MAX_VARS}; block ${DEFAULT_SDP_MAX_BLOCK})
  --quick                             a handful of small networks, a few minutes on 2 cores
  --update-readme                     write the results table into bench/README.md
  --resume                            reuse runs already in --out (continue an interrupted run, or re-render)
  --render-only                       run nothing; re-render results.md, SVGs (and README) from --out
  --help`;

export class UsageError extends Error {}

const SUITES: Record<SuiteChoice, readonly SuiteId[]> = {
  cifar10: ['cifar10'],
  mnist: ['mnist'],
  glipsdp: ['glipsdp'],
  // Not in 'all': the chains are cut from the glipsdp networks, and their table has its own columns.
  paper: ['paper'],
  // CIFAR-10 last: all its networks are convolutional, so until lipdp handles convolutions they
  // only produce 'unsupported' rows, and an interrupted run should have spent its time elsewhere.
  all: ['fixtures', 'mnist', 'glipsdp', 'cifar10'],
};

/** Where ../shared/models lives relative to the repository, if it is there. */
export function defaultModelsDir(repoRoot: string): string | undefined {
  const candidate = resolve(repoRoot, '..', 'shared', 'models');
  return existsSync(candidate) ? candidate : undefined;
}

/** 2025-01-31T12-00-00: sortable and safe in a path on every OS. */
export function timestampDir(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, '').replace(/:/g, '-');
}

export function parseBenchArgs(argv: readonly string[], repoRoot: string, now: Date = new Date()): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        suite: { type: 'string' },
        backend: { type: 'string' },
        methods: { type: 'string' },
        timeout: { type: 'string' },
        out: { type: 'string' },
        'models-dir': { type: 'string' },
        model: { type: 'string', multiple: true },
        filter: { type: 'string', multiple: true },
        'sdp-max-vars': { type: 'string' },
        'sdp-max-block': { type: 'string' },
        quick: { type: 'boolean' },
        'update-readme': { type: 'boolean' },
        resume: { type: 'boolean' },
        'render-only': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const v = parsed.values;
  const quick = v.quick ?? false;

  const suiteChoice = (v.suite ?? 'all') as SuiteChoice;
  if (!(suiteChoice in SUITES)) throw new UsageError(`unknown suite '${v.suite}' (use cifar10, mnist, glipsdp, paper or all)`);

  const backendChoice = v.backend ?? 'cpu';
  let backends: BackendId[];
  if (backendChoice === 'both') backends = ['cpu', 'webgpu'];
  else if (backendChoice === 'cpu' || backendChoice === 'webgpu') backends = [backendChoice];
  else throw new UsageError(`unknown backend '${backendChoice}' (use cpu, webgpu or both)`);

  let methods: MethodId[] = [...ALL_METHODS];
  if (v.methods !== undefined) {
    const list = v.methods.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    if (list.length === 0) throw new UsageError('--methods needs at least one method');
    for (const m of list)
      if (!(ALL_METHODS as readonly string[]).includes(m)) throw new UsageError(`unknown method '${m}' (use ${ALL_METHODS.join(', ')})`);
    // Keep the canonical order so tables do not depend on how the list was typed.
    methods = ALL_METHODS.filter((m) => list.includes(m));
  }

  const timeoutS = v.timeout === undefined ? (quick ? QUICK_TIMEOUT_S : DEFAULT_TIMEOUT_S) : positive(v.timeout, '--timeout');
  const sdpMaxVars = v['sdp-max-vars'] === undefined ? (suiteChoice === 'paper' ? PAPER_SDP_MAX_VARS : DEFAULT_SDP_MAX_VARS) : positive(v['sdp-max-vars'], '--sdp-max-vars');
  const sdpMaxBlock = v['sdp-max-block'] === undefined ? DEFAULT_SDP_MAX_BLOCK : positive(v['sdp-max-block'], '--sdp-max-block');

  const modelsDir = v['models-dir'] !== undefined ? resolve(v['models-dir']) : defaultModelsDir(repoRoot);
  const outDir = v.out !== undefined ? resolve(v.out) : join(repoRoot, 'bench', 'out', timestampDir(now));

  return {
    suites: SUITES[suiteChoice],
    backends,
    methods,
    timeoutS,
    outDir,
    modelsDir,
    quick,
    updateReadme: v['update-readme'] ?? false,
    resume: (v.resume ?? false) || (v['render-only'] ?? false),
    renderOnly: v['render-only'] ?? false,
    models: (v.model ?? []).map((p) => resolve(p)),
    filter: v.filter ?? [],
    sdpMaxVars,
    sdpMaxBlock,
    help: v.help ?? false,
  };
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, got '${text}'`);
  return n;
}
