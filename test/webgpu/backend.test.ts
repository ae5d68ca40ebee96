/**
 * WebGpuBackend as the solver sees it: name, precision and the adapter it reports (its one
 * operation, the Roesser realisation products, is checked against the CPU's in roesser.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuContextOrSkip } from './gpu-available.js';
import { WebGpuBackend } from '../../src/backend/webgpu/webgpu-backend.js';

const ctx = await gpuContextOrSkip();

describe.skipIf(!ctx)('WebGpuBackend', () => {
  let gpu: WebGpuBackend;
  beforeAll(async () => {
    gpu = await WebGpuBackend.create();
  });
  afterAll(() => gpu?.dispose());

  it('reports name, precision and adapter info', () => {
    expect(gpu.name).toBe('webgpu');
    expect(gpu.precision).toBe('f32');
    expect(gpu.adapter).toBeDefined();
    console.log('adapter:', JSON.stringify(gpu.adapter));
  });
});
