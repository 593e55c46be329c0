/**
 * Data drift on SKAB: how soon the drift checks notice a device unlike the model's training data,
 * and that they stay quiet on a device like it.
 *
 *   npm run bench:drift -- --data ../shared/datasets/skab [--window 10]
 *
 * The model is trained on another day's recording (`anomaly-free.csv`). Every experiment file is a
 * device, its readings one second apart from its start. The drift checks (the same DriftService
 * the runtime and the drift function run, over in-memory reads) run every minute of stream time
 * over the last `--window` minutes. A device still calibrating has no baseline yet: it is compared
 * with the training distribution as it is. For each device: the first minute with a data-drift
 * finding, and the largest PSI then. The control: the model trained on the first half of
 * `anomaly-free.csv`, its second half replayed as a device, which should raise none.
 *
 * The last line is one JSON object: devices, drifted, medianDelayMinutes, maxDelayMinutes,
 * controlFindings.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { InMemoryAlertStore } from '../core/alerts/in-memory.ts';
import { InMemoryBaselineStore } from '../core/baseline/in-memory.ts';
import { repoContracts } from '../test/support/contracts.ts';
import { DriftService } from '../core/drift/drift-service.ts';
import { CollectingDriftSink, InMemoryDriftReads } from '../core/drift/in-memory.ts';
import type { TelemetryRecord } from '../core/ingest/records.ts';
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

function records(deviceId: string, rows: readonly (readonly number[])[]): TelemetryRecord[] {
  return rows.map((row, i) => ({
    dimensions: {
      use_case: manifest.id,
      device_id: deviceId,
      firmware: 'skab',
      hardware_generation: 'testbed',
      contract: contract.ref,
    },
    time: START + i * 1000,
    seq: i,
    origin: 'device',
    measures: Object.fromEntries(
      measures.map((m, j) => [contract.measures[m]?.column ?? m, row[j] ?? Number.NaN] as const),
    ),
  }));
}

/** The first minute of stream time with a data-drift finding for the device, and its largest PSI. */
async function firstDrift(
  model: AnomalyModel,
  deviceId: string,
  rows: readonly (readonly number[])[],
): Promise<{ minute: number | null; summary: string }> {
  const reads = new InMemoryDriftReads();
  reads.readingsOf.set(deviceId, records(deviceId, rows));
  const service = new DriftService(
    repoContracts,
    reads,
    new InMemoryAlertStore(),
    new InMemoryBaselineStore(),
    new CollectingDriftSink(),
  );
  const minutes = Math.floor(rows.length / 60);
  for (let minute = 2; minute <= minutes; minute++) {
    const report = await service.run(manifest, model, START + minute * 60_000);
    const drift = report.findings.find((f) => f.check === 'data-drift');
    if (drift) return { minute, summary: drift.summary };
  }
  return { minute: null, summary: '' };
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

const table = new Table({
  head: ['device', 'minutes', 'first drift finding (min)', 'drifted inputs'],
  style: { head: [], border: [] },
});
const delays: number[] = [];
for (const [index, file] of experiments.entries()) {
  const name = path.relative(path.resolve(values.data), file);
  process.stderr.write(`${index + 1}/${experiments.length} ${name}\n`);
  const rows = rowsOf(file);
  const { minute, summary } = await firstDrift(model, `skab-${index}`, rows);
  if (minute !== null) delays.push(minute);
  table.push([
    name,
    Math.floor(rows.length / 60),
    minute ?? 'none',
    summary.replace(/^.*distribution: /, ''),
  ]);
}

// The control: trained on the first half of the normal day, its second half as a device.
const half = Math.floor(normalRows.length / 2);
const controlModel = trainAnomalyModel(
  { sensors: measures, rows: normalRows.slice(0, half) },
  { modelVersion: 'skab-first-half' },
);
const control = await firstDrift(controlModel, 'skab-anomaly-free', normalRows.slice(half));
table.push([
  `anomaly-free.csv, second half (control)`,
  Math.floor((normalRows.length - half) / 60),
  control.minute ?? 'none',
  control.summary.replace(/^.*distribution: /, ''),
]);
console.log(table.toString());

const sorted = [...delays].sort((a, b) => a - b);
console.log(
  JSON.stringify({
    devices: experiments.length,
    drifted: delays.length,
    medianDelayMinutes: sorted[Math.floor((sorted.length - 1) / 2)] ?? null,
    maxDelayMinutes: sorted.at(-1) ?? null,
    controlFindings: control.minute === null ? 0 : 1,
  }),
);
