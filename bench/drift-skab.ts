/**
 * Data drift on SKAB: how soon the drift checks notice a device unlike the model's training data,
 * and that they stay quiet on a device like it.
 *
 *   npm run bench:drift -- --data ../shared/datasets/skab [--window 10] [--in-process]
 *
 * The model is trained on another day's recording (`anomaly-free.csv`). Every experiment file is a
 * device, its readings one second apart from its start. By default they travel as a device's would:
 * published over MQTT with mutual TLS to a local runtime, validated against the use case's contract
 * and stored in its DuckDB file; the drift checks (the runtime's DriftService over the store) then
 * run every minute of stream time over the last `--window` minutes. `--in-process` skips the
 * broker and store (the same service over in-memory reads, seconds instead of a minute or two). A device still calibrating has no baseline yet: it is compared
 * with the training distribution as it is. For each device: the first minute with a data-drift
 * finding, and the largest PSI then. The control: the model trained on the first half of
 * `anomaly-free.csv`, its second half replayed as a device, which should raise none.
 *
 * The last line is one JSON object: devices, drifted, medianDelayMinutes, maxDelayMinutes,
 * controlFindings, and for the runtime: published, stored, quarantined.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import mqtt from 'mqtt';
import { publishAllPaced } from '../test/support/mqtt.ts';
import { InMemoryAlertStore } from '../core/alerts/in-memory.ts';
import { InMemoryBaselineStore } from '../core/baseline/in-memory.ts';
import { repoContracts } from '../test/support/contracts.ts';
import { DriftService } from '../core/drift/drift-service.ts';
import { CollectingDriftSink, InMemoryDriftReads } from '../core/drift/in-memory.ts';
import type { TelemetryMessage } from '../core/contracts/contract.ts';
import type { TelemetryRecord } from '../core/ingest/records.ts';
import { telemetryTopic } from '../core/ingest/topics.ts';
import { DuckDbAlertStore } from '../local/store/duckdb-alert-store.ts';
import { DuckDbDriftStore } from '../local/store/drift-store.ts';
import { LocalRuntime } from '../local/runtime/runtime.ts';
import { trainAnomalyModel, type AnomalyModel } from '../core/model/anomaly-model.ts';
import type { UseCaseManifest } from '../core/usecase/manifest.ts';
import { SKAB_COLUMNS } from '../edge/sources.ts';
import { parseCsvTable } from '../model/csv-table.ts';
import { csvFilesUnder } from '../tools/csv-files.ts';
import { loadUseCases } from '../usecases/catalog.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/datasets/skab' },
    window: { type: 'string', default: '10' },
    'in-process': { type: 'boolean', default: false },
  },
});
const windowMinutes = Number(values.window);
if (!Number.isInteger(windowMinutes) || windowMinutes < 5 || windowMinutes > 60)
  throw new Error(`--window must be whole minutes from 5 to 60, got ${values.window}`);

const pumps = loadUseCases().find((u) => u.id === 'pump-maintenance');
if (!pumps) throw new Error('no pump-maintenance manifest');
const manifest: UseCaseManifest = { ...pumps, drift: { ...pumps.drift, windowMinutes } };
const contract = repoContracts.get(manifest.contract);
const measures = Object.keys(SKAB_COLUMNS);
const csvColumns = measures.map((m) => SKAB_COLUMNS[m] ?? m);
const START = Date.parse('2026-01-01T00:00:00Z');

function rowsOf(file: string): number[][] {
  return parseCsvTable(readFileSync(file, 'utf8'), file, { sensors: csvColumns }).rows.map((row) => [...row]);
}

function records(deviceId: string, rows: readonly (readonly number[])[], start: number): TelemetryRecord[] {
  return rows.map((row, i) => ({
    dimensions: {
      use_case: manifest.id,
      device_id: deviceId,
      firmware: 'skab',
      hardware_generation: 'testbed',
      contract: contract.ref,
    },
    time: start + i * 1000,
    seq: i,
    origin: 'device',
    measures: Object.fromEntries(
      measures.map((m, j) => [contract.measures[m]?.column ?? m, row[j] ?? Number.NaN] as const),
    ),
  }));
}

interface Device {
  readonly id: string;
  readonly rows: readonly (readonly number[])[];
  /** The model it is compared with: the fleet's, or the control's own. */
  readonly model: AnomalyModel;
}

