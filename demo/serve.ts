/**
 * `npm run demo`: builds the demo into demo/dist/ and serves it on 127.0.0.1.
 *   --port N   (or env LIPDP_DEMO_PORT, then PORT; default 8080); --port 0 picks a free port.
 *   --no-build serve demo/dist as it is.
 *
 * Stopping: SIGINT / SIGTERM close the server and exit. `npm run demo` runs this under
 * `sh -c`; on SIGTERM npm signals only that shell, which dies without passing the signal on, so
 * this process would be left running under init (measured with npm 11 and dash). Hence the
 * script runs node directly (no tsx wrapper process in between) and this process also stops
 * when its parent goes away: its parent pid changes when it is re-parented.
 */
import { buildDemo, DEFAULT_OUT_DIR } from './build.js';
import { serveStatic } from './static-server.js';
import { parsePort } from './port.js';

const PARENT_POLL_MS = 500;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const port = parsePort(argv, process.env);
  const root = argv.includes('--no-build') ? DEFAULT_OUT_DIR : await buildDemo();
  const server = await serveStatic(root, port);
  console.log(`lipdp demo: ${server.url}  (serving ${root}; Ctrl+C to stop)`);
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`lipdp demo: stopping (${why})`);
    // close() drops idle keep-alive connections itself; the timer is a last resort so a stuck
    // socket can never keep the process alive after it was told to stop.
    setTimeout(() => process.exit(0), 2000).unref();
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => stop('SIGHUP'));
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop('parent process exited');
  }, PARENT_POLL_MS).unref();
}

main().catch((e: unknown) => {
  console.error(`demo: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
