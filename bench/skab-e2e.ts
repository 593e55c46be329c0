/**
 * SKAB through the whole pipeline: the figure we steer alerts by.
 *
 *   npm run bench:skab-e2e -- --data ../shared/datasets/skab [--data <dir> ...] [--rate 50]
 *
 * Starts the local runtime on free ports and replays every experiment CSV under the folders as
 * its own device through the real edge agent (CSV source, SKAB columns, the file's one-second
 * spacing kept, its times moved so the last row is now, replayed faster than real time). One model
 * serves every device, trained beforehand on normal data only: every `anomaly-free.csv` under the
 * folders, else the devices' calibration windows. Each device calibrates its baseline on its first
 * 400 readings (the SKAB protocol's training prefix). Then, from the `inferences` and `alerts`
 * tables and each file's `anomaly` column:
 *
 * - readings after calibration: F1, FAR %, MAR % (the standalone protocol's measures);
 * - alerts: labelled anomaly events caught by an alert while they last, false alerts per
 *   device-hour of normal data, median seconds from an event's start to its alert.
 *
 * The last line is one JSON object: files, f1, far, mar, events, eventsCaught, falseAlerts,
 * deviceHours, falseAlertsPerDeviceHour, medianDelaySeconds.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { repoContracts } from '../test/support/contracts.ts';
import { resolveEdgeSettings } from '../core/edge/settings.ts';
import {
  healthTopic,
  telemetryTopic,
  MAX_PUBLISHES_PER_CONNECTION_PER_SECOND,
} from '../core/ingest/topics.ts';
import { trainAnomalyModel } from '../core/model/anomaly-model.ts';
import { EdgeAgent } from '../edge/agent.ts';
import { csvSource, SKAB_COLUMNS } from '../edge/sources.ts';
import { readSkabTable, SKAB_MEASURES, skabFiles } from './skab-files.ts';
import { LocalRuntime } from '../local/runtime/runtime.ts';
import { sqlText } from '../local/store/sql.ts';
import { MODEL_FILE } from '../model/train.ts';
import { fileOutcome, figuresOf, resultLine, type FileOutcome } from './skab-alert-figures.ts';
import { SKAB_PARTS, skabPartOf } from './skab-split.ts';
import { loadUseCases } from '../usecases/catalog.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string', multiple: true, default: ['../shared/datasets/skab'] },
    rate: { type: 'string', default: '50' },
    keep: { type: 'boolean', default: false },
  },
});
const rate = Number(values.rate);
if (!(rate > 0) || rate > 1000)
  throw new Error(`--rate must be above 0 and at most 1000 rows per second, got ${values.rate}`);
const CALIBRATION = 400;
const USE_CASE = 'pump-maintenance';

const { normalFiles, experimentFiles } = skabFiles(values.data);
const measures = SKAB_MEASURES;
const readTable = readSkabTable;

interface Device {
  readonly file: string;
  readonly thing: string;
  readonly rows: number;
  readonly labels: readonly boolean[];
}

const devices: Device[] = experimentFiles.map((file, index) => {
  const { rows, labels } = readTable(file);
  if (!labels) throw new Error(`${file}: no "anomaly" column to measure against`);
  const stem = path
    .relative(path.dirname(path.dirname(file)), file)
    .replace(/\.csv$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-');
  return { file, thing: `skab-${index}-${stem}`.slice(0, 60), rows: rows.length, labels };
});

// Normal data only: the anomaly-free recordings, else every device's calibration prefix.
const training =
  normalFiles.length > 0
    ? normalFiles.map((file) => readTable(file).rows)
    : experimentFiles.map((file) => readTable(file).rows.slice(0, CALIBRATION));
const model = trainAnomalyModel(
  { sensors: measures, rows: training.flat() },
  {
    modelVersion: `skab-${normalFiles.length > 0 ? 'anomaly-free' : 'calibration-windows'}`,
    segments: training.map((rows) => rows.length),
    params: { calibrationRows: CALIBRATION },
  },
);
console.error(
  `model: ${training.flat().length} normal readings from ${normalFiles.length > 0 ? normalFiles.map((f) => path.basename(f)).join(', ') : 'the calibration windows'}; ${devices.length} devices`,
);

const dataDir = mkdtempSync(path.join(tmpdir(), 'aiot-skab-e2e-'));
mkdirSync(path.join(dataDir, 'models', USE_CASE), { recursive: true });
writeFileSync(path.join(dataDir, 'models', USE_CASE, MODEL_FILE), `${JSON.stringify(model)}\n`);
const manifest = loadUseCases().find((useCase) => useCase.id === USE_CASE);
if (!manifest) throw new Error(`no ${USE_CASE} manifest`);
const runtime = await LocalRuntime.start({
  useCases: [{ ...manifest, alerts: { ...manifest.alerts, calibrationReadings: CALIBRATION } }],
  contracts: repoContracts,
  dataDir,
  mqttPort: 0,
  apiPort: 0,
  modelPort: 0,
  onError: (error) => {
    console.error('runtime:', error);
  },
});

const started = performance.now();
const endAt = Date.now();
const contract = repoContracts.get(manifest.contract);
const agents = await Promise.all(
  devices.map(async (device) => {
    const pair = await runtime.ca.devicePair(device.thing);
    return EdgeAgent.start({
      identity: { thing: device.thing, firmware: 'skab', hardwareGeneration: 'testbed', origin: 'device' },
      contract,
      settings: resolveEdgeSettings(manifest.edge, device.thing),
      connection: {
        url: runtime.mqttUrl,
        ca: runtime.ca.caPem,
        cert: pair.cert,
        key: pair.key,
        topic: telemetryTopic(USE_CASE, device.thing),
        healthTopic: healthTopic(USE_CASE, device.thing),
      },
      dataDir: path.join(dataDir, 'edge', device.thing),
      maxSendRate: MAX_PUBLISHES_PER_CONNECTION_PER_SECOND,
    });
  }),
);
const runs = agents.map((agent, index) =>
  agent.run(
    csvSource({ file: devices[index]?.file ?? '', columns: SKAB_COLUMNS, rate, time: 'shift', endAt }),
  ),
);

const total = devices.reduce((sum, device) => sum + device.rows, 0);
async function count(sql: string): Promise<number> {
  const { rows } = await runtime.store.query(sql);
  return Number(rows[0]?.n ?? 0);
}
const progress = setInterval(() => {
  void count('SELECT count(*)::INTEGER AS n FROM inferences').then((scored) => {
    const sent = agents.reduce((sum, agent) => sum + agent.status.sent, 0);
    console.error(
      `${((performance.now() - started) / 1000).toFixed(0)} s: sent ${sent}/${total}, scored ${scored}, alerts ${runtime.scoringOf('pump-maintenance')?.scoring.counters.anomalies ?? 0} anomalous readings`,
    );
  });
}, 5000);
await Promise.all(runs);
const statuses = await Promise.all(agents.map((agent) => agent.stop(60_000)));
// Everything the agents sent, stored and scored, and the alert policy has seen it all.
const sent = statuses.reduce((sum, status) => sum + status.sent, 0);
for (;;) {
  if ((await count('SELECT count(*)::INTEGER AS n FROM inferences')) >= sent && runtime.queue.depth === 0)
    break;
  await new Promise((resolve) => setTimeout(resolve, 200));
}
await runtime.scoringOf('pump-maintenance')?.scoring.drain();
clearInterval(progress);
const seconds = (performance.now() - started) / 1000;

const outcomes: FileOutcome[] = [];
for (const device of devices) {
  const { rows: scored } = await runtime.store.query(
    `SELECT epoch_ms(time) AS t, anomalous FROM inferences WHERE device_id = ${sqlText(device.thing)} ORDER BY time`,
  );
  const { rows: opened } = await runtime.store.query(
    `SELECT epoch_ms(opened_at) AS t, epoch_ms(coalesce(cleared_at, last_anomaly_at)) AS until
     FROM alerts WHERE device_id = ${sqlText(device.thing)} ORDER BY opened_at`,
  );
  // Row i of the file is the reading stamped endAt - (rows - 1 - i) seconds.
  const first = endAt - (device.rows - 1) * 1000;
  const rowOf = (ms: unknown) => Math.round((Number(ms) - first) / 1000);
  outcomes.push(
    fileOutcome(
      { file: path.relative(process.cwd(), device.file), part: skabPartOf(device.file) },
      device.labels,
      new Map(scored.map((row) => [rowOf(row.t), row.anomalous === true])),
      opened.map((row) => ({ from: rowOf(row.t), to: rowOf(row.until) })),
      CALIBRATION,
    ),
  );
}

const files = new Table({
  head: ['file', 'part', 'TP/FP/FN/TN', 'events caught', 'false alerts', 'alerts'],
  style: { head: [], border: [] },
});
for (const o of outcomes) {
  const { tp, fp, fn, tn } = o.counts;
  files.push(
    [o.file, o.part, `${tp}/${fp}/${fn}/${tn}`, `${o.caught}/${o.events}`, o.falseAlerts, o.alerts].map(
      String,
    ),
  );
}
console.log(files.toString());
// Held out first: the goals are on files no setting was chosen on; the whole set only beside it.
const parts = [
  ...SKAB_PARTS.toReversed().map((part) => [part, outcomes.filter((o) => o.part === part)] as const),
  ['all', outcomes] as const,
].filter(([, chosen]) => chosen.length > 0);
const figures = parts.map(([name, chosen]) => [name, figuresOf(chosen)] as const);
const percent = (part: number, whole: number) =>
  `${part} of ${whole} (${((100 * part) / Math.max(1, whole)).toFixed(0)}%)`;
const summary = new Table({
  head: ['measure', ...figures.map(([name, f]) => `${name} (${f.files} files)`), 'goal (held out)'],
  style: { head: [], border: [] },
});
summary.push(
  ['F1 (readings after calibration)', ...figures.map(([, f]) => f.f1.toFixed(3)), '> 0.78'],
  ['FAR %', ...figures.map(([, f]) => f.far.toFixed(2)), '< 20'],
  ['MAR %', ...figures.map(([, f]) => f.mar.toFixed(2)), ''],
  [
    'anomaly events caught by an alert',
    ...figures.map(([, f]) => percent(f.eventsCaught, f.events)),
    '>= 90%',
  ],
  [
    'anomaly events with an alert open at some point of them',
    ...figures.map(([, f]) => percent(f.eventsCovered, f.events)),
    '',
  ],
  [
    'false alerts per device-hour of normal data',
    ...figures.map(
      ([, f]) =>
        `${f.falseAlertsPerDeviceHour.toFixed(3)} (${f.falseAlerts} in ${f.deviceHours.toFixed(2)} h)`,
    ),
    '<= 0.2',
  ],
  [
    'median seconds from event start to alert',
    ...figures.map(([, f]) => (f.medianDelaySeconds === null ? '-' : f.medianDelaySeconds.toFixed(0))),
    '',
  ],
);
console.log(summary.toString());
console.log(
  `${devices.length} files (split: bench/skab-split.ts), ${sent} readings through the pipeline in ${seconds.toFixed(0)} s`,
);

await runtime.stop();
if (!values.keep) rmSync(dataDir, { recursive: true, force: true });
else console.error(`kept ${dataDir}`);
for (const [name, f] of figures.filter(([name]) => name !== 'held-out'))
  console.log(`${name}: ${JSON.stringify(resultLine(f))}`);
// The last line: the held-out part's figures, or all files' when every file was tuned on.
const [, last] = figures.find(([name]) => name === 'held-out') ?? figures.at(-1) ?? [];
if (last) console.log(JSON.stringify(resultLine(last)));
