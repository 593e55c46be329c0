/**
 * The edge agent's figures: CPU per reading for the checks and filters, bytes on disk per
 * buffered reading, resident memory with a large backlog on disk, and replay throughput to the
 * local broker after an outage.
 *
 *   npm run bench:edge -- --backlog 1000000 --replay 10000
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { pumpTelemetryV1 } from '../test/support/contracts.ts';
import { EdgePreprocessor } from '../core/edge/preprocessor.ts';
import { resolveEdgeSettings, type EdgeSettings } from '../core/edge/settings.ts';
import { MAX_PUBLISHES_PER_CONNECTION_PER_SECOND, telemetryTopic } from '../core/ingest/topics.ts';
import { PumpSimulator } from '../core/simulation/pump-simulator.ts';
import { DEFAULT_MAX_SEND_RATE, EdgeAgent } from '../edge/agent.ts';
import { LocalRuntime } from '../local/runtime/runtime.ts';
import { loadCatalog, loadUseCases } from '../usecases/catalog.ts';

const { values } = parseArgs({
  options: {
    backlog: { type: 'string', default: '1000000' },
    replay: { type: 'string', default: '10000' },
    readings: { type: 'string', default: '200000' },
    'backlog-child': { type: 'string' },
  },
});

const THING = 'pump-bench';
const T0 = Date.parse('2026-01-01T00:00:00Z');
const manifest = loadUseCases().find((useCase) => useCase.id === 'pump-maintenance');
if (!manifest) throw new Error('the pump-maintenance manifest is missing');

function offlineAgent(dataDir: string, url = 'mqtts://127.0.0.1:9'): EdgeAgent {
  return EdgeAgent.start({
    identity: { thing: THING, firmware: '1.0.0', hardwareGeneration: 'gen2' },
    contract: pumpTelemetryV1,
    settings: resolveEdgeSettings(undefined, THING),
    connection: { url, ca: '', cert: '', key: '', topic: telemetryTopic('pump-maintenance', THING) },
    dataDir,
    maxQueueBytes: 8 * 1024 ** 3,
    fsync: 'never',
    reconnectMinMs: 3_600_000,
    reconnectMaxMs: 3_600_000,
  });
}

// Child mode: buffer a backlog offline and report resident memory along the way.
const childDir = values['backlog-child'];
if (childDir) {
  const count = Number(values.backlog);
  const agent = offlineAgent(childDir);
  const simulator = new PumpSimulator({ thing: THING, seed: 7 });
  const step = Math.max(1, Math.floor(count / 10));
  for (let i = 1; i <= count; i++) {
    agent.accept({ timestamp: T0 + i * 1000, measures: simulator.next(T0 + i * 1000).measures });
    if (i % step === 0) {
      globalThis.gc?.();
      const { queueDepth, queueBytes } = agent.status;
      console.log(JSON.stringify({ queueDepth, queueBytes, rss: process.memoryUsage().rss }));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await agent.stop(0);
  process.exit(0);
}

const MiB = 1024 * 1024;

// 1. CPU per reading through the preprocessor, with each stage switched on in turn.
const readingCount = Number(values.readings);
const simulator = new PumpSimulator({ thing: THING, seed: 3 });
const inputs = Array.from({ length: readingCount }, (_, i) => ({
  timestamp: T0 + i * 1000,
  measures: simulator.next(T0 + i * 1000).measures,
}));
// Bands near the simulator's noise per reading: what an engineer would set to drop jitter.
const NOISE_BANDS: Record<string, number> = {
  'measures.vibrationRmsX': 0.003,
  'measures.vibrationRmsY': 0.004,
  'measures.motorCurrent': 0.03,
  'measures.outletPressure': 0.04,
  'measures.motorTemperature': 0.1,
  'measures.fluidTemperature': 0.05,
  'measures.supplyVoltage': 3,
  'measures.flowRate': 0.4,
};
const variants: [string, EdgeSettings][] = [
  ['contract check only', {}],
  ['pump manifest (rate limits, Hampel on 1 field)', manifest.edge ?? {}],
  ['+ deadband on 8 fields (about 1 noise sd)', { ...manifest.edge, deadband: NOISE_BANDS }],
  [
    '+ Hampel on 8 fields (window 15)',
    {
      ...manifest.edge,
      deadband: NOISE_BANDS,
      spikeFilter: { fields: Object.keys(NOISE_BANDS), window: 15 },
    },
  ],
  ['+ 10 s aggregation', { ...manifest.edge, deadband: NOISE_BANDS, aggregateSeconds: 10 }],
];
const cpuTable = new Table({
  head: ['filters', 'µs CPU per reading', 'sent of 100'],
  style: { head: [], border: [] },
});
for (const [name, settings] of variants) {
  const preprocessor = new EdgePreprocessor(
    pumpTelemetryV1,
    { thing: THING, firmware: '1.0.0', hardwareGeneration: 'gen2' },
    resolveEdgeSettings(settings, THING),
  );
  let sent = 0;
  const before = process.cpuUsage();
  for (const input of inputs) sent += preprocessor.accept(input, 0).ready.length;
  const used = process.cpuUsage(before);
  cpuTable.push([
    name,
    ((used.user + used.system) / readingCount).toFixed(2),
    ((100 * sent) / readingCount).toFixed(1),
  ]);
  process.stderr.write(`filters: ${name} done\n`);
}

// 2 and 3. Bytes per buffered reading, and memory with a large backlog, in a separate process.
const backlogDir = mkdtempSync(path.join(tmpdir(), 'aiot-bench-edge-'));
const samples: { queueDepth: number; queueBytes: number; rss: number }[] = [];
await new Promise<void>((resolve, reject) => {
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      import.meta.filename,
      '--backlog-child',
      backlogDir,
      '--backlog',
      values.backlog,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      const sample = JSON.parse(line) as (typeof samples)[number];
      samples.push(sample);
      process.stderr.write(
        `backlog: ${sample.queueDepth} readings, ${(sample.queueBytes / MiB).toFixed(0)} MiB on disk, RSS ${(sample.rss / MiB).toFixed(0)} MiB\n`,
      );
    }
  });
  child.on('error', reject);
  child.on('close', (code) => {
    if (code === 0) resolve();
    else reject(new Error(`backlog child exited with ${code}`));
  });
});
rmSync(backlogDir, { recursive: true, force: true });
const memoryTable = new Table({
  head: ['readings buffered', 'on disk MiB', 'bytes per reading', 'RSS MiB'],
  style: { head: [], border: [] },
});
for (const sample of samples.filter((_, i) => i === 0 || i === samples.length - 1 || i % 3 === 2)) {
  memoryTable.push([
    sample.queueDepth,
    (sample.queueBytes / MiB).toFixed(0),
    (sample.queueBytes / sample.queueDepth).toFixed(0),
    (sample.rss / MiB).toFixed(0),
  ]);
}

// 4. Replay after an outage: buffer offline, then bring the broker up and time the drain.
const replayCount = Number(values.replay);
const replayTable = new Table({
  head: [
    'max send rate (msg/s)',
    'readings',
    'messages (packed)',
    'acknowledged in s',
    'readings/s',
    'all stored',
  ],
  style: { head: [], border: [] },
});
// The agent's default, and IoT Core's (and the local broker's) limit on one connection.
for (const maxSendRate of [DEFAULT_MAX_SEND_RATE, MAX_PUBLISHES_PER_CONNECTION_PER_SECOND]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'aiot-bench-replay-'));
  const runtime = await LocalRuntime.start({
    ...loadCatalog(),
    dataDir: path.join(dir, 'runtime'),
    mqttPort: 0,
    apiPort: 0,
    modelPort: false,
  });
  const url = runtime.mqttUrl;
  const pair = await runtime.ca.devicePair(THING);
  await runtime.stop();
  const buffering = offlineAgent(path.join(dir, 'agent'));
  const replaySimulator = new PumpSimulator({ thing: THING, seed: 11 });
  for (let i = 0; i < replayCount; i++)
    buffering.accept({ timestamp: T0 + i * 1000, measures: replaySimulator.next(T0 + i * 1000).measures });
  await buffering.stop(0);
  const back = await LocalRuntime.start({
    ...loadCatalog(),
    dataDir: path.join(dir, 'runtime'),
    mqttPort: Number(new URL(url).port),
    apiPort: 0,
    modelPort: false,
  });
  const started = Date.now();
  const agent = EdgeAgent.start({
    identity: { thing: THING, firmware: '1.0.0', hardwareGeneration: 'gen2' },
    contract: pumpTelemetryV1,
    settings: resolveEdgeSettings(undefined, THING),
    connection: {
      url,
      ca: back.ca.caPem,
      cert: pair.cert,
      key: pair.key,
      topic: telemetryTopic('pump-maintenance', THING),
    },
    dataDir: path.join(dir, 'agent'),
    maxSendRate,
    fsync: 'never',
  });
  const progress = setInterval(() => {
    process.stderr.write(`replay at ≤${maxSendRate}/s: ${agent.status.sent}/${replayCount} acknowledged\n`);
  }, 5000);
  await agent.drained(600_000);
  const seconds = (Date.now() - started) / 1000;
  const messages = agent.status.published;
  clearInterval(progress);
  await agent.stop(0);
  await back.stop();
  const reopened = await LocalRuntime.start({
    ...loadCatalog(),
    dataDir: path.join(dir, 'runtime'),
    mqttPort: 0,
    apiPort: 0,
    modelPort: false,
  });
  const { rows } = await reopened.store.query('SELECT count(*)::INTEGER AS n FROM telemetry');
  await reopened.stop();
  replayTable.push([
    maxSendRate,
    replayCount,
    messages,
    seconds.toFixed(1),
    (replayCount / seconds).toFixed(0),
    rows[0]?.n === replayCount ? 'yes' : `no (${String(rows[0]?.n)})`,
  ]);
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\nedge preprocessing, ${readingCount} simulated pump readings\n${cpuTable.toString()}`);
console.log(`\nbacklog buffered offline (fsync never)\n${memoryTable.toString()}`);
console.log(`\nreplay to the local broker after an outage (in-flight window 100)\n${replayTable.toString()}`);
