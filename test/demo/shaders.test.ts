/**
 * The browser bundle has no file system: every WGSL file the WebGPU backend loads must be
 * imported as text by demo/src/shaders.ts. Checked against both SHADER_NAMES and the shaders/
 * directory, so a new shader cannot silently be missing from the demo.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHADER_NAMES } from '../../src/backend/webgpu/shaders.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const registry = readFileSync(join(ROOT, 'demo/src/shaders.ts'), 'utf8');
const imported = new Set([...registry.matchAll(/from '\.\.\/\.\.\/shaders\/([a-z0-9_]+)\.wgsl'/g)].map((m) => m[1]));

describe('demo shader registry', () => {
  it('imports every shader in SHADER_NAMES', () => {
    for (const name of SHADER_NAMES) expect(imported, name).toContain(name);
  });

  it('imports every .wgsl file in shaders/', () => {
    const files = readdirSync(join(ROOT, 'shaders')).filter((f) => f.endsWith('.wgsl')).map((f) => f.slice(0, -'.wgsl'.length));
    for (const f of files) expect(imported, f).toContain(f);
  });

  it('registers each import under its file name', () => {
    for (const name of imported) expect(registry).toMatch(new RegExp(`^\\s+${name}(: \\w+)?,$`, 'm'));
  });
});
