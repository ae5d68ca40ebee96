/**
 * WGSL sources by name. All WGSL lives in `shaders/<name>.wgsl` at the package root.
 *
 * - Node: files are read lazily on first use; the package root is found by walking up from this
 *   module's URL to the first directory holding `shaders/` next to a package.json, which works
 *   from `src/backend/webgpu/` (tsx, vitest) and from `dist/src/backend/webgpu/` alike.
 * - Browser: there is no file system; the browser entry imports the .wgsl files as text (esbuild
 *   `loader: { '.wgsl': 'text' }`) and calls `registerShaderSources({ name: text, ... })` before
 *   creating the backend. Registered sources take precedence in Node too (tests may use that).
 */

const registered = new Map<string, string>();
const cache = new Map<string, string>();

export function registerShaderSources(map: Readonly<Record<string, string>>): void {
  for (const [name, text] of Object.entries(map)) {
    registered.set(name, text);
    cache.delete(name);
  }
}

/** Every shader the WebGPU backend loads (the browser entry must register all of them). */
export const SHADER_NAMES = [
  'vec_ops',
  'psd_jacobi',
  'psd_jacobi_global',
  'gemm',
  'cholesky',
  'trsv',
] as const;
export type ShaderName = (typeof SHADER_NAMES)[number];

let shaderDir: Promise<string> | undefined;

async function findShaderDir(): Promise<string> {
  const { existsSync } = await import('node:fs');
  const { dirname, join } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const cand = join(dir, 'shaders');
    if (existsSync(join(cand, 'vec_ops.wgsl')) && existsSync(join(dir, 'package.json'))) return cand;
    const up = dirname(dir);
    if (up === dir) throw new Error(`shaders: cannot find the shaders/ directory above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export async function loadShader(name: ShaderName | string): Promise<string> {
  const hit = registered.get(name) ?? cache.get(name);
  if (hit !== undefined) return hit;
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (!isNode) throw new Error(`shaders: '${name}' was not registered (call registerShaderSources in the browser entry)`);
  shaderDir ??= findShaderDir();
  const { readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const text = await readFile(join(await shaderDir, `${name}.wgsl`), 'utf8');
  cache.set(name, text);
  return text;
}
