import { existsSync } from 'node:fs';
import { chromium as playwright } from 'playwright-core';

/** A Chromium that started and rendered a page on this machine, and where it came from. */
export interface ChromiumChoice {
  readonly executablePath: string;
  readonly args: readonly string[];
  /** Which candidate it is, for the line that says which browser the tests use. */
  readonly source: string;
}

/**
 * The flags of a headless Chromium as root in a sandbox with a closed network: no setuid sandbox,
 * no GPU process (the npm build's GPU init crashed with SIGTRAP on some machines), and none of the
 * background connections a closed network refuses.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's package `chromium` puts its browser here. */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

interface Candidate {
  readonly source: string;
  readonly path: () => Promise<string>;
}

function candidates(env: NodeJS.ProcessEnv): Candidate[] {
  // A browser named by the user is the only one tried: it was named for a reason.
  const named = env.CHROMIUM_PATH;
  if (named) return [{ source: 'CHROMIUM_PATH', path: () => Promise.resolve(named) }];
  return [
    {
      source: 'the npm package @sparticuz/chromium',
      path: async () => {
        const { default: sparticuz } = await import('@sparticuz/chromium');
        return sparticuz.executablePath();
      },
    },
    { source: "Debian's chromium", path: () => Promise.resolve(DEBIAN_CHROMIUM) },
  ];
}

/** Starts the browser, renders a page and closes it: answers why not, or undefined when it works. */
export async function tryChromium(executablePath: string, timeoutMs = 60_000): Promise<string | undefined> {
  if (!existsSync(executablePath)) return `${executablePath} does not exist`;
  try {
    const browser = await playwright.launch({
      executablePath,
      args: [...CHROMIUM_ARGS],
      headless: true,
      timeout: timeoutMs,
    });
    try {
      const page = await browser.newPage();
      await page.setContent('<p id="p">ok</p>');
      const text = await page.textContent('#p');
      if (text !== 'ok') return `it rendered "${String(text)}" instead of "ok"`;
    } finally {
      await browser.close();
    }
    return undefined;
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).split('\n').slice(0, 3).join(' ');
  }
}

/**
 * The first Chromium that starts on this machine: `CHROMIUM_PATH` when set (and only it), else the
 * one inside the npm package `@sparticuz/chromium`, else Debian's `chromium`. Throws with why each
 * failed: browser tests never turn into skips.
 */
export async function findChromium(env: NodeJS.ProcessEnv = process.env): Promise<ChromiumChoice> {
  const failures: string[] = [];
  for (const candidate of candidates(env)) {
    let executablePath: string;
    try {
      executablePath = await candidate.path();
    } catch (error) {
      failures.push(`${candidate.source}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    const failure = await tryChromium(executablePath);
    if (failure === undefined) return { executablePath, args: CHROMIUM_ARGS, source: candidate.source };
    failures.push(`${candidate.source} (${executablePath}): ${failure}`);
  }
  throw new Error(`no Chromium starts on this machine:\n  ${failures.join('\n  ')}`);
}
