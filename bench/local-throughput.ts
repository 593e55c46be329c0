/**
 * Sustained ingest throughput of the local runtime: for each offered rate, a simulated fleet
 * publishes over mutual TLS for a fixed window; we report what was received and stored during the
 * window, the backlog left in the queue, how long the clean stop took to drain it, and whether
 * every received message ended up stored (it must). Fleet and runtime share the process, as in
 * `npm start`, so the figures include the publishers' CPU.
 *
 *   npm run bench:local -- --devices 50 --rates 200,500,1000,2000 --seconds 15
 *   npm run bench:local -- --publishers raw --pack 15 --rates 2000,5000,10000 --seconds 15
 *
 * Rates are readings a second. `--publishers agents` (the default) runs the fleet of edge agents in
 * the runtime's process, as `npm start` does; they pack readings as they do on a device (5 KB, at
 * most 5 s). `--publishers raw` sends from a process of its own, without agents: plain MQTT
 * clients, one connection per device (`--devices`, more where a device would pass IoT Core's 100
 * publishes a second), `--pack`
 * readings a message (1: each alone), so the figures are the runtime's alone.
 *
 * `--scoring on` (the default, as `npm start` runs) scores every stored reading through the local
 * model server; "scored" and "unscored" then count what scoring finished with, and "p99 to score"
 * is the time from a reading's timestamp to its inference row being written, over every reading
 * ("monitoring": those scored against their device's baseline, after its calibration). The raw
 * publishers stamp a message's readings the milliseconds before they publish it, so for them it is
 * publish to score; the agents stamp readings when they sample them, so theirs includes the pack's
 * wait on the device (up to 5 s). `--scoring off` measures ingest alone. `--checkpoint-threshold
 * 1GiB` keeps the store from checkpointing within a short run, which shows what its checkpoints
 * cost the tail (docs/benchmarks.md); `--batch-window` sets the ingest queue's batching window. The
 * raw publishers all connect before any publishes, then publish out of step, each device at its own
 * phase, as a fleet does. "runtime thread busy %" is how much of the window the runtime's one thread
 * (broker, ingestion, scoring) was busy: near 100, every hiccup becomes a backlog.
 */
import { nearestRank } from './nearest-rank.ts';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { MAX_PUBLISHES_PER_CONNECTION_PER_SECOND, telemetryTopic } from '../core/ingest/topics.ts';
import { MAX_READINGS_PER_PACK, PackBuilder } from '../core/contracts/pack.ts';
import { PumpSimulator } from '../core/simulation/pump-simulator.ts';
import { LocalCertificateAuthority } from '../local/broker/certs.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { SimulatedFleet } from '../local/fleet/fleet.ts';
import { LocalRuntime } from '../local/runtime/runtime.ts';
import { loadCatalog, loadUseCases } from '../usecases/catalog.ts';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '50' },
    rates: { type: 'string', default: '250,500,1000,2000,4000' },
    seconds: { type: 'string', default: '15' },
    publishers: { type: 'string', default: 'agents' },
    // Child mode: publish `--rate` readings a second for `--seconds` from this process.
    'raw-child': { type: 'string' },
    rate: { type: 'string' },
    pack: { type: 'string', default: '1' },
    scoring: { type: 'string', default: 'on' },
    // The store's checkpoint_threshold (RuntimeOptions.checkpointThreshold). @default DuckDB's 16MiB
    'checkpoint-threshold': { type: 'string' },
    // The ingest queue's batching window in ms. @default the runtime's (RuntimeOptions.batchWindowMs)
    'batch-window': { type: 'string' },
  },
});
if (values.scoring !== 'on' && values.scoring !== 'off') {
  throw new Error(`--scoring must be on or off, got "${values.scoring}"`);
}
const scoring = values.scoring === 'on';
if (values.publishers !== 'agents' && values.publishers !== 'raw') {
  throw new Error(`--publishers must be agents or raw, got "${values.publishers}"`);
}
const batchWindow = values['batch-window'] === undefined ? undefined : Number(values['batch-window']);
if (batchWindow !== undefined && (!Number.isInteger(batchWindow) || batchWindow < 0 || batchWindow > 60_000))
  throw new Error(
    `--batch-window must be whole milliseconds from 0 to 60000, got "${values['batch-window']}"`,
  );
