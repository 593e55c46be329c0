import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pumpTelemetryV1 } from '../support/contracts.ts';
import { resolveEdgeSettings } from '../../core/edge/settings.ts';
import { healthTopic, telemetryTopic } from '../../core/ingest/topics.ts';
import { EdgeAgent, type EdgeAgentOptions } from '../../edge/agent.ts';
import { simulatorSource } from '../../edge/sources.ts';
import { LocalCertificateAuthority } from '../../local/broker/certs.ts';
import { LocalRuntime } from '../../local/runtime/runtime.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { waitFor } from '../support/wait.ts';

const USE_CASE = 'pump-maintenance';
const REPO = path.resolve(import.meta.dirname, '..', '..');
let dir: string;
let runtime: LocalRuntime | undefined;
let port = 0;
const agents: EdgeAgent[] = [];
const children: ChildProcess[] = [];
const logs: string[] = [];

/** What the local broker refused since the test began (throttled publishes among them). */
const refusals: string[] = [];

async function startRuntime(): Promise<LocalRuntime> {
  runtime = await LocalRuntime.start({
    ...loadCatalog(),
    onRefused: (refusal) => refusals.push(refusal.reason),
    dataDir: path.join(dir, 'runtime'),
    mqttPort: port,
    apiPort: 0,
    modelPort: false,
    batchWindowMs: 20,
  });
  port = Number(new URL(runtime.mqttUrl).port);
  return runtime;
}

async function stopRuntime(): Promise<void> {
  await runtime?.stop();
  runtime = undefined;
}

/** A port nothing listens on, for agents that start during an outage. */
async function reservePort(): Promise<void> {
  await startRuntime();
  await stopRuntime();
}

async function agentFor(thing: string, options: Partial<EdgeAgentOptions> = {}): Promise<EdgeAgent> {
  const ca = await LocalCertificateAuthority.openOrCreate(path.join(dir, 'runtime', 'certs'));
  const pair = await ca.devicePair(thing);
  const agent = EdgeAgent.start({
    identity: { thing, firmware: '2.0.0', hardwareGeneration: 'gen3' },
    contract: pumpTelemetryV1,
    settings: resolveEdgeSettings(undefined, thing),
    connection: {
      url: `mqtts://localhost:${port}`,
      ca: ca.caPem,
      cert: pair.cert,
      key: pair.key,
      topic: telemetryTopic(USE_CASE, thing),
      healthTopic: healthTopic(USE_CASE, thing),
    },
    dataDir: path.join(dir, 'edge', thing),
    reconnectMinMs: 200,
    reconnectMaxMs: 2000,
    fsync: 'never',
    onLog: (_level, message) => logs.push(message),
    ...options,
  });
  agents.push(agent);
  return agent;
}

async function query(sql: string): Promise<Record<string, unknown>[]> {
  if (!runtime) throw new Error('the runtime is not running');
  return (await runtime.store.query(sql)).rows;
}

/** Waits until the store holds at least `count` readings of `thing` (ingestion is asynchronous); fails at the deadline. */
function storedCount(thing: string, count: number, timeoutMs = 30_000): Promise<number> {
  return waitFor(
    `${count} readings of ${thing} in the store`,
    async () => {
      const [row] = await query(`SELECT count(*)::INTEGER AS n FROM telemetry WHERE device_id = '${thing}'`);
      const n = Number(row?.n);
      return n >= count ? n : undefined;
    },
    timeoutMs,
  );
}

async function seqsInTimeOrder(thing: string): Promise<number[]> {
  const rows = await query(`SELECT seq FROM telemetry WHERE device_id = '${thing}' ORDER BY time`);
  return rows.map((row) => Number(row.seq));
}

const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);

/** `node` arguments running the agent CLI as a device would, against the test's broker and folders. */
function agentCliArgs(thing: string, flags: string[]): string[] {
  return [
    '--import',
    'tsx',
    path.join(REPO, 'edge', 'main.ts'),
    '--thing',
    thing,
    '--endpoint',
    `mqtts://localhost:${port}`,
    '--manifest',
    path.join(REPO, 'usecases', `${USE_CASE}.yaml`),
    '--certs-dir',
    path.join(dir, 'runtime', 'certs'),
    '--data-dir',
    path.join(dir, 'edge', thing),
    ...flags,
  ];
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiot-edge-e2e-'));
  port = 0;
  logs.length = 0;
  refusals.length = 0;
});

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await Promise.all(agents.splice(0).map((agent) => agent.stop(0)));
  await stopRuntime();
  rmSync(dir, { recursive: true, force: true });
});

