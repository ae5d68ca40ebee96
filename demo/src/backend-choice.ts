/**
 * Which backend a run uses, and the sentence that says why. Kept free of the DOM so it can be
 * unit-tested.
 *
 * Rule (measured in headless Chromium on SwiftShader, December 2026): WebGPU on a software
 * adapter was 4–30× slower than the page's CPU backend (tiny MLP 19.4 s vs 0.65 s; MNIST
 * 784-50-10 23.7 s vs 5.9 s, where WebGPU stopped at its ADMM time limit after 34 iterations).
 * So "auto" takes WebGPU only on a hardware adapter and the CPU backend otherwise. A user can
 * still force either one; the page then says what the measurement suggests.
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
        ? `WebGPU, as selected, on a software adapter (${kind.label}): expect it to be several times slower than the CPU backend.`
        : `WebGPU, as selected, on ${kind?.label ?? 'the adapter'}.`,
    };
  }
  if (!probe.available) return { backend: 'cpu', reason: `Auto chose the CPU backend: no WebGPU adapter (${probe.reason ?? 'unknown reason'}).` };
  if (kind?.software)
    return {
      backend: 'cpu',
      reason: `Auto chose the CPU backend: the WebGPU adapter is software (${kind.label}; ${kind.evidence}), where WebGPU measured 4–30× slower than the CPU backend.`,
    };
  return { backend: 'webgpu', reason: `Auto chose WebGPU: hardware adapter ${kind?.label ?? ''}.`.replace(' .', '.') };
}
