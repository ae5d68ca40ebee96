/**
 * Links to a run: `#model=<bundled file>&backend=auto|cpu|webgpu&time=<s>&formulation=…&run`.
 * Only bundled models can be linked (a dropped file never leaves the machine). Unknown or
 * malformed values are dropped, never guessed at.
 */
import type { DemoFormulation } from './protocol.js';
import type { BackendSetting } from './backend-choice.js';

export interface LinkState {
  readonly model?: string;
  readonly backend?: BackendSetting;
  /** Time limit in seconds. */
  readonly time?: number;
  readonly formulation?: DemoFormulation;
  /** Start the run once the page is ready. */
  readonly run?: boolean;
}

export function parseHash(hash: string): LinkState {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const out: { -readonly [K in keyof LinkState]: LinkState[K] } = {};
  const model = p.get('model');
  if (model && /^[\w.-]+\.onnx$/.test(model)) out.model = model;
  const backend = p.get('backend');
  if (backend === 'auto' || backend === 'cpu' || backend === 'webgpu') out.backend = backend;
  const time = Number(p.get('time'));
  if (p.has('time') && Number.isFinite(time) && time >= 1 && time <= 3600) out.time = time;
  const f = p.get('formulation');
  if (f === 'auto' || f === 'roesser' || f === 'unrolled') out.formulation = f;
  if (p.has('run') && p.get('run') !== '0') out.run = true;
  return out;
}

export function formatHash(s: LinkState): string {
  const p = new URLSearchParams();
  if (s.model) p.set('model', s.model);
  if (s.backend) p.set('backend', s.backend);
  if (s.time !== undefined) p.set('time', String(s.time));
  if (s.formulation && s.formulation !== 'auto') p.set('formulation', s.formulation);
  let h = p.toString();
  if (s.run) h += h ? '&run' : 'run';
  return `#${h}`;
}
