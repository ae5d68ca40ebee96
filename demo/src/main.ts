/**
 * The demo page: wires the controls to the solver worker, the charts and the report.
 * The page's state is mirrored in #app[data-state] (loading | idle | running | done | error |
 * cancelled), #app[data-runs] counts finished runs and #app[data-file-loads] finished reads of
 * dropped or chosen files, so that tests and scripts can wait on them even when they settle
 * faster than they can be observed.
 */
import { SolverClient } from './worker-client.js';
import { reportToJson } from '../../src/report/finish.js';
import { ConvergenceTrace } from './trace.js';
import { ChartSet } from './plot.js';
import { renderLayers, renderReport } from './report-view.js';
import { summaryParagraph, type RunContext } from './report-text.js';
import { describeProgress } from './progress-text.js';
import { chooseBackend, classifyAdapter, type BackendDecision, type BackendSetting } from './backend-choice.js';
import { formatHash, parseHash } from './hash.js';
import { fetchBundled, loadManifest, pickModelFiles, readFiles, type BundledModel, type ModelBytes } from './model-source.js';
import type { DemoFormulation, GpuProbe, NetworkInfo, RunSettings } from './protocol.js';
import type { LipschitzReport, ProgressEvent } from '../../src/report/types.js';

type AppState = 'loading' | 'idle' | 'running' | 'done' | 'error' | 'cancelled';

function el<T extends Element>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`demo: element #${id} missing from index.html`);
  return e as unknown as T;
}

const ui = {
  app: el<HTMLElement>('app'),
  model: el<HTMLSelectElement>('model-select'),
  modelInfo: el<HTMLElement>('model-info'),
  drop: el<HTMLElement>('dropzone'),
  dropStatus: el<HTMLElement>('drop-status'),
  fileButton: el<HTMLButtonElement>('file-button'),
  file: el<HTMLInputElement>('file-input'),
  backend: el<HTMLSelectElement>('backend-select'),
  gpu: el<HTMLElement>('gpu-status'),
  backendChoice: el<HTMLElement>('backend-choice'),
  time: el<HTMLInputElement>('time-limit'),
  formulation: el<HTMLSelectElement>('formulation-select'),
  run: el<HTMLButtonElement>('run'),
  cancel: el<HTMLButtonElement>('cancel'),
  permalink: el<HTMLAnchorElement>('permalink'),
  progress: el<HTMLProgressElement>('progress'),
  elapsed: el<HTMLElement>('elapsed'),
  phase: el<HTMLElement>('phase'),
  phaseAnnounce: el<HTMLElement>('phase-announce'),
  error: el<HTMLElement>('error'),
  result: el<HTMLElement>('result'),
  report: el<HTMLElement>('report'),
  takeAway: el<HTMLElement>('take-away'),
  downloadJson: el<HTMLButtonElement>('download-json'),
  downloadTrace: el<HTMLButtonElement>('download-trace'),
  copy: el<HTMLButtonElement>('copy-summary'),
  copyStatus: el<HTMLElement>('copy-status'),
  summary: el<HTMLElement>('summary'),
  layers: el<HTMLElement>('layers'),
};

const base = new URL('.', document.baseURI);
const workerUrl = new URL('./worker.js', import.meta.url);
const client = new SolverClient(workerUrl);
/** A second worker that only imports models: a dropped file is checked even while a run computes. */
const inspector = new SolverClient(workerUrl);
let bundled: BundledModel[] = [];
let probe: GpuProbe = { available: false, reason: 'not probed yet' };
/** The model the user dropped or picked, if any (option value USER_MODEL), with its layer info. */
let userModel: { bytes: ModelBytes; info: NetworkInfo } | undefined;
/** A file dropped during a run: checked, and selected when the run ends. */
let queued: { bytes: ModelBytes; info: NetworkInfo } | undefined;
const USER_MODEL = '__user__';
/** Layer info of bundled models by file name (imported on first selection). */
const bundledInfo = new Map<string, NetworkInfo>();
let trace = new ConvergenceTrace();
const charts = new ChartSet({ bound: el('plot-bound'), interval: el('plot-interval') }, trace);
let last: { report: LipschitzReport; ctx: RunContext; trace: ConvergenceTrace } | undefined;

