/**
 * Builds the browser demo into a self-contained static directory (default demo/dist/):
 *   main.js    UI (bundled from demo/src/main.ts)
 *   worker.js  the solver in a Web Worker (demo/src/worker.ts; the WGSL files come in as text)
 *   index.html, style.css, models/ (the bundled ONNX models and their manifest)
 *
 * Run directly (`tsx demo/build.ts [outDir]`) or call buildDemo() (serve.ts and the e2e test do).
 */
import { build } from 'esbuild';
import { cp, mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEMO_DIR = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_OUT_DIR = join(DEMO_DIR, 'dist');

export interface BuildOptions {
  /** Output directory; emptied first. */
  readonly outDir?: string;
  readonly minify?: boolean;
}

export async function buildDemo(opts: BuildOptions = {}): Promise<string> {
  const outDir = resolve(opts.outDir ?? DEFAULT_OUT_DIR);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: { main: join(DEMO_DIR, 'src/main.ts'), worker: join(DEMO_DIR, 'src/worker.ts') },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    minify: opts.minify ?? false,
    // All WGSL is imported from shaders/ as plain text and registered in the worker.
    loader: { '.wgsl': 'text' },
    // The library reaches node:fs/node:path (model paths, shader files on disk) and Dawn's
    // 'webgpu' package only through dynamic imports on Node-only code paths; in the browser the
    // model is always bytes, shaders are registered and navigator.gpu exists, so those imports
    // are never executed. Left external, they stay as inert import() calls in the bundle.
    external: ['node:*', 'webgpu'],
    logLevel: 'warning',
  });
  await cp(join(DEMO_DIR, 'index.html'), join(outDir, 'index.html'));
  await cp(join(DEMO_DIR, 'style.css'), join(outDir, 'style.css'));
  await cp(join(DEMO_DIR, 'models'), join(outDir, 'models'), { recursive: true });
  return outDir;
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const out = await buildDemo(process.argv[2] ? { outDir: process.argv[2] } : {});
  console.log(`demo built in ${out}`);
}
