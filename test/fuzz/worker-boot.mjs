// Worker entry of fuzz-run.ts: a worker thread does not inherit tsx's loader from the main
// thread, so it registers it itself (as bin/lipdp.js does) before loading the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./fuzz-run.ts', import.meta.url).href);