function setState(s: AppState): void {
  ui.app.dataset.state = s;
  const running = s === 'running';
  ui.run.disabled = running || s === 'loading';
  ui.cancel.disabled = !running;
  for (const c of [ui.model, ui.backend, ui.time, ui.formulation]) c.disabled = running;
  // The drop zone and picker stay usable during a run: a file is checked at once and queued.
  ui.drop.classList.toggle('busy', running);
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
  probe = p;
  const webgpu = ui.backend.querySelector<HTMLOptionElement>('option[value="webgpu"]');
  if (p.available) {
    const kind = classifyAdapter(p);
    ui.gpu.textContent = kind.software
      ? `WebGPU adapter found: ${kind.label}. It is a software adapter (${kind.evidence}): no GPU behind it.`
      : `WebGPU adapter found: ${kind.label}.`;
    ui.gpu.dataset.state = 'available';
    ui.gpu.dataset.software = String(kind.software);
  } else {
    ui.gpu.textContent = `WebGPU is not available here (${p.reason ?? 'unknown reason'}). The CPU backend (Float64, in a Web Worker) works everywhere.`;
    ui.gpu.dataset.state = 'unavailable';
    if (webgpu) webgpu.disabled = true;
  }
}

function decision(): BackendDecision {
  return chooseBackend(ui.backend.value as BackendSetting, probe);
}

function showDecision(): void {
  const d = decision();
  ui.backendChoice.textContent = `Runs on: ${d.backend === 'cpu' ? 'CPU' : 'WebGPU'}. ${d.reason}`;
  ui.backendChoice.dataset.backend = d.backend;
}

function timeLimit(): number | null {
  const v = Number(ui.time.value);
  return Number.isFinite(v) && v >= 1 && v <= 3600 ? v : null;
}

function currentInfo(): NetworkInfo | null {
  if (ui.model.value === USER_MODEL) return userModel?.info ?? null;
  return bundledInfo.get(ui.model.value) ?? null;
}

/** The library's default cap on the lower-bound search (DEFAULTS.lowerBoundTimeMs), restated so the bar can use it. */
const LOWER_BOUND_MS = 20_000;

/** Solver settings from the page: the limit caps the whole solve (the library's `timeLimitMs`). */
function settings(limit: number, info: NetworkInfo | null): RunSettings {
  const dense = info?.denseChain ?? true;
  return {
    timeLimitMs: limit * 1000,
    formulation: dense ? 'auto' : (ui.formulation.value as DemoFormulation),
    lowerBoundTimeMs: LOWER_BOUND_MS,
  };
}

function updateLink(): void {
  const isBundled = ui.model.value !== USER_MODEL && bundled.some((b) => b.file === ui.model.value);
  ui.permalink.hidden = !isBundled;
  if (!isBundled) return;
  const hash = formatHash({
    model: ui.model.value,
    backend: ui.backend.value as BackendSetting,
    ...(timeLimit() !== null ? { time: timeLimit()! } : {}),
    formulation: ui.formulation.value as DemoFormulation,
  });
  ui.permalink.href = hash;
  // Keep the address bar shareable too, without adding history entries per change.
  history.replaceState(null, '', hash);
}

async function showModelInfo(): Promise<void> {
  updateLink();
  if (ui.model.value === USER_MODEL && userModel) {
    const extra = Object.keys(userModel.bytes.externalFiles);
    ui.modelInfo.textContent = `${userModel.bytes.source}, ${(userModel.bytes.model.length / 1024).toFixed(1)} kB${extra.length ? ` + external data ${extra.join(', ')}` : ''}`;
    renderLayers(ui.layers, userModel.info, null);
    return;
  }
  const m = bundled.find((b) => b.file === ui.model.value);
  ui.modelInfo.textContent = m ? `${m.description} Licence: ${m.licence}.` : '';
  if (m) {
    const info = await bundledNetworkInfo(m);
    if (info && ui.model.value === m.file && ui.app.dataset.state !== 'running') renderLayers(ui.layers, info, null);
  }
}