const pack = Number(values.pack);
if (!Number.isInteger(pack) || pack < 1 || pack > MAX_READINGS_PER_PACK)
  throw new Error(`--pack must be a whole number from 1 to ${MAX_READINGS_PER_PACK}, got "${values.pack}"`);

/**
 * Devices for a rate: `--devices`, or more where a connection would pass IoT Core's
 * per-connection limit.
 */
function rawDevices(rate: number, devices: number): number {
  return Math.max(devices, Math.ceil(rate / pack / (MAX_PUBLISHES_PER_CONNECTION_PER_SECOND * 0.9)));
}

/** Child mode: raw MQTT devices publishing paced QoS 1 messages until the time is up; prints the readings acknowledged. */
async function rawChild(dataDir: string, url: string, rate: number, duration: number): Promise<void> {
  const ca = await LocalCertificateAuthority.openOrCreate(path.join(dataDir, 'certs'));
  const count = rawDevices(rate, Number(values.devices));
  const messagesPerDevice = rate / pack / count;
  // A message's readings take `pack` milliseconds of a device's timeline: more a second and the
  // timeline would run ahead of the clock.
  if (messagesPerDevice * pack > 500)
    throw new Error(`${rate} readings a second over ${count} devices is too many a device: add --devices`);
  let acknowledged = 0;
  // Every device connects before any publishes: the window measures the pipeline under the rate,
  // not a few hundred TLS handshakes arriving with the first messages.
  const clients = await Promise.all(
    Array.from({ length: count }, async (_, d) => {
      const thing = `raw-${d}`;
      const pair = await ca.devicePair(thing);
      return mqtt.connectAsync(url, {
        clientId: thing,
        ca: ca.caPem,
        cert: pair.cert,
        key: pair.key,
        reconnectPeriod: 0,
      });
    }),
  );
  const begin = Date.now();
  const deadline = begin + duration * 1000;
  await Promise.all(
    clients.map(async (client, d) => {
      const thing = `raw-${d}`;
      const simulator = new PumpSimulator({ thing, seed: d });
      const topic = telemetryTopic('pump-maintenance', thing);
      // Devices publish out of step, as a fleet's do: each at its own phase of the interval.
      const start = begin + ((d / count) * 1000) / messagesPerDevice;
      const acks: Promise<void>[] = [];
      let last = 0;
      for (let i = 0; Date.now() < deadline; i++) {
        const due = start + (i * 1000) / messagesPerDevice;
        if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
        const builder = new PackBuilder(Number.MAX_SAFE_INTEGER, pack);
        // Stamped the milliseconds before the publish (after the last message's), so a reading's
        // age at scoring is its time from publish to score, within `pack` ms.
        const first = Math.max(last + 1, Date.now() - pack + 1);
        for (let r = 0; r < pack; r++) builder.add(JSON.stringify(simulator.next(first + r)));
        last = first + pack - 1;
        acks.push(
          client.publishAsync(topic, builder.build(), { qos: 1 }).then(() => {
            acknowledged += pack;
          }),
        );
      }
      await Promise.all(acks);
      await client.endAsync();
    }),
  );
  console.log(JSON.stringify({ acknowledged }));
}

if (values['raw-child']) {
  await rawChild(
    values['raw-child'],
    String(process.env.BENCH_MQTT_URL),
    Number(values.rate),
    Number(values.seconds),
  );
  process.exit(0);
}

