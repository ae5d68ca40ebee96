/**
 * Headless Chromium for the demo e2e tests, driven by playwright-core (no bundled browser: we
 * use the system's Chromium, Debian's /usr/bin/chromium by default, or LIPDP_CHROMIUM).
 *
 * Flags (measured with Chromium 156 on this offline machine, see demo/README.md):
 * --headless=new with --enable-unsafe-webgpu exposes a SwiftShader WebGPU adapter
 * (vendor "google", architecture "swiftshader") to pages and workers on http://127.0.0.1 (a
 * secure context; navigator.gpu is absent on about:blank). Neither --enable-features=Vulkan nor
 * --use-webgpu-adapter=swiftshader is needed. Without --enable-unsafe-webgpu, navigator.gpu
 * exists but requestAdapter() returns null, which is what a browser without usable WebGPU looks
 * like to the page. The rest keeps an offline machine from trying the network.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.LIPDP_CHROMIUM ?? '/usr/bin/chromium';

export const BASE_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
] as const;

export const WEBGPU_FLAGS = ['--enable-unsafe-webgpu'] as const;

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launch with a fresh user-data-dir (removed on close); webgpu: false hides the adapter. */
export async function launchChromium(opts: { webgpu: boolean }): Promise<Browser> {
  if (!chromiumAvailable()) throw new Error(`Chromium not found at ${CHROMIUM_PATH} (set LIPDP_CHROMIUM or install Debian's chromium)`);
  const profile = mkdtempSync(join(tmpdir(), 'lipdp-chromium-'));
  // headless: false because the headless mode is chosen by the explicit --headless=new flag.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: false,
    args: [...BASE_FLAGS, ...(opts.webgpu ? WEBGPU_FLAGS : [])],
    viewport: { width: 900, height: 1200 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
