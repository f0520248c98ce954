// Chromium from Debian's package, driven by playwright-core (never a downloaded browser).
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Flags that work on this kind of machine (see ../shared/TOOLCHAIN.md). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where Chromium is: `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`; undefined when missing. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((path): path is string => Boolean(path) && existsSync(path!));
}

/**
 * Whether the browser tests run here. Without Chromium they are skipped locally, but under
 * `CI=true` they run anyway and fail with a message naming the missing browser.
 */
export const browserTestsEnabled = chromiumPath() !== undefined || process.env.CI === 'true';

/**
 * Launches headless Chromium (a fresh temporary profile per launch).
 * @throws Error naming the fix when Chromium is not installed.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (executablePath === undefined) {
    throw new Error('Chromium is not installed: `apt-get install chromium` (or set CHROMIUM_PATH). The browser tests need it under CI=true.');
  }
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_FLAGS, timeout: 60_000 });
}
