/**
 * The README's first minutes, as a newcomer meets them, in a fresh clone: `npm start` exactly as
 * written (default ports, default data folder), the console answering at its printed address, the
 * README's `mosquitto_pub` example run as written, and the demo alert answered from the terminal
 * and found in the alert list and the audit trail. Then Ctrl-C, and the summary must show stored
 * and scored readings. It prints how long each step took.
 *
 * `.ci/run` runs it after `npm test`; it binds the default ports, so it is not a test (tests never
 * do). Run it yourself with `npx tsx tools/readme-check.ts` in a clone without `.aiot/`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const started = Date.now();
/** The demo alert must open within this, or the first minutes do not hold what the README says. */
const ALERT_WITHIN_MS = 10 * 60_000;

const seconds = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const step = (what: string) => {
  console.log(`readme-check ${seconds().padStart(6)}  ${what}`);
};

function fail(message: string, output = ''): never {
  console.error(`readme-check: ${message}`);
  if (output) console.error(output.split('\n').slice(-40).join('\n'));
  process.exit(1);
}

/** Runs a command line as the README writes it, in the repository, and answers its output. */
function run(commandLine: string): string {
  const result = spawnSync('bash', ['-euo', 'pipefail', '-c', commandLine], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  if (result.status !== 0)
    fail(`"${commandLine}" exited ${String(result.status)}`, `${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** The bash block under a README heading. */
function readmeBlock(heading: string): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(heading));
  const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) fail(`no bash block under "${heading}" in README.md`);
  return block;
}

async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) fail(`${what}: not within ${timeoutMs / 1000} s`, output);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

let output = '';

function startPipeline(): ChildProcess {
  // The README's command, as written; its own process group, so Ctrl-C reaches npm and the runtime.
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.once('close', (code) => {
    if (!stopping) fail(`npm start exited by itself (${String(code)})`, output);
  });
  return child;
}

let stopping = false;

interface AlertRow {
  readonly id: string;
  readonly useCase: string;
  readonly deviceId: string;
  readonly status: string;
}

function openPumpAlert(): AlertRow | undefined {
  const alerts = JSON.parse(run('npm run -s aiot -- alerts list --status open --format json')) as AlertRow[];
  return alerts.find((alert) => alert.useCase === 'pump-maintenance');
}

async function main(): Promise<void> {
  if (existsSync(path.join(ROOT, '.aiot')))
    fail('.aiot/ exists: run this in a fresh clone (it checks what a newcomer meets)');
  const pipeline = startPipeline();
  const url = await until(
    'the console address',
    120_000,
    () => /operator console (http:\/\/\S+)/.exec(output)?.[1],
  );
  step(`npm start printed the console at ${url}`);
  const page = await fetch(url).then((r) => r.text());
  if (!page.includes('<div id="app">')) fail(`${url} did not answer the console's page`, page);
  step('the console answers');
  await until('stored readings on the status line', 120_000, () =>
    /stored [1-9]/.test(output) ? true : undefined,
  );
  step('readings are stored');
  await until('CALIBRATED pump-maintenance', 300_000, () =>
    output.includes('CALIBRATED pump-maintenance') ? true : undefined,
  );
  step('the pumps are calibrated');
  const published = run(readmeBlock('### Publish from any MQTT client'));
  if ((published.match(/│ my-pump/g) ?? []).length !== 3)
    fail('the README publish example stored not 3 readings', published);
  step("the README's mosquitto_pub example stored its 3 readings");
  const alert = await until(
    'an open pump-maintenance alert (the demo fault)',
    ALERT_WITHIN_MS,
    openPumpAlert,
  );
  step(`the demo alert is open: ${alert.deviceId}`);
  run(`npm run -s aiot -- alerts false-positive '${alert.id}' --reason sensor-fault`);
  if (!run('npm run -s aiot -- alerts list --status false-positive').includes(alert.id.slice(0, 40)))
    fail('the answer is not in aiot alerts list');
  if (!run('npm run -s aiot -- audit list').includes(alert.id.slice(0, 40)))
    fail('the answer is not in aiot audit list');
  step('answered as a false positive; it shows in alerts list and audit list');
  stopping = true;
  // Closed once npm and the runtime under it are gone and have said everything.
  const closed = new Promise<[number | null, string | null]>((resolve) =>
    pipeline.once('close', (code, signal) => {
      resolve([code, signal]);
    }),
  );
  process.kill(-(pipeline.pid ?? 0), 'SIGINT');
  const [code, signal] = await closed;
  step(`npm start ended (${String(code ?? signal)})`);
  // npm itself ends on the signal, as it does on a terminal; the runtime must end cleanly.
  if (code !== 0 && signal !== 'SIGINT')
    fail(`npm start ended with ${String(code ?? signal)} after Ctrl-C`, output);
  if (/ingest or scoring failed|Error:/.test(output)) fail('npm start reported an error', output);
  const values = output
    .split('\n')
    .filter((line) => /^│ *\d/.test(line))
    .at(-1)
    ?.split('│')
    .map((c) => c.trim());
  const [received, , stored, , , scored, unscored] = (values ?? []).slice(1).map(Number);
  if (!(Number(stored) > 0 && Number(scored) > 0 && Number(received) > 0))
    fail(`the summary after Ctrl-C shows ${String(stored)} stored, ${String(scored)} scored`, output);
  step(
    `stopped cleanly: ${String(received)} messages, ${String(stored)} readings stored, ${String(scored)} scored, ${String(unscored)} unscored`,
  );
}

await main();
