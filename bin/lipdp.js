#!/usr/bin/env node
// Entry point of the `lipdp` command. In a source checkout (src/ present, tsx installed) it runs the
// TypeScript sources directly so the command always matches the code; an installed package runs
// the compiled dist/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src', 'cli', 'main.ts');
let entry;
if (existsSync(src)) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    entry = src;
  } catch {
    entry = undefined;
  }
}
entry ??= join(root, 'dist', 'cli', 'main.js');
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
