/** Port selection for demo/serve.ts (kept apart so it can be tested without starting a server). */
const DEFAULT_PORT = 8080;

/** The port from argv (--port N or --port=N), else the environment, else 8080. */
export function parsePort(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): number {
  let raw: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') {
      raw = argv[i + 1];
      if (raw === undefined) throw new Error('--port needs a value (0 picks a free port)');
    }
    else if (a.startsWith('--port=')) raw = a.slice('--port='.length);
  }
  raw ??= env.LIPDP_DEMO_PORT ?? env.PORT;
  if (raw === undefined || raw === '') return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port '${raw}' (use an integer 0-65535; 0 picks a free port)`);
  return port;
}
