/**
 * `npm run demo`: builds the demo into demo/dist/ and serves it on 127.0.0.1.
 *   --port N   (or env LIPDP_DEMO_PORT, then PORT; default 8080); --port 0 picks a free port.
 *   --no-build serve demo/dist as it is.
 */
import { buildDemo, DEFAULT_OUT_DIR } from './build.js';
import { serveStatic } from './static-server.js';
import { parsePort } from './port.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const port = parsePort(argv, process.env);
  const root = argv.includes('--no-build') ? DEFAULT_OUT_DIR : await buildDemo();
  const server = await serveStatic(root, port);
  console.log(`lipdp demo: ${server.url}  (serving ${root}; Ctrl+C to stop)`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`demo: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
