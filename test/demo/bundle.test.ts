/**
 * The browser bundles may reach Node built-ins only through dynamic import() on Node-only code
 * paths (left inert by esbuild's `external`). A static `import ... from "node:..."` anywhere in
 * src/ that the worker pulls in makes the whole module graph fail to load in a browser — the
 * page then shows only "solver worker failed". Checked on the real esbuild output, without a
 * browser, so the cause is named here rather than in the e2e test.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDemo } from '../../demo/build.js';

describe('demo bundles', () => {
  it('have no static imports of Node built-ins or of the Dawn package', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lipdp-demo-bundle-'));
    try {
      await buildDemo({ outDir: dir });
      for (const file of ['main.js', 'worker.js']) {
        const code = readFileSync(join(dir, file), 'utf8');
        const staticImports = [...code.matchAll(/^\s*import\s[^;]*?from\s*["']([^"']+)["']/gm)].map((m) => m[1]);
        expect(staticImports.filter((s) => s!.startsWith('node:') || s === 'webgpu'), file).toEqual([]);
        // Sanity: the worker really is the solver bundle.
        if (file === 'worker.js') expect(code).toContain('estimateLipschitz');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
