/**
 * The local runtime under hostile input and crashes. Publishers send a seeded mix of valid
 * readings and malformed messages of many shapes over MQTT/TLS (QoS 1, resending whatever got no
 * PUBACK, as a device does); real edge agents publish simulated readings beside them; meanwhile
 * the runtime is killed with SIGKILL or stopped with Ctrl-C at random moments and restarted, and
 * agents are killed with SIGKILL and restarted. At the end:
 *
 * - every acknowledged valid reading is stored exactly once, and nothing is stored that was not sent;
 * - every acknowledged malformed message has a quarantine row of its own, with its reasons;
 * - oversized messages are refused, never acknowledged, never stored;
 * - every edge agent's readings are stored with contiguous sequence numbers (a gap is a loss);
 * - for every run that ended with Ctrl-C, the counters it printed equal the rows it added;
 * - the runtime never exited other than as told.
 *
 *   npm run bench:hostile -- --messages 100000 --seed 1
 *
 * The last line is a JSON object with the figures and `ok`.
 */
import { parseSummary } from '../bin/cli/start-output.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { seededRandom } from '../core/simulation/random.ts';
import { LocalCertificateAuthority } from '../local/broker/certs.ts';
import { DuckDbStore } from '../local/store/duckdb-store.ts';
import { makeMessage, type Message } from './hostile/messages.ts';
import { publisher, type Broker } from './hostile/publishers.ts';
import { readVerdict, type CounterCheck } from './hostile/verdict.ts';
import { AgentProcesses } from './hostile/agents.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    publishers: { type: 'string', default: '20' },
    agents: { type: 'string', default: '3' },
    'chaos-ms': { type: 'string', default: '6000' },
    /** At most this many kills and Ctrl-Cs, so a small run on a slow machine still ends. */
    'max-chaos': { type: 'string', default: '1000' },
    keep: { type: 'boolean', default: false },
  },
});
const TOTAL = Number(values.messages);
const PUBLISHERS = Number(values.publishers);
const AGENTS = Number(values.agents);
const CHAOS_MS = Number(values['chaos-ms']);
const MAX_CHAOS = Number(values['max-chaos']);
const random = seededRandom(Number(values.seed));
const ROOT = path.resolve(import.meta.dirname, '..');
const USE_CASE = 'pump-maintenance';
const dataDir = mkdtempSync(path.join(tmpdir(), 'aiot-hostile-'));
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

const publisherThing = (i: number) => `hostile-${String(i).padStart(2, '0')}`;
const agentThing = (i: number) => `agent-${String(i).padStart(2, '0')}`;
const startTime = Date.now() - 3600_000;

const messages: Message[] = [];
const perThingCount = new Map<string, number>();
for (let index = 0; index < TOTAL; index++) {
  const thing = publisherThing(index % PUBLISHERS);
  const n = perThingCount.get(thing) ?? 0;
  perThingCount.set(thing, n + 1);
  const made = makeMessage(index, thing, n, random, startTime);
  messages.push(made);
  // A duplicate is the same bytes again, right after.
  if (made.kind === 'duplicate') messages.push({ ...made, index: ++index, sends: 0, acked: false });
}

// ---------------------------------------------------------------------------------------------
// The runtime, in its own process, on one port across restarts.

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Run {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout: string;
  stderr: string;
  /** Rows before the run started, to compare with what its summary says. */
  readonly before: { telemetry: number; quarantine: number };
  expectedEnd?: 'SIGKILL' | 'SIGINT';
}

const mqttPort = await freePort();
const runs: Run[] = [];
let runtime: Run | undefined;
const problems: string[] = [];

async function countRows(): Promise<{ telemetry: number; quarantine: number }> {
  const store = await DuckDbStore.open(path.join(dataDir, 'local.duckdb'));
  try {
    const { rows } = await store.query(
      'SELECT (SELECT count(*) FROM telemetry) AS telemetry, (SELECT count(*) FROM quarantine) AS quarantine',
    );
    return { telemetry: Number(rows[0]?.telemetry), quarantine: Number(rows[0]?.quarantine) };
  } finally {
    await store.close();
  }
}

