import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { chromium as playwright, type Browser, type Page } from 'playwright-core';
import { inject } from 'vitest';

/** Where browser tests leave their screenshots, for people to look at. */
export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, '..', '..', 'test-output', 'console');

export const VIEWPORTS = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 900 },
} as const;

/**
 * A headless Chromium: the one the run's global setup found to start on this machine
 * (`CHROMIUM_PATH`, else the npm package's, else Debian's; see tools/chromium.ts).
 */
export async function launchBrowser(): Promise<Browser> {
  const { executablePath, args } = inject('chromium');
  return playwright.launch({ executablePath, args: [...args], headless: true });
}

/** Every console error and uncaught exception of a page: a console that works has none. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  return errors;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  // Two frames: charts resize to a new viewport on the next one.
  await page.evaluate(
    'new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))',
  );
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