interface FirstDrift {
  readonly minute: number | null;
  readonly summary: string;
}

/**
 * Runs the drift checks every minute of stream time and answers, per device, the first minute
 * with a data-drift finding and its summary (the largest PSI). `serviceFor` gives the service over
 * the reads that hold `devices`.
 */
async function firstDrifts(
  devices: readonly Device[],
  serviceFor: () => DriftService,
  start: number,
): Promise<Map<string, FirstDrift>> {
  const found = new Map<string, FirstDrift>(devices.map((d) => [d.id, { minute: null, summary: '' }]));
  const service = serviceFor();
  const models = [...new Set(devices.map((d) => d.model))];
  const minutes = Math.max(...devices.map((d) => Math.floor(d.rows.length / 60)));
  for (let minute = 2; minute <= minutes; minute++) {
    for (const model of models) {
      const report = await service.run(manifest, model, start + minute * 60_000);
      for (const finding of report.findings) {
        const device = devices.find((d) => d.id === finding.deviceId && d.model === model);
        if (!device || finding.check !== 'data-drift' || found.get(device.id)?.minute !== null) continue;
        if (minute > Math.floor(device.rows.length / 60)) continue;
        found.set(device.id, { minute, summary: finding.summary });
      }
    }
    if (minute % 5 === 0) process.stderr.write(`drift checks at minute ${minute} of ${minutes}\n`);
  }
  return found;
}

/** Every device in memory, each with its own reads. */
async function inProcess(devices: readonly Device[]): Promise<Map<string, FirstDrift>> {
  const found = new Map<string, FirstDrift>();
  for (const device of devices) {
    const reads = new InMemoryDriftReads();
    reads.readingsOf.set(device.id, records(device.id, device.rows, START));
    const one = await firstDrifts(
      [device],
      () =>
        new DriftService(
          repoContracts,
          reads,
          new InMemoryAlertStore(),
          new InMemoryBaselineStore(),
          new CollectingDriftSink(),
        ),
      START,
    );
    found.set(device.id, one.get(device.id) ?? { minute: null, summary: '' });
  }
  return found;
}

const ingested = { published: 0, stored: 0, quarantined: 0 };

/**
 * Every device publishes its rows over MQTT/TLS to a local runtime (as pump.telemetry readings
 * dated so the last is in the past); once all are stored or quarantined, the checks run over the
 * runtime's DuckDB store.
 */
