/**
 * Which backend a run uses, and the sentence that says why. Kept free of the DOM so it can be
 * unit-tested.
 *
 * Rule: a software adapter (SwiftShader, lavapipe…) has no GPU behind it, so any device work
 * runs emulated on the same CPU cores, and the backend's start-up comes on top. Measured in
 * headless Chromium on SwiftShader (loaded 2-core machine, Run to report): the bundled models
 * give the device no work (dense chains and the unrolled formulation are optimised in f64 on
 * the CPU, and short Roesser chains take the Newton method, also on the CPU), and WebGPU was no
 * faster than the page's CPU backend: tiny MLP 2.1 s vs 1.5 s, tiny CNN (Roesser) 2.2–2.4 s vs
 * 2.1 s, tiny residual CNN 5.0 s vs 5.1 s. So "auto" takes WebGPU only on a hardware adapter and the CPU
 * backend otherwise. A user can still force either one; the page then says what to expect.
 */
import type { DemoBackend, GpuProbe } from './protocol.js';

export type BackendSetting = 'auto' | DemoBackend;

export interface AdapterKind {
  /** A software rasteriser (no GPU behind it). */
  readonly software: boolean;
  /** What gave it away, for the page ("isFallbackAdapter", "architecture swiftshader"…). */
  readonly evidence: string | null;
  /** vendor / architecture / description as the browser disclosed them. */
  readonly label: string;
}

/** Names under which software WebGPU / Vulkan / GL implementations report themselves. */
const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|software|microsoft basic render/i;

export function classifyAdapter(p: GpuProbe): AdapterKind {
  const label = [p.vendor, p.architecture, p.description || p.device].filter(Boolean).join(' / ') || 'details not disclosed by the browser';
  if (p.isFallbackAdapter) return { software: true, evidence: 'the browser flags it as a fallback adapter', label };
  for (const [field, value] of [
    ['architecture', p.architecture],
    ['description', p.description],
    ['device', p.device],
    ['vendor', p.vendor],
  ] as const) {
    const m = value ? SOFTWARE_NAMES.exec(value) : null;
    if (m) return { software: true, evidence: `its ${field} is "${value}"`, label };
  }
  return { software: false, evidence: null, label };
}

export interface BackendDecision {
  readonly backend: DemoBackend;
  /** One sentence: which backend and why. */
  readonly reason: string;
}

export function chooseBackend(setting: BackendSetting, probe: GpuProbe): BackendDecision {
  const kind = probe.available ? classifyAdapter(probe) : null;
  if (setting === 'cpu') {
    return { backend: 'cpu', reason: 'CPU backend, as selected (f64 iterations in a Web Worker).' };
  }
  if (setting === 'webgpu') {
    if (!probe.available) return { backend: 'cpu', reason: `WebGPU was selected but is not available (${probe.reason ?? 'no adapter'}); running on the CPU backend.` };
    return {
      backend: 'webgpu',
      reason: kind?.software
        ? `WebGPU, as selected, on a software adapter (${kind.label}): there is no GPU behind it, so expect no speed-up over the CPU backend.`
        : `WebGPU, as selected, on ${kind?.label ?? 'the adapter'}.`,
    };
  }
  if (!probe.available) return { backend: 'cpu', reason: `Auto chose the CPU backend: no WebGPU adapter (${probe.reason ?? 'unknown reason'}).` };
  if (kind?.software)
    return {
      backend: 'cpu',
      reason: `Auto chose the CPU backend: the WebGPU adapter is software (${kind.label}; ${kind.evidence}), with no GPU behind it; WebGPU measured no faster than the CPU backend there.`,
    };
  return { backend: 'webgpu', reason: `Auto chose WebGPU: hardware adapter ${kind?.label ?? ''}.`.replace(' .', '.') };
}