async function bundledNetworkInfo(m: BundledModel): Promise<NetworkInfo | null> {
  const known = bundledInfo.get(m.file);
  if (known) return known;
  try {
    const o = await inspector.inspect(await fetchBundled(base, m));
    if (o.kind !== 'ok') return null;
    bundledInfo.set(m.file, o.info);
    return o.info;
  } catch {
    return null;
  }
}

/**
 * A dropped or picked file is read and imported (in the inspector worker) at once, so a bad file
 * is refused when it arrives rather than at Run. #app[data-file-loads] counts finished loads
 * (accepted or refused) so that callers (and the e2e tests) can wait for them.
 */
async function onFiles(files: FileList | readonly File[]): Promise<void> {
  if (files.length === 0) return;
  try {
    await loadFiles(Array.from(files));
  } finally {
    ui.app.dataset.fileLoads = String(Number(ui.app.dataset.fileLoads ?? '0') + 1);
  }
}

async function loadFiles(files: readonly File[]): Promise<void> {
  const names = files.map((f) => f.name).join(', ');
  ui.dropStatus.dataset.state = 'checking';
  ui.dropStatus.textContent = `Checking ${names}…`;
  const picked = pickModelFiles(await readFiles(files));
  if (typeof picked === 'string') return refuse('INVALID_ARGUMENT', picked);
  const o = await inspector.inspect(picked);
  if (o.kind === 'error') return refuse(o.code, o.message);
  const summary = `${picked.source}: ${o.info.layers.length} layers, input [${o.info.inputShape.join('×')}] → ${o.info.outputSize} outputs`;
  if (ui.app.dataset.state === 'running') {
    queued = { bytes: picked, info: o.info };
    ui.dropStatus.dataset.state = 'queued';
    ui.dropStatus.textContent = `Checked ${summary}. A run is in progress: this file is queued and will be selected when the run ends.`;
    return;
  }
  clearError();
  selectUserModel({ bytes: picked, info: o.info });
  ui.dropStatus.dataset.state = 'accepted';
  ui.dropStatus.textContent = `Loaded ${summary}. Press Run to certify it.`;
}

function refuse(code: string, message: string): void {
  ui.dropStatus.dataset.state = 'refused';
  ui.dropStatus.dataset.code = code;
  ui.dropStatus.textContent = `Not loaded: ${message}`;
  if (ui.app.dataset.state !== 'running') showError(code, message);
}

function selectUserModel(m: { bytes: ModelBytes; info: NetworkInfo }): void {
  userModel = m;
  let opt = ui.model.querySelector<HTMLOptionElement>(`option[value="${USER_MODEL}"]`);
  if (!opt) {
    opt = document.createElement('option');
    opt.value = USER_MODEL;
    ui.model.prepend(opt);
  }
  opt.textContent = `Your file: ${m.bytes.source}`;
  ui.model.value = USER_MODEL;
  void showModelInfo();
}

async function currentModel(): Promise<{ bytes: ModelBytes; info: NetworkInfo | null }> {
  if (ui.model.value === USER_MODEL && userModel) return userModel;
  const m = bundled.find((b) => b.file === ui.model.value);
  if (!m) throw new Error('no model selected');
  const bytes = await fetchBundled(base, m);
  return { bytes, info: await bundledNetworkInfo(m) };
}

function announcePhase(text: string): void {
  if (ui.phaseAnnounce.textContent !== text) ui.phaseAnnounce.textContent = text;
}

