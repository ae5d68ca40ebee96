/**
 * lipdp's own version, read from its package.json so it cannot drift from what npm installed.
 * The file is found relative to this module (src/report/ in a checkout, dist/report/ in an
 * installed package: both two levels below the package root). node:fs is imported lazily so that
 * browser bundles of the library (demo/) never load it; there the version is 'unknown'.
 */
let cached: Promise<string> | undefined;

export function lipdpVersion(): Promise<string> {
  cached ??= readVersion();
  return cached;
}

async function readVersion(): Promise<string> {
  if (typeof process === 'undefined' || !process.versions?.node) return 'unknown';
  try {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
    return pkg.name === 'lipdp' && typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
