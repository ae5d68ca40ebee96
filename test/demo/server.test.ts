/** The demo's static server and port selection (demo/static-server.ts, demo/port.ts). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { resolveUnder, serveStatic, type RunningServer } from '../../demo/static-server.js';
import { parsePort } from '../../demo/port.js';

/** A raw GET (fetch() would normalise '..' out of the path before sending it). */
function get(url: string, path: string): Promise<{ status: number; type: string | undefined; body: string }> {
  const u = new URL(url);
  return new Promise((ok, fail) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', fail);
    req.end();
  });
}

describe('static server', () => {
  let dir: string;
  let server: RunningServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lipdp-static-'));
    mkdirSync(join(dir, 'models'));
    writeFileSync(join(dir, 'index.html'), '<p>hi</p>');
    writeFileSync(join(dir, 'main.js'), 'export {};');
    writeFileSync(join(dir, 'models', 'a b.onnx'), 'xx');
    server = await serveStatic(dir, 0);
  });

  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('picks a free port for 0 and serves on loopback', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
  });

  it('serves index.html for / and sets content types', async () => {
    expect(await get(server.url, '/')).toMatchObject({ status: 200, type: 'text/html; charset=utf-8', body: '<p>hi</p>' });
    expect((await get(server.url, '/main.js')).type).toBe('text/javascript; charset=utf-8');
    expect(await get(server.url, '/models/a%20b.onnx')).toMatchObject({ status: 200, type: 'application/octet-stream', body: 'xx' });
  });

  it('404s missing files and refuses paths outside the root', async () => {
    expect((await get(server.url, '/nope.js')).status).toBe(404);
    expect((await get(server.url, '/../../etc/passwd')).status).not.toBe(200);
    expect((await get(server.url, '/%2e%2e/%2e%2e/etc/passwd')).status).not.toBe(200);
    // Request paths are absolute, so '..' segments normalise away inside the root...
    expect(resolveUnder('/srv/demo', '/../etc/passwd')).toBe('/srv/demo/etc/passwd');
    expect(resolveUnder('/srv/demo', '/%2e%2e/x')).toBe('/srv/demo/x');
    // ...and a relative one that would climb out is refused.
    expect(resolveUnder('/srv/demo', '..')).toBeNull();
    expect(resolveUnder('/srv/demo', '/a%00b')).toBeNull();
    expect(resolveUnder('/srv/demo', '/a/../b.js')).toBe('/srv/demo/b.js');
    expect(resolveUnder('/srv/demo', '/%E0%A4%A')).toBeNull();
  });
});

describe('parsePort', () => {
  it('prefers --port, then LIPDP_DEMO_PORT, then PORT, else 8080', () => {
    expect(parsePort([], {})).toBe(8080);
    expect(parsePort(['--port', '0'], { PORT: '9' })).toBe(0);
    expect(parsePort(['--port=5000'], {})).toBe(5000);
    expect(parsePort([], { LIPDP_DEMO_PORT: '7000', PORT: '9' })).toBe(7000);
    expect(parsePort([], { PORT: '9' })).toBe(9);
  });

  it('rejects bad values', () => {
    expect(() => parsePort(['--port', 'x'], {})).toThrow(/invalid port/);
    expect(() => parsePort(['--port', '70000'], {})).toThrow(/invalid port/);
    expect(() => parsePort(['--port'], {})).toThrow(/--port needs a value/);
  });
});
