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
import mqtt, { type MqttClient } from 'mqtt';
import { publishPacer } from '../test/support/mqtt.ts';
import { pumpTelemetryV1 } from '../test/support/contracts.ts';
import { seededRandom } from '../core/simulation/random.ts';
import { telemetryTopic } from '../core/ingest/topics.ts';
import { LocalCertificateAuthority } from '../local/broker/certs.ts';
import { DuckDbStore } from '../local/store/duckdb-store.ts';

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

// ---------------------------------------------------------------------------------------------
// The messages: a seeded mix of valid readings and malformed shapes, each with what must happen.

type Kind =
  | 'valid'
  | 'duplicate'
  | 'empty'
  | 'not-json'
  | 'not-utf8'
  | 'array'
  | 'missing-fields'
  | 'out-of-range'
  | 'lone-surrogate'
  | 'identity-mismatch'
  | 'year-0'
  | 'year-9999'
  | 'deep-nesting'
  | 'big-string'
  | 'infinity'
  | 'proto-key'
  | 'wrong-version'
  | 'oversized';

interface Message {
  readonly index: number;
  readonly thing: string;
  readonly kind: Kind;
  readonly payload: Buffer;
  /** Found in the quarantined payload (text or bytes); absent for shapes that cannot carry one. */
  readonly marker?: string;
  /** Device and time of a valid reading. */
  readonly key?: string;
  sends: number;
  acked: boolean;
}

const MALFORMED: readonly Kind[] = [
  'empty',
  'not-json',
  'not-utf8',
  'array',
  'missing-fields',
  'out-of-range',
  'lone-surrogate',
  'identity-mismatch',
  'year-0',
  'year-9999',
  'deep-nesting',
  'big-string',
  'infinity',
  'proto-key',
  'wrong-version',
];
const publisherThing = (i: number) => `hostile-${String(i).padStart(2, '0')}`;
const agentThing = (i: number) => `agent-${String(i).padStart(2, '0')}`;
const startTime = Date.now() - 3600_000;

function makeMessage(index: number, thing: string, perThing: number): Message {
  const marker = `m${index}x`;
  const base = {
    ...pumpTelemetryV1.example({ deviceId: thing, seq: perThing }),
    // 10 ms apart per device: every valid reading has a time of its own.
    timestamp: new Date(startTime + perThing * 10).toISOString(),
  };
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const draw = random();
  const message = (kind: Kind, payload: Buffer, extra: Partial<Message> = {}): Message => ({
    index,
    thing,
    kind,
    payload,
    sends: 0,
    acked: false,
    ...extra,
  });
  if (draw < 0.45) return message('valid', json(base), { key: `${thing}|${base.timestamp}` });
  if (draw < 0.5) return message('duplicate', json(base), { key: `${thing}|${base.timestamp}` });
  if (draw < 0.5002) return message('oversized', Buffer.alloc(200 * 1024, 0x41), { marker });
  const kind = MALFORMED[Math.floor(random() * MALFORMED.length)] ?? 'empty';
  switch (kind) {
    case 'empty':
      return message(kind, Buffer.alloc(0));
    case 'not-json':
      return message(kind, Buffer.from(`not json ${marker}`), { marker });
    case 'not-utf8':
      return message(kind, Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(marker)]), { marker });
    case 'array':
      return message(kind, json([marker, 1, 2]), { marker });
    case 'missing-fields':
      return message(kind, json({ deviceId: thing, marker }), { marker });
    case 'out-of-range':
      return message(kind, json({ ...base, marker, measures: { ...base.measures, motorTemperature: 900 } }), {
        marker,
      });
    case 'lone-surrogate':
      return message(
        kind,
        Buffer.from(
          JSON.stringify({ ...base, firmware: `${marker}\\ud800` }).replace('\\\\ud800', '\\ud800'),
        ),
        {
          marker,
        },
      );
    case 'identity-mismatch':
      return message(kind, json({ ...base, deviceId: `someone-else`, firmware: marker }), { marker });
    case 'year-0':
      return message(kind, json({ ...base, firmware: marker, timestamp: '0000-01-01T00:00:00.000Z' }), {
        marker,
      });
    case 'year-9999':
      return message(kind, json({ ...base, firmware: marker, timestamp: '9999-12-31T23:59:59.000Z' }), {
        marker,
      });
    case 'deep-nesting': {
      let nested: unknown = marker;
      for (let depth = 0; depth < 2000; depth++) nested = { a: nested };
      return message(kind, json({ ...base, measures: nested }), { marker });
    }
    case 'big-string':
      return message(kind, json({ ...base, firmware: `${marker}${'x'.repeat(20_000)}` }), { marker });
    case 'infinity':
      return message(
        kind,
        Buffer.from(
          JSON.stringify({ ...base, firmware: marker }).replace(
            '"motorCurrent":1.35',
            '"motorCurrent":1e999',
          ),
        ),
        {
          marker,
        },
      );
    case 'proto-key':
      return message(
        kind,
        Buffer.from(
          JSON.stringify({ ...base, firmware: marker }).replace('{', '{"__proto__":{"polluted":1},'),
        ),
        {
          marker,
        },
      );
    default:
      return message('wrong-version', json({ ...base, version: 99, firmware: marker }), { marker });
  }
}