async function run(): Promise<void> {
  const limit = timeLimit();
  if (limit === null) {
    showError('INVALID_ARGUMENT', 'The time limit must be a number of seconds from 1 to 3600.');
    ui.time.focus();
    return;
  }
  clearError();
  ui.report.hidden = true;
  ui.takeAway.hidden = true;
  ui.summary.hidden = true;
  ui.copyStatus.textContent = '';
  ui.result.textContent = 'Running…';
  trace = new ConvergenceTrace();
  charts.reset(trace);
  setState('running');
  ui.progress.value = 0;
  ui.phase.textContent = 'Starting…';
  announcePhase('Run started.');
  const t0 = performance.now();
  const secs = () => (performance.now() - t0) / 1000;
  const timer = setInterval(() => (ui.elapsed.textContent = `${secs().toFixed(1)} s`), 200);
  const choice = decision();
  try {
    const model = await currentModel();
    const s = settings(limit, model.info);
    if (model.info) renderLayers(ui.layers, model.info, null);
    let phaseStart = 0;
    let lastPhase: ProgressEvent['phase'] | null = null;
    const outcome = await client.run({ ...model.bytes, backend: choice.backend, settings: s }, (e) => {
      const t = secs();
      trace.add(e, t);
      charts.update();
      if (e.phase !== lastPhase) {
        phaseStart = t;
        lastPhase = e.phase;
      }
      const v = describeProgress(e, {
        bestCertified: trace.bestCertified,
        phaseElapsed: t - phaseStart,
        runElapsed: t,
        timeLimit: s.timeLimitMs / 1000,
        boundsLimit: s.lowerBoundTimeMs / 1000,
      });
      ui.phase.textContent = v.text;
      // Announce phase changes only: per-iteration text would flood a screen reader.
      announcePhase(v.text.split(/[,;(]/)[0]!.replace(/…$/, ''));
      if (v.fraction === null) ui.progress.removeAttribute('value');
      else ui.progress.value = v.fraction;
    });
    if (outcome.kind === 'done') {
      const r = outcome.report;
      trace.lowerBound = r.lowerBound > 0 ? r.lowerBound : null;
      trace.naiveBound = Number.isFinite(r.naiveBound) ? r.naiveBound : null;
      trace.closedFormBound = r.certificate.closedFormBound;
      if (r.upperBound !== null) trace.final = r.upperBound;
      charts.draw();
      const ctx: RunContext = {
        backendReason: choice.reason,
        timeLimitS: s.timeLimitMs / 1000,
        optimiserSeconds: optimiserSeconds(trace),
        wallSeconds: secs(),
      };
      last = { report: r, ctx, trace };
      renderReport(ui.report, r, ctx);
      renderLayers(ui.layers, model.info, r);
      ui.summary.textContent = summaryParagraph(r, ctx);
      ui.summary.hidden = false;
      ui.takeAway.hidden = false;
      ui.progress.value = 1;
      const head = r.upperBound !== null ? `L ≤ ${r.upperBound.toPrecision(7)} (${r.status})` : 'no certified bound';
      ui.phase.textContent = `Done in ${secs().toFixed(1)} s: ${head}, on the ${r.backend === 'cpu' ? 'CPU' : 'WebGPU'} backend.`;
      ui.result.textContent = `Result for ${r.network.source}: ${head}; empirical lower bound ${r.lowerBound.toPrecision(6)}.`;
      announcePhase('Run finished.');
      setState('done');
    } else if (outcome.kind === 'cancelled') {
      ui.progress.value = 0;
      ui.phase.textContent = 'Cancelled.';
      ui.result.textContent = 'Run cancelled: no report.';
      announcePhase('Run cancelled.');
      setState('cancelled');
    } else {
      ui.progress.value = 0;
      ui.phase.textContent = 'Failed.';
      ui.result.textContent = 'Run failed: no report.';
      showError(outcome.code, outcome.message);
      setState('error');
    }
  } catch (e) {
    ui.phase.textContent = 'Failed.';
    ui.result.textContent = 'Run failed: no report.';
    showError('DEMO', e instanceof Error ? e.message : String(e));
    setState('error');
  } finally {
    ui.app.dataset.runs = String(Number(ui.app.dataset.runs ?? '0') + 1);
    clearInterval(timer);
    ui.elapsed.textContent = `${secs().toFixed(1)} s`;
    if (queued) {
      const q = queued;
      queued = undefined;
      selectUserModel(q);
      ui.dropStatus.dataset.state = 'accepted';
      ui.dropStatus.textContent = `Selected the queued file ${q.bytes.source}. Press Run to certify it.`;
    }
  }
}

/** Seconds between the first 'refine' event and the next phase (null if no optimiser ran). */
function optimiserSeconds(t: ConvergenceTrace): number | null {
  const i = t.phases.findIndex((p) => p.phase === 'refine');
  if (i < 0) return null;
  const end = t.phases[i + 1]?.t ?? t.lastT;
  return end - t.phases[i]!.t;
}

function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function stem(): string {
  return (last?.report.network.source ?? 'model').replace(/\.onnx$/i, '').replace(/[^\w.-]+/g, '_');
}

async function copySummary(): Promise<void> {
  const text = ui.summary.textContent ?? '';
  try {
    await navigator.clipboard.writeText(text);
    ui.copyStatus.textContent = 'Summary copied to the clipboard.';
  } catch {
    // No clipboard permission (some browsers, insecure contexts): select the text instead.
    const range = document.createRange();
    range.selectNodeContents(ui.summary);
    const sel = getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range);
    ui.copyStatus.textContent = 'The browser refused clipboard access: the summary is selected, press Ctrl+C (⌘C) to copy it.';
  }
}

