/**
 * `--backend auto` follows the measurement: on a software adapter (lavapipe here, CI's only
 * adapter) it runs the CPU backend and says why; an explicit `webgpu` still gets the device.
 */
import { describe, expect, it } from 'vitest';
import { gpuContextOrSkip } from './gpu-available.js';
import { createBackend } from '../../src/backend/select.js';

const ctx = await gpuContextOrSkip();

describe.skipIf(!ctx)('backend auto', () => {
  it('reports whether the adapter is a software renderer', async () => {
    const gpu = await createBackend('webgpu');
    try {
      expect(gpu.name).toBe('webgpu');
      expect(typeof gpu.adapter?.software).toBe('boolean');
    } finally {
      gpu.dispose();
    }
  });

  it('uses the CPU backend on a software adapter, with a notice naming the adapter; WebGPU on hardware', async () => {
    const probe = await createBackend('webgpu');
    const software = probe.adapter!.software;
    probe.dispose();
    const notices: string[] = [];
    const b = await createBackend('auto', (m) => notices.push(m));
    try {
      if (software) {
        expect(b.name).toBe('cpu');
        expect(notices.join('\n')).toMatch(/software renderer; using the CPU backend/);
      } else {
        expect(b.name).toBe('webgpu');
        expect(notices).toHaveLength(0);
      }
    } finally {
      b.dispose();
    }
  });
});
