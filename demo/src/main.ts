/**
 * The demo page: wires the controls to the solver worker, the live plot and the report.
 * The page's state is mirrored in #app[data-state] (loading | idle | running | done | error |
 * cancelled), and #app[data-runs] counts finished runs, so that tests and scripts can wait on a
 * run's end even when it settles faster than they can observe 'running'.
 */
import { SolverClient } from './worker-client.js';
import { ConvergenceTrace } from './trace.js';
import { ConvergencePlot } from './plot.js';
import { renderReport } from './report-view.js';
import { describeProgress } from './progress-text.js';
import { fetchBundled, loadManifest, pickModelFiles, readFiles, type BundledModel, type ModelBytes } from './model-source.js';
import type { DemoBackend, GpuProbe } from './protocol.js';

type AppState = 'loading' | 'idle' | 'running' | 'done' | 'error' | 'cancelled';

function el<T extends HTMLElement | SVGSVGElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`demo: element #${id} missing from index.html`);
  return e as T;
}

const ui = {
  app: el<HTMLElement>('app'),
  model: el<HTMLSelectElement>('model-select'),
  modelInfo: el<HTMLElement>('model-info'),
  drop: el<HTMLElement>('dropzone'),
  file: el<HTMLInputElement>('file-input'),
  backend: el<HTMLSelectElement>('backend-select'),
  gpu: el<HTMLElement>('gpu-status'),
  run: el<HTMLButtonElement>('run'),
  cancel: el<HTMLButtonElement>('cancel'),
  progress: el<HTMLProgressElement>('progress'),
  elapsed: el<HTMLElement>('elapsed'),
  phase: el<HTMLElement>('phase'),
  error: el<HTMLElement>('error'),
  plot: el<SVGSVGElement>('plot'),
  report: el<HTMLElement>('report'),
};

const base = new URL('.', document.baseURI);
const client = new SolverClient(new URL('./worker.js', import.meta.url));
let bundled: BundledModel[] = [];
/** The model the user dropped or picked, if any (option value USER_MODEL). */
let userModel: ModelBytes | undefined;
const USER_MODEL = '__user__';
let trace = new ConvergenceTrace();
const plot = new ConvergencePlot(ui.plot, trace);

function setState(s: AppState): void {
  ui.app.dataset.state = s;
  const running = s === 'running';
  ui.run.disabled = running || s === 'loading';
  ui.cancel.disabled = !running;
  ui.model.disabled = running;
  ui.backend.disabled = running;
  ui.file.disabled = running;
}

function showError(code: string, message: string): void {
  ui.error.textContent = message;
  ui.error.dataset.code = code;
  ui.error.title = code;
  ui.error.hidden = false;
}

function clearError(): void {
  ui.error.hidden = true;
  ui.error.textContent = '';
  delete ui.error.dataset.code;
}

function showGpu(p: GpuProbe): void {
  const webgpu = ui.backend.querySelector<HTMLOptionElement>('option[value="webgpu"]');
  if (p.available) {
    const who = [p.vendor, p.architecture, p.description].filter(Boolean).join(' / ') || 'details not disclosed by the browser';
    ui.gpu.textContent = `WebGPU available: ${who}.`;
    ui.gpu.dataset.state = 'available';
    ui.backend.value = 'webgpu';
  } else {
    ui.gpu.textContent = `WebGPU is not available here (${p.reason ?? 'unknown reason'}). You can still run on the CPU backend (Float64, in a Web Worker; slower on large networks).`;
    ui.gpu.dataset.state = 'unavailable';
    if (webgpu) webgpu.disabled = true;
    ui.backend.value = 'cpu';
  }
}

function showModelInfo(): void {
  if (ui.model.value === USER_MODEL && userModel) {
    const extra = Object.keys(userModel.externalFiles);
    ui.modelInfo.textContent = `${userModel.source}, ${(userModel.model.length / 1024).toFixed(1)} kB${extra.length ? ` + external data ${extra.join(', ')}` : ''}`;
    return;
  }
  const m = bundled.find((b) => b.file === ui.model.value);
  ui.modelInfo.textContent = m ? `${m.description} Licence: ${m.licence}.` : '';
}

/**
 * Reading dropped files is asynchronous, so a Run clicked before it finishes would run the
 * previous model. #app[data-file-loads] counts finished loads (accepted or refused) so that
 * callers (and the e2e test) can wait for the selector to show the new file.
 */
