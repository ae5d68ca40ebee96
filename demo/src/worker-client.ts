/**
 * Main-thread side of the solver worker: one run at a time, progress callbacks, and a cancel
 * that always ends the run. A cancel first asks the worker to abort (its AbortController); the
 * library only notices when it yields to the event loop, which it does every ~25 ms of work where
 * it can, but one indivisible step (a stage's factorisation, a batched pass of the lower-bound
 * search) can take seconds on a large net, so if the worker has not answered within
 * CANCEL_GRACE_MS it is terminated and a fresh one is started for the next run.
 */
import type { LipschitzReport, ProgressEvent } from '../../src/report/types.js';
import type { FromWorker, GpuProbe, NetworkInfo, RunRequest, ToWorker } from './protocol.js';

export type RunOutcome =
  | { readonly kind: 'done'; readonly report: LipschitzReport }
  | { readonly kind: 'error'; readonly code: string; readonly message: string }
  | { readonly kind: 'cancelled' };

export type InspectOutcome = { readonly kind: 'ok'; readonly info: NetworkInfo } | { readonly kind: 'error'; readonly code: string; readonly message: string };

// Long enough for a graceful abort when the library yields promptly (~0.1 s on the bundled
// examples), short enough to feel immediate.
const CANCEL_GRACE_MS = 1500;

interface Pending {
  readonly id: number;
  readonly onProgress: (e: ProgressEvent) => void;
  readonly resolve: (o: RunOutcome) => void;
}

export class SolverClient {
  private worker: Worker | undefined;
  private pending: Pending | undefined;
  private nextId = 1;
  private probeWaiters: ((p: GpuProbe) => void)[] = [];
  private inspectWaiters = new Map<number, (o: InspectOutcome) => void>();

  constructor(private readonly workerUrl: URL) {}

  /** Whether the worker sees a WebGPU adapter (workers have their own navigator.gpu). */
  probe(): Promise<GpuProbe> {
    return new Promise((resolve) => {
      this.probeWaiters.push(resolve);
      this.post({ type: 'probe' });
    });
  }

  /**
   * Import a model without solving it. Meant for a client of its own (its own worker), so that a
   * file dropped during a run is still checked at once instead of waiting behind the solve.
   */
  inspect(model: { source: string; model: Uint8Array; externalFiles: Record<string, Uint8Array> }): Promise<InspectOutcome> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.inspectWaiters.set(id, resolve);
      this.post({ type: 'inspect', id, ...model });
    });
  }

  get busy(): boolean {
    return this.pending !== undefined;
  }

  run(req: Omit<RunRequest, 'type' | 'id'>, onProgress: (e: ProgressEvent) => void): Promise<RunOutcome> {
    if (this.pending) return Promise.resolve({ kind: 'error', code: 'BUSY', message: 'a run is already in progress' });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending = { id, onProgress, resolve };
      this.post({ type: 'run', id, ...req });
    });
  }

  cancel(): void {
    const p = this.pending;
    if (!p) return;
    this.post({ type: 'cancel', id: p.id });
    setTimeout(() => {
      if (this.pending !== p) return;
      // The worker is busy in synchronous code and cannot see the abort: end it.
      this.worker?.terminate();
      this.worker = undefined;
      this.settle({ kind: 'cancelled' });
    }, CANCEL_GRACE_MS);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.workerUrl, { type: 'module' });
    w.addEventListener('message', (e: MessageEvent<FromWorker>) => this.onMessage(e.data));
    // An exception that escaped the worker (or a worker script that failed to load) must end
    // the run with a message rather than leave the page waiting.
    w.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault();
      this.worker?.terminate();
      this.worker = undefined;
      const message = `solver worker failed: ${e.message || 'unknown error (see the browser console)'}`;
      this.settle({ kind: 'error', code: 'WORKER', message });
      for (const w2 of this.probeWaiters.splice(0)) w2({ available: false, reason: message });
      for (const w3 of this.inspectWaiters.values()) w3({ kind: 'error', code: 'WORKER', message });
      this.inspectWaiters.clear();
    });
    this.worker = w;
    return w;
  }

  private post(msg: ToWorker): void {
    this.ensureWorker().postMessage(msg);
  }

  private onMessage(msg: FromWorker): void {
    if (msg.type === 'probe') {
      for (const w of this.probeWaiters.splice(0)) w(msg.gpu);
      return;
    }
    const waiter = this.inspectWaiters.get(msg.id);
    if (waiter) {
      this.inspectWaiters.delete(msg.id);
      if (msg.type === 'inspected') waiter({ kind: 'ok', info: msg.info });
      else if (msg.type === 'error') waiter({ kind: 'error', code: msg.code, message: msg.message });
      return;
    }
    const p = this.pending;
    if (!p || msg.id !== p.id) return; // a late message from a cancelled run
    if (msg.type === 'inspected') return;
    if (msg.type === 'progress') p.onProgress(msg.event);
    else if (msg.type === 'done') this.settle({ kind: 'done', report: msg.report });
    else if (msg.code === 'ABORTED') this.settle({ kind: 'cancelled' });
    else this.settle({ kind: 'error', code: msg.code, message: msg.message });
  }

  private settle(o: RunOutcome): void {
    const p = this.pending;
    this.pending = undefined;
    p?.resolve(o);
  }
}