describe('edge agent against the local broker', () => {
  it('loses nothing across a broker outage of 30 s of readings at 50/s: every reading stored once, in order', async () => {
    // GIVEN an agent publishing 50 readings/s to a running broker, with readings in the store
    await startRuntime();
    const thing = 'pump-outage';
    const agent = await agentFor(thing);
    const total = 50 * 40;
    const feeding = agent.run(simulatorSource({ thing, rate: 50, count: total }));
    await storedCount(thing, 100);
    // WHEN the broker is down while 30 s of readings (1,500) come in
    await stopRuntime();
    await waitFor(
      'the agent to buffer 1,500 readings offline',
      () => (!agent.status.connected && agent.status.queueDepth >= 1500 ? true : undefined),
      90_000,
    );
    await startRuntime();
    await feeding;
    // The backlog goes at the agent's default rate, under IoT Core's 100 publishes a second.
    expect(await agent.drained(60_000)).toBe(true);
    // THEN the store holds every reading exactly once, in sequence order
    expect(await storedCount(thing, total)).toBe(total);
    expect(await seqsInTimeOrder(thing)).toEqual(upTo(total));
    expect(agent.status).toMatchObject({ dropped: 0, rejected: 0, readings: total });
    expect(agent.status.reconnects).toBeGreaterThan(0);
    // The backlog went packed: a 5 KB message holds over ten pump readings.
    expect(agent.status.published).toBeLessThan(total / 10);
  }, 120_000);

  it('GIVEN live readings slower than a pack fills WHEN the wait bound passes THEN they go together in one message, without anyone draining the agent', async () => {
    await startRuntime();
    const thing = 'pump-packing';
    const agent = await agentFor(thing, { packWaitMs: 500, firstPackWaitShare: 1 });
    await waitFor('the agent to connect', () => (agent.status.connected ? true : undefined), 30_000);
    // WHEN three readings arrive within the wait bound
    await agent.run(simulatorSource({ thing, rate: 1000, count: 3 }));
    // THEN the sender waits for more, then publishes what it has as one pack
    await waitFor('three readings acknowledged', () => (agent.status.sent === 3 ? true : undefined), 30_000);
    expect(agent.status.published).toBe(1);
    expect(await storedCount(thing, 3)).toBe(3);
  }, 60_000);

  it('GIVEN agents switched on together WHEN one draws no first wait THEN its first reading goes at once and the next ones wait their full bound together', async () => {
    await startRuntime();
    const thing = 'pump-phase';
    const agent = await agentFor(thing, { packWaitMs: 1000, firstPackWaitShare: 0 });
    await waitFor('the agent to connect', () => (agent.status.connected ? true : undefined), 30_000);
    // WHEN three readings arrive 100 ms apart
    await agent.run(simulatorSource({ thing, rate: 10, count: 3 }));
    // THEN the first went alone, the other two in one pack: its phase is shifted for good
    await waitFor('three readings acknowledged', () => (agent.status.sent === 3 ? true : undefined), 30_000);
    expect(agent.status.published).toBe(2);
    expect(await storedCount(thing, 3)).toBe(3);
  }, 60_000);

  it('GIVEN an agent sending faster than the broker takes on one connection WHEN throttled THEN it reconnects and sends again until every reading is stored once', async () => {
    // GIVEN a backlog sent at 300/s to a broker that takes 100 publishes a second per connection, as IoT Core
    await startRuntime();
    const thing = 'pump-throttled';
    const agent = await agentFor(thing, {
      maxSendRate: 300,
      maxInFlight: 300,
      // One reading a message: packed, 600 readings are too few publishes to be throttled.
      maxPackBytes: 0,
      ackTimeoutMs: 1000,
      reconnectMinMs: 50,
    });
    const total = 600;
    // WHEN it sends them all
    await agent.run(simulatorSource({ thing, rate: 1000, count: total }));
    expect(await agent.drained(60_000)).toBe(true);
    // THEN the broker dropped some unacknowledged, the agent sent them again, and each is stored once
    expect(
      refusals.some((reason) => reason.startsWith('throttled:')),
      refusals.join('\n'),
    ).toBe(true);
    expect(logs.some((line) => line.includes('no PUBACK within 1 s'))).toBe(true);
    expect(await storedCount(thing, total)).toBe(total);
  }, 90_000);

  it('delivers every reading accepted before a kill -9 during an outage, after a restart', async () => {
    // GIVEN the agent CLI running with no broker to talk to
    await reservePort();
    const ca = await LocalCertificateAuthority.openOrCreate(path.join(dir, 'runtime', 'certs'));
    const thing = 'pump-killed';
    await ca.devicePair(thing);
    const args = (source: string[]) =>
      agentCliArgs(thing, ['--status', 'json', '--status-interval', '0.2', ...source]);
    const child = spawn(process.execPath, args(['--source', 'simulator', '--rate', '200']), {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    // WHEN it is killed with SIGKILL once it has accepted a few hundred readings
    const statuses: { queueDepth: number; rejected: number; connected: boolean }[] = [];
    const accepted = await new Promise<number>((resolve, reject) => {
      let buffer = '';
      child.once('exit', (code) => {
        reject(new Error(`the agent exited early with ${code}`));
      });
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) {
          const status = JSON.parse(line) as (typeof statuses)[number];
          statuses.push(status);
          // Offline, every reading the agent accepted is in its queue.
          if (status.queueDepth >= 300) {
            child.kill('SIGKILL');
            resolve(status.queueDepth);
          }
        }
      });
    });
    // Asserted here, not in the listener: a failure there would only show as a timeout.
    expect(statuses.every((status) => !status.connected && status.rejected === 0)).toBe(true);
    await new Promise((resolve) => child.once('close', resolve));
    // THEN after the broker is back, a restarted agent delivers all of them
    await startRuntime();
    const restarted = spawn(process.execPath, args(['--source', 'stdin', '--drain', '30']), {
      cwd: REPO,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.push(restarted);
    restarted.stdin.end();
    const exitCode = await new Promise((resolve) => restarted.once('close', resolve));
    expect(exitCode).toBe(0);
    const stored = await storedCount(thing, accepted);
    expect(stored).toBeGreaterThanOrEqual(accepted);
    expect(await seqsInTimeOrder(thing)).toEqual(upTo(stored));
  }, 90_000);

  it('exits as soon as its source ends with nothing to send, even while its connection is still being made', async () => {
    await startRuntime();
    const thing = 'pump-idle';
    const ca = await LocalCertificateAuthority.openOrCreate(path.join(dir, 'runtime', 'certs'));
    await ca.devicePair(thing);
    const child = spawn(process.execPath, agentCliArgs(thing, ['--source', 'stdin', '--status', 'off']), {
      cwd: REPO,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    children.push(child);
    child.stdin.end();
    const started = Date.now();
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(code).toBe(0);
    // A half-made connection left open kept the process alive until the broker's keepalive (45 s).
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  it('applies the overflow policy at the disk limit and reports a correct drop count, also to the cloud', async () => {
    // GIVEN an offline agent with room for about a hundred readings
    await reservePort();
    const thing = 'pump-full';
    const agent = await agentFor(thing, { maxQueueBytes: 64 * 1024, healthIntervalMs: 200 });
    // WHEN it accepts a thousand
    const start = Date.parse('2026-11-25T00:00:00Z');
    const measures = pumpTelemetryV1.example().measures;
    for (let i = 0; i < 1000; i++) agent.accept({ timestamp: start + i * 1000, measures });
    const { dropped, queueDepth } = agent.status;
    expect(dropped).toBeGreaterThan(0);
    expect(dropped + queueDepth).toBe(1000);
    expect(logs.some((line) => line.includes('disk limit of 65536 bytes reached'))).toBe(true);
    // THEN what reaches the store is the newest readings, and the health report carries the drop count
    await startRuntime();
    expect(await agent.drained(20_000)).toBe(true);
    expect(await storedCount(thing, queueDepth)).toBe(queueDepth);
    expect(await seqsInTimeOrder(thing)).toEqual(upTo(queueDepth).map((i) => i + dropped));
    // Health reports go every 200 ms: wait for one sent after the drops.
    const reported = await waitFor('a health report carrying the drop count', async () => {
      const [health] = await query(
        `SELECT dropped FROM device_health WHERE device_id = '${thing}' ORDER BY received_at DESC LIMIT 1`,
      );
      return health?.dropped === dropped ? health.dropped : undefined;
    });
    expect(reported).toBe(dropped);
  }, 60_000);

  it('skips a torn write at the tail of a segment with a warning and sends the rest', async () => {
    // GIVEN readings buffered during an outage, and a torn write after them
    await reservePort();
    const thing = 'pump-torn';
    const first = await agentFor(thing);
    const start = Date.parse('2026-11-25T00:00:00Z');
    const measures = pumpTelemetryV1.example().measures;
    for (let i = 0; i < 50; i++) first.accept({ timestamp: start + i * 1000, measures });
    await first.stop(0);
    agents.splice(agents.indexOf(first), 1);
    const queueDir = path.join(dir, 'edge', thing, 'queue');
    const last = readdirSync(queueDir)
      .filter((name) => name.endsWith('.seg'))
      .sort()
      .filter((name) => readFileSync(path.join(queueDir, name)).length > 0)
      .at(-1);
    const torn = Buffer.alloc(23);
    torn.writeUInt32LE(400, 0);
    appendFileSync(path.join(queueDir, last ?? ''), torn);
    // WHEN the agent restarts with the broker up
    await startRuntime();
    const second = await agentFor(thing);
    // THEN the torn record is reported and every complete reading is stored
    expect(second.status.corrupt).toBe(1);
    expect(logs.some((line) => line.includes('fail their checksum (torn write); skipped'))).toBe(true);
    expect(await second.drained(20_000)).toBe(true);
    expect(await storedCount(thing, 50)).toBe(50);
  }, 60_000);
});
