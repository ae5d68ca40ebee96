// `prepare`: build dist/ wherever lipdp is installed from source — `npm install` in a checkout,
// `npm install git+…` (npm has installed the devDependencies in its temporary clone) and
// `npm install <path>` (npm links the folder and runs this in it). The last case can meet a
// fresh clone without node_modules, where the compiler is missing: then install this package's
// own dependencies first (--ignore-scripts, so this script does not run itself again).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

function findTsc() {
  try {
    return require.resolve('typescript/bin/tsc');
  } catch {
    return undefined;
  }
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) {
    console.error(`lipdp prepare: '${cmd} ${args.join(' ')}' failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

let tsc = findTsc();
if (!tsc) {
  console.error('lipdp prepare: TypeScript not found; installing the build dependencies of this checkout');
  run('npm', ['install', '--ignore-scripts', '--include=dev', '--no-audit', '--no-fund']);
  tsc = findTsc();
  if (!tsc) {
    console.error('lipdp prepare: TypeScript still not found after npm install');
    process.exit(1);
  }
}
// A clean dist/: stale files (e.g. source maps of an older build) would otherwise be packed.
rmSync(join(root, 'dist'), { recursive: true, force: true });
run(process.execPath, [tsc, '-p', 'tsconfig.build.json']);
