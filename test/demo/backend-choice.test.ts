/** The demo's backend choice (demo/src/backend-choice.ts) and its #model=… links (demo/src/hash.ts). */
import { describe, expect, it } from 'vitest';
import { chooseBackend, classifyAdapter } from '../../demo/src/backend-choice.js';
import { formatHash, parseHash } from '../../demo/src/hash.js';

describe('software adapter detection', () => {
  it('flags fallback adapters and the usual software rasterisers', () => {
    expect(classifyAdapter({ available: true, vendor: 'google', architecture: 'swiftshader' })).toMatchObject({ software: true, evidence: 'its architecture is "swiftshader"' });
    expect(classifyAdapter({ available: true, vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }).software).toBe(true);
    expect(classifyAdapter({ available: true, description: 'Lavapipe' }).software).toBe(true);
    expect(classifyAdapter({ available: true, vendor: 'x', isFallbackAdapter: true }).software).toBe(true);
    expect(classifyAdapter({ available: true, vendor: 'nvidia', architecture: 'ampere', isFallbackAdapter: false }).software).toBe(false);
  });
});

describe('backend choice', () => {
  const swiftshader = { available: true, vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true };
  const hardware = { available: true, vendor: 'nvidia', architecture: 'ampere' };

  it('auto: CPU on a software adapter or none, WebGPU on hardware, and says why', () => {
    const sw = chooseBackend('auto', swiftshader);
    expect(sw.backend).toBe('cpu');
    expect(sw.reason).toBe(
      'Auto chose the CPU backend: the WebGPU adapter is software (google / swiftshader; the browser flags it as a fallback adapter), with no GPU behind it; WebGPU measured no faster than the CPU backend there.',
    );
    expect(chooseBackend('auto', { available: false, reason: 'no adapter' })).toMatchObject({ backend: 'cpu' });
    expect(chooseBackend('auto', hardware)).toMatchObject({ backend: 'webgpu' });
  });

  it('an explicit choice is kept, with a warning on a software adapter', () => {
    expect(chooseBackend('webgpu', swiftshader)).toMatchObject({ backend: 'webgpu', reason: expect.stringMatching(/software adapter \(google \/ swiftshader\): there is no GPU behind it, so expect no speed-up/) });
    expect(chooseBackend('webgpu', hardware)).toEqual({ backend: 'webgpu', reason: 'WebGPU, as selected, on nvidia / ampere.' });
    expect(chooseBackend('cpu', hardware).backend).toBe('cpu');
    expect(chooseBackend('webgpu', { available: false }).backend).toBe('cpu');
  });
});

describe('links', () => {
  it('round-trips the settings of a bundled model', () => {
    const h = formatHash({ model: 'mlp_tiny.onnx', backend: 'cpu', time: 20, formulation: 'roesser', run: true });
    expect(h).toBe('#model=mlp_tiny.onnx&backend=cpu&time=20&formulation=roesser&run');
    expect(parseHash(h)).toEqual({ model: 'mlp_tiny.onnx', backend: 'cpu', time: 20, formulation: 'roesser', run: true });
  });

  it('drops values it does not know', () => {
    expect(parseHash('#model=../etc/passwd&backend=cuda&time=-3&formulation=x')).toEqual({});
    expect(parseHash('')).toEqual({});
  });
});
