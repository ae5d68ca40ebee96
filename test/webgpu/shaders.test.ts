/** The WGSL registry: Node reads shaders/<name>.wgsl lazily; registered sources (the browser path) win. No GPU needed. */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { loadShader, registerShaderSources, SHADER_NAMES } from '../../src/backend/webgpu/shaders.js';

describe('WGSL registry', () => {
  it('loads every listed shader from shaders/ and lists every file there', async () => {
    for (const name of SHADER_NAMES) expect(await loadShader(name)).toBe(readFileSync(new URL(`../../shaders/${name}.wgsl`, import.meta.url), 'utf8'));
    const files = readdirSync(new URL('../../shaders/', import.meta.url)).filter((f) => f.endsWith('.wgsl')).map((f) => f.slice(0, -5)).sort();
    expect(files).toEqual([...SHADER_NAMES].sort());
  });
  it('registered sources take precedence (browser bundles register imported texts)', async () => {
    registerShaderSources({ 'test_only_shader': '// registered' });
    expect(await loadShader('test_only_shader')).toBe('// registered');
  });
  it('an unknown name fails with the path it tried', async () => {
    await expect(loadShader('no_such_shader')).rejects.toThrow(/no_such_shader\.wgsl/);
  });
});