/** Starts the raw publishers in a child process; resolves with what the broker acknowledged. */
function startRawPublishers(dataDir: string, url: string, rate: number): Promise<number> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      import.meta.filename,
      '--raw-child',
      dataDir,
      '--rate',
      String(rate),
      '--pack',
      String(pack),
      '--devices',
      values.devices,
      '--seconds',
      String(seconds),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_MQTT_URL: url } },
  );
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => {
      resolve((JSON.parse(line) as { acknowledged: number }).acknowledged);
    });
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the raw publishers exited with ${code}`));
    });
  });
}

const devices = Number(values.devices);
const seconds = Number(values.seconds);
const rates = values.rates.split(',').map(Number);
const table = new Table({
  head: [
    'offered readings/s',
    'received msg/s',
    'stored readings/s',
    'backlog at end (msg)',
    'drain s',
    'acknowledged readings',
    'lost',
    'runtime thread busy %',
    ...(scoring
      ? ['scored readings/s', 'unscored', 'p50 to score ms', 'p99 to score ms', 'p99 monitoring ms']
      : []),
  ],
  style: { head: [], border: [] },
});

const manifest = loadUseCases().find((useCase) => useCase.id === 'pump-maintenance');
if (!manifest) throw new Error('the pump-maintenance manifest is missing');

/** Readings scored so far, by every use case's scoring (skipped ones count: scoring finished with them). */
function scoredSoFar(runtime: LocalRuntime): number {
  let total = 0;
  for (const setup of runtime.scorings.values())
    total += setup.scoring.counters.scored + setup.scoring.counters.skipped;
  return total;
}

/**
 * Where in the run the tail is: readings scored more than a second after their timestamp, by
 * second of the run (from the first scored reading). A tail from a few episodes (the runtime's
 * start, a fleet's calibrations completing together, a store checkpoint) reads differently from
 * one spread over the run.
 */
class SlowSeconds {
  private readonly seconds = new Map<number, { scored: number; slow: number }>();

  add(now: number, age: number): void {
    const second = Math.floor(now / 1000);
    const entry = this.seconds.get(second) ?? { scored: 0, slow: 0 };
    entry.scored += 1;
    if (age > 1000) entry.slow += 1;
    this.seconds.set(second, entry);
  }

  /** "s 0-1: 3,715 of 11,610; s 18: 2,096 of 3,135", or "none". */
  toString(): string {
    const first = Math.min(...this.seconds.keys());
    const slow = [...this.seconds].filter(([, e]) => e.slow > 0).sort(([a], [b]) => a - b);
    const runs: { from: number; to: number; slow: number; scored: number }[] = [];
    for (const [second, e] of slow) {
      const last = runs.at(-1);
      if (last && second - first === last.to + 1)
        Object.assign(last, { to: last.to + 1, slow: last.slow + e.slow, scored: last.scored + e.scored });
      else runs.push({ from: second - first, to: second - first, slow: e.slow, scored: e.scored });
    }
    const n = (value: number) => value.toLocaleString('en-US');
    return runs.length === 0
      ? 'none'
      : runs
          .map((r) => `s ${r.from === r.to ? r.from : `${r.from}-${r.to}`}: ${n(r.slow)} of ${n(r.scored)}`)
          .join('; ');
  }
}

const quantile = (values: readonly number[], q: number): number =>
  nearestRank(
    [...values].sort((a, b) => a - b),
    q,
  );

const slowTails: string[] = [];
/** How the window's work was cut: ingest batches and scoring passes, each with a cost of its own. */
const shapes: string[] = [];
for (const offered of rates) {
  // Ages at scoring of readings scored while their device calibrated (commissioning: each
  // completed calibration reads its readings back), and of those scored against a baseline.
  const ages: number[] = [];
  const monitoring: number[] = [];
  // Scoring passes in the window (each calls onScored once) and the ingest batches run.
  let passes = 0;
  const slowSeconds = new SlowSeconds();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'aiot-bench-'));
  const runtime = await LocalRuntime.start({
    ...loadCatalog(),
    dataDir,
    mqttPort: 0,
    apiPort: 0,
    modelPort: scoring ? 0 : false,
    ...(batchWindow === undefined ? {} : { batchWindowMs: batchWindow }),
    ...(values['checkpoint-threshold'] ? { checkpointThreshold: values['checkpoint-threshold'] } : {}),
    onScored: (rows) => {
      passes += 1;
      const now = Date.now();
      for (const row of rows) {
        (row.deviceState === 'monitoring' ? monitoring : ages).push(now - row.time);
        slowSeconds.add(now, now - row.time);
      }
    },
  });
  const raw = values.publishers === 'raw' ? startRawPublishers(dataDir, runtime.mqttUrl, offered) : undefined;
  const fleet = raw
    ? undefined
    : await SimulatedFleet.start({
        url: runtime.mqttUrl,
        ca: runtime.ca,
        useCase: manifest,
        contract: runtime.contracts.get(manifest.contract),
        devices,
        rate: offered / devices,
        dataDir: path.join(dataDir, 'edge'),
      });
  // The window opens with the first message: connecting a few hundred TLS clients takes a moment.
  for (const deadline = Date.now() + 60_000; runtime.counters.received === 0;) {
    if (Date.now() > deadline) throw new Error('no message reached the runtime within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const start = {
    at: Date.now(),
    received: runtime.counters.received,
    stored: runtime.counters.stored,
    scored: scoredSoFar(runtime),
    batches: runtime.counters.batches,
    passes,
    // How much of the window the runtime's one thread (broker, ingestion, scoring) was busy.
    busy: performance.eventLoopUtilization(),
  };
  for (let s = 1; s <= seconds; s++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    process.stderr.write(
      `\roffered ${offered}/s  ${s}/${seconds} s  received ${runtime.counters.received}  stored ${runtime.counters.stored}${scoring ? `  scored ${scoredSoFar(runtime)}` : ''}  queue ${runtime.queue.depth}   `,
    );
  }
  const window = (Date.now() - start.at) / 1000;
  const busy = performance.eventLoopUtilization(start.busy).utilization;
  const received = runtime.counters.received - start.received;
  const stored = runtime.counters.stored - start.stored;
  const scored = scoredSoFar(runtime) - start.scored;
  const batches = runtime.counters.batches - start.batches;
  shapes.push(
    `${offered}/s: ${batches} ingest batches of ${(received / Math.max(1, batches)).toFixed(0)} messages on average${scoring ? `, ${passes - start.passes} scoring passes` : ''}`,
  );
  const backlog = runtime.queue.depth;
  const stopAt = Date.now();
  const statuses = await fleet?.stop();
  const acknowledged = raw ? await raw : (statuses ?? []).reduce((sum, status) => sum + status.sent, 0);
  await runtime.stop();
  const drain = (Date.now() - stopAt) / 1000;
  // What the broker acknowledged and is neither stored nor quarantined (a resent reading the
  // store already had counts once: below 0 means resends, never loss).
  const lost = acknowledged - runtime.counters.stored - runtime.counters.quarantined;
  // Stored readings the stop's drain left unscored (it waits for scoring: must be 0).
  const unscored = runtime.counters.stored - scoredSoFar(runtime);
  process.stderr.write('\n');
  const all = [...ages, ...monitoring].sort((a, b) => a - b);
  table.push([
    offered,
    (received / window).toFixed(0),
    (stored / window).toFixed(0),
    backlog,
    drain.toFixed(1),
    acknowledged,
    lost,
    (busy * 100).toFixed(0),
    ...(scoring
      ? [
          (scored / window).toFixed(0),
          unscored,
          nearestRank(all, 0.5).toFixed(0),
          nearestRank(all, 0.99).toFixed(0),
          monitoring.length === 0 ? '-' : quantile(monitoring, 0.99).toFixed(0),
        ]
      : []),
  ]);
  rmSync(dataDir, { recursive: true, force: true });
  // The agents' readings wait up to 5 s in their packs on the device: for them, over 1 s says nothing.
  if (scoring && raw) slowTails.push(`${offered}/s: ${slowSeconds.toString()}`);
}
console.log(
  `\nlocal runtime${values['checkpoint-threshold'] ? ` (store checkpoints at ${values['checkpoint-threshold']})` : ''}${batchWindow === undefined ? '' : ` (batching window ${batchWindow} ms)`}, ${values.publishers === 'raw' ? `${devices} raw publishers (more where a rate needs them) in their own process, ${pack} readings a message` : `${devices} edge agents, packing`}, scoring ${values.scoring}, ${seconds} s per rate\n${table.toString()}`,
);
console.log(`ingest batches and scoring passes in each window:\n${shapes.join('\n')}`);
if (slowTails.length > 0) {
  console.log(
    `readings scored more than 1 s after their timestamp, by second of each run (from its first score):\n${slowTails.join('\n')}`,
  );
}