async function startRuntime(): Promise<Run> {
  const before = runs.length === 0 ? { telemetry: 0, quarantine: 0 } : await countRows();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bin/aiot.ts',
      'start',
      '--devices',
      '0',
      '--no-model',
      '--no-console',
      '--mqtt-port',
      String(mqttPort),
      '--api-port',
      '0',
      '--data-dir',
      dataDir,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } },
  );
  const run: Run = {
    child,
    before,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        resolve({ code, signal });
      }),
    ),
  };
  child.stdout.on('data', (chunk: Buffer) => {
    run.stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    run.stderr += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (run.stdout.includes('Ctrl-C stops cleanly')) {
        clearInterval(check);
        resolve();
      }
    }, 20);
    void run.exited.then(({ code }) => {
      clearInterval(check);
      reject(new Error(`the runtime exited with ${code} while starting:\n${run.stderr}`));
    });
  });
  runs.push(run);
  runtime = run;
  void run.exited.then(({ code, signal }) => {
    const expected =
      (run.expectedEnd === 'SIGKILL' && signal === 'SIGKILL') || (run.expectedEnd === 'SIGINT' && code === 0);
    if (!expected)
      problems.push(
        `runtime run ${runs.indexOf(run) + 1} ended with code ${code} signal ${signal}: ${run.stderr.slice(-2000)}`,
      );
    if (run.stderr.includes('ingest or scoring failed'))
      problems.push(`run ${runs.indexOf(run) + 1}: ${run.stderr.slice(-2000)}`);
  });
  return run;
}

async function stopRuntime(how: 'SIGKILL' | 'SIGINT'): Promise<void> {
  const run = runtime;
  if (!run) return;
  runtime = undefined;
  run.expectedEnd = how;
  run.child.kill(how);
  await run.exited;
  if (how !== 'SIGINT') return;
  const summary = parseSummary(run.stdout);
  const after = await countRows();
  const added = {
    telemetry: after.telemetry - run.before.telemetry,
    quarantine: after.quarantine - run.before.quarantine,
  };
  counterChecks.push({
    run: runs.indexOf(run) + 1,
    stored: summary.stored ?? NaN,
    quarantined: summary.quarantined ?? NaN,
    ...added,
  });
}

const counterChecks: CounterCheck[] = [];

// ---------------------------------------------------------------------------------------------
// Publishers: QoS 1, a window of messages in flight, resend what got no PUBACK after reconnecting.

// Made before the runtime's first start, which then finds it (it opens or creates the same CA).
const ca = await LocalCertificateAuthority.openOrCreate(path.join(dataDir, 'certs'));

// ---------------------------------------------------------------------------------------------
// Edge agents: the real agent CLI, killed and restarted.

const agentProcesses = new AgentProcesses(ROOT, mqttPort, dataDir, USE_CASE);
const agents = agentProcesses.running;
const startAgent = (thing: string, source: 'simulator' | 'stdin') => agentProcesses.start(thing, source);

// ---------------------------------------------------------------------------------------------

// Stopped from outside (a test's timeout, Ctrl-C): take the runtime and the agents along.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    runtime?.child.kill('SIGKILL');
    for (const child of agents.values()) child.kill('SIGKILL');
    if (!values.keep) rmSync(dataDir, { recursive: true, force: true });
    process.exit(130);
  });
}

const started = performance.now();
const progress = setInterval(() => {
  log(
    `progress: ${messages.filter((m) => m.acked).length}/${messages.length} acknowledged, runtime ${runtime ? 'up' : 'down'}, ${agents.size} agents`,
  );
}, 10_000);
progress.unref();
await startRuntime();
const agentThings = Array.from({ length: AGENTS }, (_, i) => agentThing(i + 1));
for (const thing of agentThings) {
  await ca.devicePair(thing);
  startAgent(thing, 'simulator');
}
log(
  `${messages.length} messages from ${PUBLISHERS} publishers, ${AGENTS} edge agents, runtime on port ${mqttPort}`,
);

const byThing = new Map<string, Message[]>();
for (const message of messages) byThing.set(message.thing, [...(byThing.get(message.thing) ?? []), message]);
const state = { publishing: true };
const stillPublishing = () => state.publishing;
const broker: Broker = { port: mqttPort, ca, useCase: USE_CASE, random };
const publishers = Promise.all([...byThing].map(([thing, own]) => publisher(broker, thing, own))).finally(
  () => {
    state.publishing = false;
  },
);

