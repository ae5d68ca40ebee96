/**
 * Acquiring a WebGPU device, in Node (Dawn through the npm `webgpu` package) or in a browser
 * (`navigator.gpu`). The device is requested with the adapter's real limits: the WebGPU defaults
 * (16 KiB of workgroup storage, 128 MiB bindings) are far below what most adapters offer, and the
 * Jacobi kernel's largest in-workgroup block size is set by maxComputeWorkgroupStorageSize.
 */
import type { AdapterInfo } from '../backend.js';

/** Thrown when no WebGPU adapter/device can be had, or the device is lost. One-line message. */
export class WebGpuUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebGpuUnavailableError';
  }
}

/** Limits the kernels size themselves by (a subset of GPUSupportedLimits, as plain numbers). */
export interface GpuLimits {
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxStorageBuffersPerShaderStage: number;
  readonly minStorageBufferOffsetAlignment: number;
}

export interface GpuHandle {
  readonly device: GPUDevice;
  readonly limits: GpuLimits;
  readonly info: AdapterInfo;
  /** Set when the device is lost; work must not be enqueued afterwards. */
  lostReason?: string;
}

const LIMIT_NAMES = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'minStorageBufferOffsetAlignment',
] as const;

/**
 * Dawn's GPU object in Node. Kept in a module-level variable for the life of the process: if it
 * is garbage-collected while devices are alive, Dawn aborts the process.
 */
let nodeGpu: GPU | undefined;

async function getGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (nodeGpu) return nodeGpu;
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (!isNode) throw new WebGpuUnavailableError('WebGPU unavailable: this browser has no navigator.gpu');
  let mod: { create(options: string[]): GPU; globals: object };
  try {
    mod = (await import('webgpu')) as typeof mod;
  } catch (e) {
    throw new WebGpuUnavailableError(`WebGPU unavailable: cannot load the 'webgpu' package (${(e as Error).message.split('\n')[0]})`);
  }
  // The GPU* constants (GPUBufferUsage, GPUMapMode, ...) are globals in browsers; Dawn exports them.
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  nodeGpu = mod.create([]);
  return nodeGpu;
}

function adapterInfo(adapter: GPUAdapter): AdapterInfo {
  const i = adapter.info;
  const s = (v: string | undefined) => (v ? v : undefined);
  const fallback = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true || (i as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true;
  const names = [i?.vendor, i?.architecture, i?.device, i?.description].join(' ');
  return {
    vendor: s(i?.vendor),
    architecture: s(i?.architecture),
    device: s(i?.device),
    description: s(i?.description),
    software: fallback || SOFTWARE_ADAPTER.test(names),
  };
}

/** Names of software renderers in adapter info (Dawn on Mesa reports vendor 'mesa', architecture 'llvmpipe: …'). */
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|softpipe|swiftshader|software|basic render/i;

let shared: Promise<GpuHandle> | undefined;

/**
 * One device per process (shared by every backend instance and test): devices are heavy on
 * software adapters, and nothing here needs isolation between them. A lost device clears the
 * cache so the next call requests a fresh one.
 */
export function acquireGpu(): Promise<GpuHandle> {
  if (!shared) {
    shared = requestGpu().catch((e) => {
      shared = undefined;
      throw e;
    });
  }
  return shared;
}

async function requestGpu(): Promise<GpuHandle> {
  const gpu = await getGpu();
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    throw new WebGpuUnavailableError(`WebGPU unavailable: requestAdapter failed (${(e as Error).message.split('\n')[0]})`);
  }
  if (!adapter) throw new WebGpuUnavailableError('WebGPU unavailable: no adapter (no GPU, and no software Vulkan such as Mesa lavapipe)');
  const requiredLimits: Record<string, number> = {};
  for (const k of LIMIT_NAMES) requiredLimits[k] = adapter.limits[k];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits });
  } catch (e) {
    throw new WebGpuUnavailableError(`WebGPU unavailable: requestDevice failed (${(e as Error).message.split('\n')[0]})`);
  }
  const limits = {} as Record<(typeof LIMIT_NAMES)[number], number>;
  for (const k of LIMIT_NAMES) limits[k] = device.limits[k];
  const handle: GpuHandle = { device, limits, info: adapterInfo(adapter) };
  void device.lost.then((l) => {
    shared = undefined;
    handle.lostReason = `WebGPU device lost: ${l.message.split('\n')[0] || l.reason}`;
  });
  return handle;
}

/** Throws WebGpuUnavailableError if the device was lost (checked before work is enqueued). */
export function assertDeviceAlive(h: GpuHandle): void {
  if (h.lostReason) throw new WebGpuUnavailableError(h.lostReason);
}
