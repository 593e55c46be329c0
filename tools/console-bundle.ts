import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { build, buildSync, type BuildOptions } from 'esbuild';

/** The operator console's source: browser TypeScript, its page and styles. */
export const CONSOLE_SOURCE = path.resolve(import.meta.dirname, '..', 'console');

/**
 * The console as a plant's Wi-Fi should get it: one minified script and one stylesheet (uPlot's
 * included), for the browsers of phones and control-room PCs of the last few years.
 */
function options(outdir: string): BuildOptions {
  return {
    entryPoints: { main: path.join(CONSOLE_SOURCE, 'main.ts') },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['chrome100', 'firefox100', 'safari15'],
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    outdir,
  };
}

/** The console's files by URL path (`/index.html`, `/main.js`, `/main.css`), built in memory. */
export async function buildConsole(): Promise<Map<string, Uint8Array>> {
  const result = await build({ ...options('/console'), write: false });
  const files = new Map<string, Uint8Array>();
  for (const file of result.outputFiles) files.set(`/${path.basename(file.path)}`, file.contents);
  files.set('/index.html', readFileSync(path.join(CONSOLE_SOURCE, 'index.html')));
  return files;
}

/** Writes the console's files into `outdir`, synchronously: what a CDK asset's local bundling needs. */
export function buildConsoleInto(outdir: string): void {
  mkdirSync(outdir, { recursive: true });
  buildSync(options(outdir));
  copyFileSync(path.join(CONSOLE_SOURCE, 'index.html'), path.join(outdir, 'index.html'));
}
