/**
 * `--backend auto` follows the measurement: on a software adapter (lavapipe here, CI's only
 * adapter) it runs the CPU backend and says why; an explicit `webgpu` still gets the device.
 */
import { spawnSync } from 'node:child_process';
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

describe.skipIf(!ctx)('--quiet with a WebGPU backend', () => {
  it("prints nothing on stderr: Dawn's native lavapipe warnings are filtered, the report is unchanged", () => {
    const BIN = new URL('../../bin/lipdp.js', import.meta.url).pathname;
    const MODEL = new URL('../../examples/mlp_tiny.onnx', import.meta.url).pathname;
    const loud = spawnSync(process.execPath, [BIN, 'estimate', MODEL, '--backend', 'webgpu', '--max-iter', '20', '--json'], { encoding: 'utf8', timeout: 300_000 });
    const quiet = spawnSync(process.execPath, [BIN, 'estimate', MODEL, '--backend', 'webgpu', '--max-iter', '20', '--json', '--quiet'], { encoding: 'utf8', timeout: 300_000 });
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).not.toMatch(/artificially reduced/);
    expect(JSON.parse(quiet.stdout).upperBound).toBe(JSON.parse(loud.stdout).upperBound);
    // Errors still get through the filter, one line, with the exit code.
    const bad = spawnSync(process.execPath, [BIN, 'estimate', 'no-such-model.onnx', '--backend', 'auto', '--quiet'], { encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^lipdp: error: cannot read model file/)]);
  });
});