async function throughRuntime(devices: readonly Device[]): Promise<Map<string, FirstDrift>> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'aiot-bench-drift-'));
  const runtime = await LocalRuntime.start({
    useCases: [manifest],
    contracts: repoContracts,
    dataDir,
    mqttPort: 0,
    apiPort: 0,
    modelPort: false,
  });
  try {
    const longest = Math.max(...devices.map((d) => d.rows.length));
    // The store takes readings up to its retention back: these end ten minutes ago.
    const start = Math.floor((Date.now() - (longest + 600) * 1000) / 1000) * 1000;
    const began = Date.now();
    await Promise.all(devices.map((device) => publish(runtime, device, start)));
    const total = devices.reduce((sum, d) => sum + d.rows.length, 0);
    ingested.published = total;
    // Acknowledged is not yet stored: ingestion follows in batches.
    while (runtime.counters.stored + runtime.counters.quarantined < total) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    ingested.stored = runtime.counters.stored;
    ingested.quarantined = runtime.counters.quarantined;
    const { rows: refused } = await runtime.store.query(
      `SELECT json_extract_string(reasons, '$[0].path') || ': ' || json_extract_string(reasons, '$[0].message') AS reason, count(*)::INTEGER AS n
       FROM quarantine GROUP BY ALL ORDER BY n DESC LIMIT 5`,
    );
    for (const row of refused) process.stderr.write(`quarantined ${String(row.n)}x: ${String(row.reason)}\n`);
    process.stderr.write(
      `${total} readings of ${devices.length} devices through the runtime in ${((Date.now() - began) / 1000).toFixed(1)} s\n`,
    );
    const drift = await DuckDbDriftStore.open(runtime.store);
    const alerts = await DuckDbAlertStore.open(runtime.store);
    return await firstDrifts(
      devices,
      () => new DriftService(repoContracts, drift, alerts, alerts, drift),
      start,
    );
  } finally {
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function publish(runtime: LocalRuntime, device: Device, start: number): Promise<void> {
  const pair = await runtime.ca.devicePair(device.id);
  const client = await mqtt.connectAsync(runtime.mqttUrl, {
    clientId: device.id,
    ca: runtime.ca.caPem,
    cert: pair.cert,
    key: pair.key,
    reconnectPeriod: 0,
  });
  const topic = telemetryTopic(manifest.id, device.id);
  // A device keeps under IoT Core's 100 publishes a second on its connection, as the broker does.
  await publishAllPaced(
    client,
    topic,
    device.rows.map((row, index) => JSON.stringify(messageOf(device.id, row, index, start))),
  );
  await client.endAsync();
}

function messageOf(deviceId: string, row: readonly number[], index: number, start: number): TelemetryMessage {
  return {
    contract: contract.id,
    version: contract.version,
    deviceId,
    timestamp: new Date(start + index * 1000).toISOString(),
    seq: index,
    firmware: 'skab',
    hardwareGeneration: 'testbed',
    measures: Object.fromEntries(measures.map((m, j) => [m, row[j] ?? Number.NaN])),
  };
}

const files = csvFilesUnder(path.resolve(values.data));
const normal = files.find((f) => path.basename(f).toLowerCase() === 'anomaly-free.csv');
if (!normal) throw new Error(`no anomaly-free.csv under ${values.data}`);
const experiments = files.filter((f) => f !== normal);
const normalRows = rowsOf(normal);
const model = trainAnomalyModel(
  { sensors: measures, rows: normalRows },
  { modelVersion: 'skab-anomaly-free' },
);

// The control: trained on the first half of the normal day, its second half as a device.
const half = Math.floor(normalRows.length / 2);
const controlModel = trainAnomalyModel(
  { sensors: measures, rows: normalRows.slice(0, half) },
  { modelVersion: 'skab-first-half' },
);
const names = new Map<string, string>();
const devices: Device[] = experiments.map((file, index) => {
  names.set(`skab-${index}`, path.relative(path.resolve(values.data), file));
  return { id: `skab-${index}`, rows: rowsOf(file), model };
});
const control: Device = { id: 'skab-control', rows: normalRows.slice(half), model: controlModel };
names.set(control.id, 'anomaly-free.csv, second half (control)');
const mode = values['in-process'] ? 'in-process' : 'runtime';
process.stderr.write(
  `${devices.length} devices and the control, ${mode === 'runtime' ? 'through a local runtime' : 'in process'}\n`,
);
const found =
  mode === 'runtime' ? await throughRuntime([...devices, control]) : await inProcess([...devices, control]);

const table = new Table({
  head: ['device', 'minutes', 'first drift finding (min)', 'drifted inputs'],
  style: { head: [], border: [] },
});
const delays: number[] = [];
for (const device of [...devices, control]) {
  const { minute, summary } = found.get(device.id) ?? { minute: null, summary: '' };
  if (minute !== null && device !== control) delays.push(minute);
  table.push([
    names.get(device.id) ?? device.id,
    Math.floor(device.rows.length / 60),
    minute ?? 'none',
    summary.replace(/^.*distribution: /, ''),
  ]);
}
console.log(table.toString());
const controlFinding = found.get(control.id)?.minute ?? null;

const sorted = [...delays].sort((a, b) => a - b);
console.log(
  JSON.stringify({
    devices: experiments.length,
    drifted: delays.length,
    medianDelayMinutes: sorted[Math.floor((sorted.length - 1) / 2)] ?? null,
    maxDelayMinutes: sorted.at(-1) ?? null,
    controlFindings: controlFinding === null ? 0 : 1,
    mode,
    ...(mode === 'runtime' ? ingested : {}),
  }),
);