async function onFiles(files: FileList | readonly File[]): Promise<void> {
  if (files.length === 0) return;
  try {
    await loadFiles(files);
  } finally {
    ui.app.dataset.fileLoads = String(Number(ui.app.dataset.fileLoads ?? '0') + 1);
  }
}

async function loadFiles(files: FileList | readonly File[]): Promise<void> {
  clearError();
  const picked = pickModelFiles(await readFiles(files));
  if (typeof picked === 'string') {
    showError('INVALID_ARGUMENT', picked);
    return;
  }
  userModel = picked;
  let opt = ui.model.querySelector<HTMLOptionElement>(`option[value="${USER_MODEL}"]`);
  if (!opt) {
    opt = document.createElement('option');
    opt.value = USER_MODEL;
    ui.model.prepend(opt);
  }
  opt.textContent = `Your file: ${picked.source}`;
  ui.model.value = USER_MODEL;
  showModelInfo();
}

async function currentModel(): Promise<ModelBytes> {
  if (ui.model.value === USER_MODEL && userModel) return userModel;
  const m = bundled.find((b) => b.file === ui.model.value);
  if (!m) throw new Error('no model selected');
  return fetchBundled(base, m);
}

async function run(): Promise<void> {
  clearError();
  ui.report.hidden = true;
  trace = new ConvergenceTrace();
  plot.reset(trace);
  setState('running');
  ui.progress.value = 0;
  ui.phase.textContent = 'starting…';
  const t0 = performance.now();
  const timer = setInterval(() => (ui.elapsed.textContent = `${((performance.now() - t0) / 1000).toFixed(1)} s`), 200);
  try {
    const model = await currentModel();
    const outcome = await client.run({ ...model, backend: ui.backend.value as DemoBackend }, (e) => {
      trace.add(e);
      plot.update();
      const v = describeProgress(e);
      ui.phase.textContent = v.text;
      if (v.fraction === null) ui.progress.removeAttribute('value');
      else ui.progress.value = v.fraction;
    });
    if (outcome.kind === 'done') {
      trace.lowerBound = outcome.report.lowerBound;
      if (outcome.report.upperBound !== null) trace.final = outcome.report.upperBound;
      plot.update();
      renderReport(ui.report, outcome.report);
      ui.progress.value = 1;
      ui.phase.textContent = `Done: ${outcome.report.status}, L ≤ ${outcome.report.upperBound?.toPrecision(7) ?? '—'} (${outcome.report.backend}).`;
      setState('done');
    } else if (outcome.kind === 'cancelled') {
      ui.progress.value = 0;
      ui.phase.textContent = 'Cancelled.';
      setState('cancelled');
    } else {
      ui.progress.value = 0;
      ui.phase.textContent = 'Failed.';
      showError(outcome.code, outcome.message);
      setState('error');
    }
  } catch (e) {
    ui.phase.textContent = 'Failed.';
    showError('DEMO', e instanceof Error ? e.message : String(e));
    setState('error');
  } finally {
    ui.app.dataset.runs = String(Number(ui.app.dataset.runs ?? '0') + 1);
    clearInterval(timer);
    ui.elapsed.textContent = `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  }
}

function wire(): void {
  ui.run.addEventListener('click', () => void run());
  ui.cancel.addEventListener('click', () => {
    ui.phase.textContent = 'cancelling…';
    client.cancel();
  });
  ui.model.addEventListener('change', showModelInfo);
  ui.file.addEventListener('change', () => {
    if (ui.file.files) void onFiles(ui.file.files);
    // Reset so choosing the same file again fires 'change'.
    ui.file.value = '';
  });
  ui.drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    ui.drop.classList.add('over');
  });
  ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
  ui.drop.addEventListener('drop', (e) => {
    e.preventDefault();
    ui.drop.classList.remove('over');
    if (ui.app.dataset.state !== 'running' && e.dataTransfer) void onFiles(e.dataTransfer.files);
  });
}

async function init(): Promise<void> {
  wire();
  setState('loading');
  const [probe, manifest] = await Promise.allSettled([client.probe(), loadManifest(base)]);
  showGpu(probe.status === 'fulfilled' ? probe.value : { available: false, reason: String(probe.reason) });
  if (manifest.status === 'fulfilled') {
    bundled = manifest.value;
    for (const m of bundled) {
      const opt = document.createElement('option');
      opt.value = m.file;
      opt.textContent = m.name;
      ui.model.append(opt);
    }
  } else {
    showError('DEMO', manifest.reason instanceof Error ? manifest.reason.message : String(manifest.reason));
  }
  showModelInfo();
  setState('idle');
}

void init();