const messages: Message[] = [];
const perThingCount = new Map<string, number>();
for (let index = 0; index < TOTAL; index++) {
  const thing = publisherThing(index % PUBLISHERS);
  const n = perThingCount.get(thing) ?? 0;
  perThingCount.set(thing, n + 1);
  const made = makeMessage(index, thing, n);
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

const counterChecks: {
  run: number;
  stored: number;
  quarantined: number;
  telemetry: number;
  quarantine: number;
}[] = [];

// ---------------------------------------------------------------------------------------------
// Publishers: QoS 1, a window of messages in flight, resend what got no PUBACK after reconnecting.

// Made before the runtime's first start, which then finds it (it opens or creates the same CA).
const ca = await LocalCertificateAuthority.openOrCreate(path.join(dataDir, 'certs'));

/**
 * One connection attempt that settles either way. mqtt.js's connectAsync waits for `connect` or
 * `error`: a broker killed during the handshake closes the socket with neither, and the promise
 * would wait forever.
 */
function connectOnce(thing: string, pair: { cert: string; key: string }): Promise<MqttClient | undefined> {
  return new Promise((resolve) => {
    const client = mqtt.connect(`mqtts://localhost:${mqttPort}`, {
      clientId: thing,
      ca: ca.caPem,
      cert: pair.cert,
      key: pair.key,
      reconnectPeriod: 0,
      connectTimeout: 3000,
    });
    client.on('error', () => undefined);
    client.once('connect', () => {
      resolve(client);
    });
    client.once('close', () => {
      client.end(true);
      resolve(undefined);
    });
  });
}

async function connect(thing: string): Promise<MqttClient> {
  const pair = await ca.devicePair(thing);
  for (;;) {
    const client = await connectOnce(thing, pair);
    if (client?.connected) return client;
    await new Promise((resolve) => setTimeout(resolve, 200 + random() * 300));
  }
}

const WINDOW = 20;
/** How long a publisher waits for a PUBACK before it reconnects and sends again. */
const PUBACK_TIMEOUT_MS = 5000;

/**
 * A connection and a way to publish on it that settles either way: mqtt.js keeps unacknowledged
 * publishes for a reconnect it will not make, so they are given up when the connection closes.
 */
async function link(thing: string) {
  const client = await connect(thing);
  const closed = new Promise<'closed'>((resolve) =>
    client.once('close', () => {
      resolve('closed');
    }),
  );
  const publish = async (message: Message): Promise<boolean> => {
    message.sends += 1;
    let timer: NodeJS.Timeout | undefined;
    // A publish the broker throttled gets no PUBACK: give up on it, as a device SDK times out.
    const unanswered = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        resolve('timeout');
      }, PUBACK_TIMEOUT_MS);
    });
    const outcome = await Promise.race([
      client.publishAsync(telemetryTopic(USE_CASE, thing), message.payload, { qos: 1 }).then(
        () => 'acked' as const,
        () => 'failed' as const,
      ),
      closed,
      unanswered,
    ]);
    clearTimeout(timer);
    if (outcome === 'acked') message.acked = true;
    return message.acked;
  };
  return { publish, end: () => client.end(true) };
}

async function publisher(thing: string, own: Message[]): Promise<void> {
  let pending = own.filter((m) => m.kind !== 'oversized');
  const oversized = own.filter((m) => m.kind === 'oversized');
  while (pending.length > 0) {
    const connection = await link(thing);
    const pace = publishPacer();
    const state = { broken: false };
    while (!state.broken && pending.length > 0) {
      const batch = pending.slice(0, WINDOW);
      await Promise.all(
        batch.map(async (message) => {
          // A device keeps under IoT Core's publishes per second on its connection (the broker drops the rest).
          await pace();
          if (!(await connection.publish(message))) state.broken = true;
        }),
      );
      // What got no PUBACK goes again on the next connection, as a device resends it.
      pending = pending.filter((m) => !m.acked);
    }
    connection.end();
  }
  // Oversized ones last, each on a connection of its own: the broker disconnects the sender.
  for (const message of oversized) {
    const connection = await link(thing);
    await connection.publish(message);
    connection.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Edge agents: the real agent CLI, killed and restarted.

const agents = new Map<string, ChildProcess>();

function startAgent(thing: string, source: 'simulator' | 'stdin'): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'edge/main.ts',
      '--thing',
      thing,
      '--source',
      source,
      '--rate',
      '20',
      '--endpoint',
      `mqtts://localhost:${mqttPort}`,
      '--manifest',
      path.join('usecases', `${USE_CASE}.yaml`),
      '--certs-dir',
      path.join(dataDir, 'certs'),
      '--data-dir',
      path.join(dataDir, 'edge', thing),
      '--status',
      'off',
      '--no-health',
      '--drain',
      '60',
      '--fsync',
      'never',
    ],
    { cwd: ROOT, stdio: [source === 'stdin' ? 'pipe' : 'ignore', 'ignore', 'pipe'] },
  );
  if (source === 'stdin') child.stdin?.end();
  agents.set(thing, child);
  return child;
}

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
const publishers = Promise.all([...byThing].map(([thing, own]) => publisher(thing, own))).finally(() => {
  state.publishing = false;
});

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

