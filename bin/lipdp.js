#!/usr/bin/env node
// Entry point of the `lipdp` command. In a source checkout (src/ present, tsx installed) it runs the
// TypeScript sources directly so the command always matches the code; an installed package runs
// the compiled dist/.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);

// Dawn writes two benign warnings about lavapipe's limits ("Warning: max… artificially reduced …")
// from native code straight to file descriptor 2, where no JavaScript can intercept them. With
// --quiet and a backend that may start Dawn, run the command in a child whose stderr passes
// through a filter that drops exactly those lines.
const DAWN_NOISE = /^Warning: max\w+ artificially reduced from \d+ to \d+/;
const mayStartDawn = args.some((a, i) => (a === '--backend' && args[i + 1] !== 'cpu') || (a.startsWith('--backend=') && a !== '--backend=cpu'));
if (args.includes('--quiet') && mayStartDawn && !process.env.LIPDP_FILTERED_STDERR) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: { ...process.env, LIPDP_FILTERED_STDERR: '1' },
  });
  let rest = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const line of lines) if (!DAWN_NOISE.test(line)) process.stderr.write(line + '\n');
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('close', (code, signal) => {
    if (rest && !DAWN_NOISE.test(rest)) process.stderr.write(rest);
    process.exitCode = code ?? (signal ? 1 : 0);
  });
} else {
  await run();
}

async function run() {
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
  process.exitCode = await main(args);
}
