/**
 * `npm run demo` stops its server on SIGTERM and SIGINT. npm passes a SIGTERM only to the shell
 * it runs the script in, which dies without passing it on; the server must not outlive it.
 * SIGINT is tested the way it arrives from Ctrl+C, at the whole foreground process group (npm
 * itself ignores a SIGINT sent to it alone and waits for its script, measured with npm 11).
 */
import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Start `npm run demo -- --port 0 --no-build` in its own process group; resolve with its URL. */
function startDemo(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn('npm', ['run', 'demo', '--', '--port', '0', '--no-build'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`demo server did not start: ${out}`)), 60_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /lipdp demo: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok({ child, url: m[1]! });
      }
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', () => fail(new Error(`npm exited before the server started: ${out}`)));
  });
}

/** Whether something answers HTTP at url (any status). */
function answers(url: string): Promise<boolean> {
  return new Promise((ok) => {
    const req = request(url, { method: 'HEAD', timeout: 1000 }, (res) => {
      res.resume();
      ok(true);
    });
    req.on('error', () => ok(false));
    req.on('timeout', () => {
      req.destroy();
      ok(false);
    });
    req.end();
  });
}

async function stopsWithin(url: string, ms: number): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (!(await answers(url))) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** Whether any process of the group is left. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run demo', () => {
  for (const [signal, target] of [
    ['SIGTERM', 'npm'],
    ['SIGINT', 'process group'],
  ] as const) {
    it(`stops its server on ${signal} to the ${target}`, async () => {
      const { child, url } = await startDemo();
      try {
        expect(await answers(url)).toBe(true);
        process.kill(target === 'npm' ? child.pid! : -child.pid!, signal);
        expect(await stopsWithin(url, 5000)).toBe(true);
        const t0 = Date.now();
        while (groupAlive(child.pid!) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 100));
        expect(groupAlive(child.pid!)).toBe(false);
      } finally {
        // Never leave a server behind, whatever the test found.
        if (groupAlive(child.pid!)) process.kill(-child.pid!, 'SIGKILL');
      }
    }, 90_000);
  }
});