const store = await DuckDbStore.open(path.join(dataDir, 'local.duckdb'), { readOnly: true });
const everything = { maxRows: 10_000_000, timeoutMs: 600_000 };
const telemetry = (
  await store.query(
    "SELECT device_id, strftime(time, '%Y-%m-%dT%H:%M:%S.%g') || 'Z' AS t, seq FROM telemetry",
    everything,
  )
).rows;
const quarantine = (
  await store.query('SELECT id, device_id, payload, payload_base64, reasons FROM quarantine', everything)
).rows;
const refusals = (
  await store.query("SELECT thing, reason FROM refusals WHERE reason LIKE '%over the%'", everything)
).rows;
await store.close();

const storedKeys = new Map<string, number>();
for (const row of telemetry) {
  const key = `${String(row.device_id)}|${String(row.t)}`;
  storedKeys.set(key, (storedKeys.get(key) ?? 0) + 1);
}
const validSent = new Set(messages.filter((m) => m.key).map((m) => m.key));
const validAcked = new Set(messages.filter((m) => m.key && m.acked).map((m) => m.key));
const lost = [...validAcked].filter((key) => !storedKeys.has(key ?? ''));
const duplicated = [...storedKeys].filter(([, count]) => count > 1);
const phantom = [...storedKeys.keys()].filter((key) => key.startsWith('hostile-') && !validSent.has(key));

const quarantineText = quarantine.map((row) => ({
  text:
    row.payload === null
      ? Buffer.from(String(row.payload_base64), 'base64').toString('latin1')
      : (row.payload as string),
  reasons: JSON.parse(String(row.reasons)) as unknown[],
  deviceId: String(row.device_id),
}));
const rowsByMarker = new Map<string, number>();
const markers = new Set(messages.filter((m) => m.marker && m.kind !== 'oversized').map((m) => m.marker));
for (const row of quarantineText) {
  const found = /m\d+x/.exec(row.text)?.[0];
  if (found && markers.has(found)) rowsByMarker.set(found, (rowsByMarker.get(found) ?? 0) + 1);
}
const malformedAcked = messages.filter((m) => m.acked && MALFORMED.includes(m.kind));
const unquarantined = malformedAcked.filter((m) => m.marker && !rowsByMarker.has(m.marker));
const emptyAcked = malformedAcked.filter((m) => m.kind === 'empty').length;
const emptyRows = quarantineText.filter(
  (row) => row.text === '' && row.deviceId.startsWith('hostile-'),
).length;
const withoutReasons = quarantineText.filter((row) => row.reasons.length === 0).length;
const oversized = messages.filter((m) => m.kind === 'oversized');
const oversizedAcked = oversized.filter((m) => m.acked).length;

const gaps: string[] = [];
for (const thing of agentThings) {
  const seqs = telemetry
    .filter((row) => row.device_id === thing)
    .map((row) => Number(row.seq))
    .sort((a, b) => a - b);
  const expected = seqs.length === 0 ? 0 : (seqs.at(-1) ?? 0) + 1;
  if (seqs.length !== expected || new Set(seqs).size !== seqs.length)
    gaps.push(`${thing}: ${seqs.length} rows for seq 0..${expected - 1}`);
}
const agentReadings = telemetry.filter((row) => String(row.device_id).startsWith('agent-')).length;
const counterMismatches = counterChecks.filter(
  (c) => c.stored !== c.telemetry || c.quarantined !== c.quarantine,
);

if (lost.length > 0)
  problems.push(`${lost.length} acknowledged valid readings not stored, e.g. ${lost.slice(0, 3).join(', ')}`);
if (duplicated.length > 0) problems.push(`${duplicated.length} readings stored more than once`);
if (phantom.length > 0) problems.push(`${phantom.length} stored readings were never sent`);
if (unquarantined.length > 0)
  problems.push(
    `${unquarantined.length} acknowledged malformed messages have no quarantine row, e.g. ${unquarantined
      .slice(0, 3)
      .map((m) => `${m.kind} ${m.marker ?? ''}`)
      .join(', ')}`,
  );
if (emptyRows < emptyAcked)
  problems.push(`${emptyAcked} empty payloads acknowledged, ${emptyRows} quarantine rows`);
if (withoutReasons > 0) problems.push(`${withoutReasons} quarantine rows without reasons`);
if (oversizedAcked > 0) problems.push(`${oversizedAcked} oversized messages were acknowledged`);
if (gaps.length > 0) problems.push(`edge agent sequence gaps: ${gaps.join('; ')}`);
if (counterMismatches.length > 0)
  problems.push(`counters differ from rows: ${JSON.stringify(counterMismatches)}`);

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
