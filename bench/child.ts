/**
 * Run one job in a child process (bench/worker.ts) with a hard time limit. The child leads its own
 * process group so that a timeout kills it together with any DSDP/CSDP it started; a child that
 * dies without writing a result (crash, OOM kill, abort) becomes a 'failed' result with the tail of
 * its output, never an exception in the harness.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { RunResult } from './types.js';
import type { WorkerInput } from './worker.js';
import { groupPeakRss } from './proc-mem.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'worker.ts');
/** The worker stops DSDP/CSDP itself at the limit; this grace lets it report that cleanly. */
const GRACE_MS = 5000;
const MEM_POLL_MS = 250;
const LOG_TAIL = 2000;

export interface ChildOptions {
  /** Where the worker writes its result and the child's output log goes. */
  readonly resultFile: string;
  readonly logFile: string;
  readonly cwd: string;
  /** Extra time before the kill (default GRACE_MS). */
  readonly graceMs?: number;
}

/** Killing the whole group; harmless when it is already gone. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: nothing left in the group.
  }
}

const live = new Set<number>();
let exitHookInstalled = false;
/** On Ctrl-C of the harness, take the running job (and its solver) down too. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const cleanup = (): void => {
    for (const pid of live) killGroup(pid);
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      cleanup();
      process.exit(130);
    });
}

export function runInChild(input: WorkerInput, opts: ChildOptions): Promise<RunResult> {
  installExitHook();
  rmSync(opts.resultFile, { force: true });
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(input), opts.resultFile], {
      cwd: opts.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    let output = '';
    const append = (b: Buffer): void => {
      output += b.toString('utf8');
      if (output.length > 1 << 20) output = output.slice(-(1 << 19));
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    let peakRss = 0;
    let timedOut = false;
    if (pid !== undefined) live.add(pid);
    const poll = setInterval(() => {
      if (pid !== undefined) peakRss = Math.max(peakRss, groupPeakRss(pid));
    }, MEM_POLL_MS);
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid);
    }, input.timeoutMs + (opts.graceMs ?? GRACE_MS));

    let done = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void => {
      // 'error' and 'close' can both fire for one child.
      if (done) return;
      done = true;
      clearInterval(poll);
      clearTimeout(timer);
      if (pid !== undefined) {
        // A worker that crashed mid-solve would leave DSDP/CSDP running on its own.
        killGroup(pid);
        live.delete(pid);
      }
      const wallMs = performance.now() - t0;
      writeFileSync(opts.logFile, output);
      const base = { network: input.network, method: input.method, job: input.job, times: {}, wallMs };
      const tail = output.trim().split('\n').slice(-3).join(' | ').slice(-LOG_TAIL);
      let result: RunResult;
      if (!timedOut && existsSync(opts.resultFile)) {
        try {
          const r = JSON.parse(readFileSync(opts.resultFile, 'utf8')) as RunResult;
          result = { ...r, wallMs, maxRssBytes: Math.max(r.maxRssBytes ?? 0, peakRss) };
        } catch (e) {
          result = { ...base, status: 'failed', message: `unreadable result: ${(e as Error).message}` };
        }
      } else if (timedOut) {
        result = { ...base, status: 'timeout', message: `killed after ${(input.timeoutMs / 1000).toFixed(0)} s`, ...(peakRss ? { maxRssBytes: peakRss } : {}) };
      } else {
        const how = spawnError ? `could not start: ${spawnError.message}` : signal ? `killed by ${signal}${signal === 'SIGKILL' ? ' (out of memory?)' : ''}` : `exit code ${code}`;
        result = { ...base, status: 'failed', message: `${how}${tail ? `: ${tail}` : ''}`, ...(peakRss ? { maxRssBytes: peakRss } : {}) };
      }
      resolve(result);
    };
    child.on('error', (err) => finish(null, null, err));
    child.on('close', (code, signal) => finish(code, signal));
  });
}