function wire(): void {
  ui.run.addEventListener('click', () => void run());
  ui.cancel.addEventListener('click', () => {
    ui.phase.textContent = 'Cancelling…';
    client.cancel();
  });
  ui.model.addEventListener('change', () => void showModelInfo());
  for (const c of [ui.backend, ui.time, ui.formulation])
    c.addEventListener('change', () => {
      showDecision();
      updateLink();
    });
  ui.fileButton.addEventListener('click', () => ui.file.click());
  ui.file.addEventListener('change', () => {
    if (ui.file.files) void onFiles(ui.file.files);
    // Reset so choosing the same file again fires 'change'.
    ui.file.value = '';
  });
  ui.drop.addEventListener('keydown', (e) => {
    // The zone itself opens the picker from the keyboard (its button does too).
    if (e.target === ui.drop && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault();
      ui.file.click();
    }
  });
  ui.drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    ui.drop.classList.add('over');
  });
  ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
  ui.drop.addEventListener('drop', (e) => {
    e.preventDefault();
    ui.drop.classList.remove('over');
    if (e.dataTransfer) void onFiles(e.dataTransfer.files);
  });
  ui.downloadJson.addEventListener('click', () => {
    // Exactly what `lipdp estimate --json` prints for the same report.
    if (last) download(`${stem()}.lipdp.json`, 'application/json', JSON.stringify(reportToJson(last.report), null, 2) + '\n'); // the CLI's --json, same schema
  });
  ui.downloadTrace.addEventListener('click', () => {
    if (last) download(`${stem()}.trace.csv`, 'text/csv', last.trace.toCsv());
  });
  ui.copy.addEventListener('click', () => void copySummary());
}

async function init(): Promise<void> {
  wire();
  setState('loading');
  const [p, manifest] = await Promise.allSettled([client.probe(), loadManifest(base)]);
  showGpu(p.status === 'fulfilled' ? p.value : { available: false, reason: String(p.reason) });
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
  const link = parseHash(location.hash);
  if (link.model && bundled.some((b) => b.file === link.model)) ui.model.value = link.model;
  if (link.backend) ui.backend.value = link.backend;
  if (link.time !== undefined) ui.time.value = String(link.time);
  if (link.formulation) ui.formulation.value = link.formulation;
  showDecision();
  void showModelInfo();
  setState('idle');
  if (link.run) void run();
}

void init();
