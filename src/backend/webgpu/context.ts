/**
 * Thin helpers over one GPUDevice shared by every kernel wrapper: compiled-pipeline cache,
 * buffer creation with the usages the kernels need, bind groups by position, 1-D grids that
 * respect maxComputeWorkgroupsPerDimension, and a reusable read-back staging buffer.
 */
import { assertDeviceAlive, type GpuHandle } from './device.js';
import { loadShader, type ShaderName } from './shaders.js';
import type { DeviceTraffic } from '../backend.js';

export type Binding = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

export class GpuContext {
  /** Host↔device traffic of everything submitted through this context (backend.ts DeviceTraffic). */
  readonly traffic: DeviceTraffic = { submissions: 0, readbacks: 0, bytesUploaded: 0, bytesDownloaded: 0, readbackWaitMs: 0 };
  private readonly modules = new Map<string, Promise<GPUShaderModule>>();
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();

  constructor(readonly gpu: GpuHandle) {}

  get device(): GPUDevice {
    return this.gpu.device;
  }

  private module(name: ShaderName): Promise<GPUShaderModule> {
    let m = this.modules.get(name);
    if (!m) {
      m = (async () => {
        const code = await loadShader(name);
        const mod = this.device.createShaderModule({ label: name, code });
        const info = await mod.getCompilationInfo();
        const errs = info.messages.filter((x) => x.type === 'error');
        if (errs.length) throw new Error(`WGSL ${name}.wgsl: ${errs.map((e) => `${e.lineNum}:${e.linePos} ${e.message}`).join('; ')}`);
        return mod;
      })();
      this.modules.set(name, m);
    }
    return m;
  }

  /** Compiled pipeline for one entry point with its override constants (cached). */
  pipeline(name: ShaderName, entryPoint: string, constants: Record<string, number> = {}): Promise<GPUComputePipeline> {
    const key = `${name}:${entryPoint}:${JSON.stringify(constants)}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = (async () => {
        const module = await this.module(name);
        this.device.pushErrorScope('validation');
        const pl = await this.device.createComputePipelineAsync({
          label: key,
          layout: 'auto',
          compute: { module, entryPoint, constants },
        });
        const err = await this.device.popErrorScope();
        if (err) throw new Error(`pipeline ${key}: ${err.message}`);
        return pl;
      })();
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Storage buffer (f32/u32 elements); at least 16 bytes so empty problems still bind. */
  storage(bytes: number, label: string): GPUBuffer {
    return this.device.createBuffer({
      label,
      size: Math.max(16, Math.ceil(bytes / 4) * 4),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  }

  uniform(bytes: number, label: string): GPUBuffer {
    return this.device.createBuffer({ label, size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  }

  /** A storage buffer initialised with `data` (converted to f32 if it is f64). */
  upload(data: Float32Array | Float64Array | Uint32Array, label: string): GPUBuffer {
    const buf = this.storage(data.byteLength / (data instanceof Float64Array ? 2 : 1), label);
    this.write(buf, 0, data);
    return buf;
  }

  uploadUniform(data: ArrayBufferView, label: string): GPUBuffer {
    const buf = this.uniform(data.byteLength, label);
    this.writeBytes(buf, 0, data);
    return buf;
  }

  write(buf: GPUBuffer, byteOffset: number, data: Float32Array | Float64Array | Uint32Array): void {
    const arr = data instanceof Float64Array ? Float32Array.from(data) : data;
    if (arr.byteLength) this.writeBytes(buf, byteOffset, arr);
  }

  /** Every host → device copy goes through here (counted). */
  writeBytes(buf: GPUBuffer, byteOffset: number, data: ArrayBufferView | ArrayBuffer): void {
    const view = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    this.device.queue.writeBuffer(buf, byteOffset, view.buffer, view.byteOffset, view.byteLength);
    this.traffic.bytesUploaded += view.byteLength;
  }

  /** Every submission goes through here (counted). */
  submit(commands: GPUCommandBuffer): void {
    this.device.queue.submit([commands]);
    this.traffic.submissions++;
  }

  bindGroup(pipeline: GPUComputePipeline, bindings: readonly Binding[]): GPUBindGroup {
    return this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: bindings.map((b, i) => ({ binding: i, resource: 'buffer' in b ? b : { buffer: b } })),
    });
  }

  /** Workgroup counts (x, y) for `groups` workgroups of a 1-D launch, within the per-dimension limit. */
  grid(groups: number): [number, number] {
    const lim = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    if (groups <= lim) return [Math.max(1, groups), 1];
    const y = Math.ceil(groups / lim);
    return [Math.ceil(groups / y), y];
  }

  /** Records compute work in one pass and submits it (queue order keeps later writes after it). */
  run(record: (pass: GPUComputePassEncoder) => void, label?: string): void {
    assertDeviceAlive(this.gpu);
    const enc = this.device.createCommandEncoder({ label });
    const pass = enc.beginComputePass({ label });
    record(pass);
    pass.end();
    this.submit(enc.finish());
  }
}

/** Reusable MAP_READ staging buffer; reads are serialised because one buffer maps at a time. */
export class Readback {
  private staging: GPUBuffer | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly ctx: GpuContext, private readonly label: string) {}

  get bytes(): number {
    return this.staging?.size ?? 0;
  }

  read(src: GPUBuffer, byteOffset: number, byteLength: number): Promise<Float32Array> {
    const job = this.chain.then(() => this.readNow(src, byteOffset, byteLength));
    this.chain = job.catch(() => undefined);
    return job;
  }

  private async readNow(src: GPUBuffer, byteOffset: number, byteLength: number): Promise<Float32Array> {
    if (byteLength === 0) return new Float32Array(0);
    const dev = this.ctx.device;
    if (!this.staging || this.staging.size < byteLength) {
      this.staging?.destroy();
      this.staging = dev.createBuffer({ label: this.label, size: Math.ceil(byteLength / 16) * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    }
    const st = this.staging;
    const enc = dev.createCommandEncoder();
    enc.copyBufferToBuffer(src, byteOffset, st, 0, byteLength);
    this.ctx.submit(enc.finish());
    const t0 = performance.now();
    await st.mapAsync(GPUMapMode.READ, 0, byteLength);
    const traffic = this.ctx.traffic;
    traffic.readbackWaitMs += performance.now() - t0;
    traffic.readbacks++;
    traffic.bytesDownloaded += byteLength;
    const out = new Float32Array(st.getMappedRange(0, byteLength).slice(0));
    st.unmap();
    return out;
  }

  destroy(): void {
    this.staging?.destroy();
    this.staging = undefined;
  }
}