let kills = 0;
let interrupts = 0;
let agentKills = 0;
while (stillPublishing()) {
  await Promise.race([
    publishers,
    new Promise((resolve) => setTimeout(resolve, CHAOS_MS * (0.5 + random()))),
  ]);
  if (!stillPublishing()) break;
  if (kills + interrupts + agentKills >= MAX_CHAOS) continue;
  const draw = random();
  const acked = messages.filter((m) => m.acked).length;
  if (draw < 0.45) {
    kills += 1;
    log(`kill -9 of the runtime (${acked}/${messages.length} acknowledged)`);
    await stopRuntime('SIGKILL');
    await startRuntime();
  } else if (draw < 0.65) {
    interrupts += 1;
    log(`Ctrl-C to the runtime under load (${acked}/${messages.length} acknowledged)`);
    await stopRuntime('SIGINT');
    await startRuntime();
  } else {
    const thing = agentThings[Math.floor(random() * agentThings.length)] ?? '';
    agentKills += 1;
    log(`kill -9 of edge agent ${thing}`);
    const child = agents.get(thing);
    child?.kill('SIGKILL');
    if (child) await new Promise((resolve) => child.once('exit', resolve));
    startAgent(thing, 'simulator');
  }
}
log('all publishers acknowledged; stopping the agents and draining their queues');
for (const child of agents.values()) child.kill('SIGINT');
await Promise.all([...agents.values()].map((child) => new Promise((resolve) => child.once('exit', resolve))));
// Whatever an agent still holds goes out now: a run with nothing to read drains and exits.
await Promise.all(
  agentThings.map(
    (thing) =>
      new Promise((resolve) =>
        startAgent(thing, 'stdin').once('exit', (code) => {
          resolve(code);
        }),
      ),
  ),
);
log('agents drained; stopping the runtime with Ctrl-C');
await stopRuntime('SIGINT');
clearInterval(progress);
log('runtime stopped; reading the verdict from the store');
const seconds = (performance.now() - started) / 1000;

// ---------------------------------------------------------------------------------------------
// The verdict, from the store itself.

const verdict = await readVerdict(dataDir, messages, agentThings, counterChecks);
problems.push(...verdict.problems);
const {
  lost,
  duplicated,
  phantom,
  validAcked,
  malformedAcked,
  unquarantined,
  oversized,
  oversizedAcked,
  refusals,
  agentReadings,
  counterMismatches,
} = verdict;

const table = new Table({ head: ['what', 'count'], style: { head: [], border: [] } });
const acknowledged = messages.filter((m) => m.acked).length;
table.push(
  ['messages from publishers', messages.length],
  ['acknowledged (PUBACK)', acknowledged],
  ['sent more than once (no PUBACK before a crash)', messages.filter((m) => m.sends > 1).length],
  ['valid readings acknowledged (distinct)', validAcked.size],
  ['malformed acknowledged', malformedAcked.length],
  [
    'oversized refused (logged in refusals; a kill -9 loses the last 250 ms of the log)',
    `${oversized.length - oversizedAcked} (${refusals.length} logged)`,
  ],
  ['edge agent readings stored', agentReadings],
  ['runtime kill -9 / Ctrl-C / agent kill -9', `${kills} / ${interrupts} / ${agentKills}`],
  [
    'clean runs whose counters equal their rows',
    `${counterChecks.length - counterMismatches.length} of ${counterChecks.length}`,
  ],
  ['lost / duplicated / phantom', `${lost.length} / ${duplicated.length} / ${phantom.length}`],
  ['seconds', seconds.toFixed(0)],
);
console.log(table.toString());
for (const problem of problems) console.log(`PROBLEM: ${problem}`);
if (values.keep) log(`data kept in ${dataDir}`);
else rmSync(dataDir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    messages: messages.length,
    acknowledged,
    validAcknowledged: validAcked.size,
    malformedAcknowledged: malformedAcked.length,
    oversizedRefused: oversized.length - oversizedAcked,
    agentReadings,
    runtimeKills: kills,
    runtimeInterrupts: interrupts,
    agentKills,
    lost: lost.length,
    duplicated: duplicated.length,
    unquarantined: unquarantined.length,
    counterChecks: counterChecks.length,
    counterMismatches: counterMismatches.length,
    seconds: Math.round(seconds),
    ok: problems.length === 0,
  }),
);
process.exit(problems.length === 0 ? 0 : 1);
