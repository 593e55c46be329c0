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
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { LocalRuntime } from '../local/runtime/runtime.ts';
import { sqlText } from '../local/store/sql.ts';
import { parseCsvTable } from '../model/csv-table.ts';
import { MODEL_FILE } from '../model/train.ts';
import { csvFilesUnder } from '../tools/csv-files.ts';
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

const all = values.data.map((dir) => path.resolve(dir)).flatMap(csvFilesUnder);
const normalFiles = all.filter((file) => path.basename(file).toLowerCase() === 'anomaly-free.csv');
const experimentFiles = all.filter((file) => !normalFiles.includes(file));
if (experimentFiles.length === 0) throw new Error(`no experiment CSV under ${values.data.join(', ')}`);

// The model's sensors are the contract's measure names; SKAB's columns map onto them.
const measures = Object.keys(SKAB_COLUMNS);
const columns = measures.map((measure) => SKAB_COLUMNS[measure] ?? measure);
function readTable(file: string) {
  const text = readFileSync(file, 'utf8');
  const table = parseCsvTable(text, file, { sensors: columns });
  const header = text.slice(0, text.indexOf('\n'));
  const labels = header.includes('anomaly')
    ? parseCsvTable(text, file, { sensors: ['anomaly'] }).rows.map((row) => row[0] === 1)
    : undefined;
  return { rows: table.rows.map((row) => [...row]), labels };
}

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

interface Counts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}
const counts: Counts = { tp: 0, fp: 0, fn: 0, tn: 0 };
let events = 0;
let eventsCaught = 0;
let eventsCovered = 0;
let falseAlerts = 0;
let normalReadings = 0;
const delays: number[] = [];
const perFile: (string | number)[][] = [];
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
  const flagged = new Map(
    scored.map((row) => [Math.round((Number(row.t) - first) / 1000), row.anomalous === true]),
  );
  const alertRows = opened.map((row) => Math.round((Number(row.t) - first) / 1000));
  const alertSpans = opened.map((row) => ({
    from: Math.round((Number(row.t) - first) / 1000),
    to: Math.round((Number(row.until) - first) / 1000),
  }));
  const fileCounts: Counts = { tp: 0, fp: 0, fn: 0, tn: 0 };
  device.labels.forEach((actual, i) => {
    if (i < CALIBRATION) return;
    const predicted = flagged.get(i) === true;
    const key = predicted ? (actual ? 'tp' : 'fp') : actual ? 'fn' : 'tn';
    fileCounts[key] += 1;
    counts[key] += 1;
    if (!actual) normalReadings += 1;
  });
  let fileEvents = 0;
  let fileCaught = 0;
  for (let i = CALIBRATION; i < device.labels.length;) {
    if (!device.labels[i]) {
      i += 1;
      continue;
    }
    let end = i;
    while (end < device.labels.length && device.labels[end]) end += 1;
    fileEvents += 1;
    // Stricter: an alert opened while the event lasts. Looser: an alert is open at some point of it
    // (one opened just before the event, and still open, also tells someone).
    if (alertSpans.some((span) => span.from < end && span.to >= i)) eventsCovered += 1;
    const alert = alertRows.find((row) => row >= i && row < end);
    if (alert !== undefined) {
      fileCaught += 1;
      delays.push(alert - i);
    }
    i = end;
  }
  const fileFalse = alertRows.filter((row) => row >= CALIBRATION && device.labels[row] !== true).length;
  events += fileEvents;
  eventsCaught += fileCaught;
  falseAlerts += fileFalse;
  perFile.push([
    path.relative(process.cwd(), device.file),
    `${fileCounts.tp}/${fileCounts.fp}/${fileCounts.fn}/${fileCounts.tn}`,
    `${fileCaught}/${fileEvents}`,
    fileFalse,
    alertRows.length,
  ]);
}

const f1 = (2 * counts.tp) / (2 * counts.tp + counts.fp + counts.fn);
const far = (100 * counts.fp) / (counts.fp + counts.tn);
const mar = (100 * counts.fn) / (counts.fn + counts.tp);
const deviceHours = normalReadings / 3600;
delays.sort((a, b) => a - b);
const medianDelaySeconds =
  delays.length === 0
    ? null
    : delays.length % 2
      ? (delays[(delays.length - 1) / 2] ?? 0)
      : ((delays[delays.length / 2 - 1] ?? 0) + (delays[delays.length / 2] ?? 0)) / 2;

const files = new Table({
  head: ['file', 'TP/FP/FN/TN', 'events caught', 'false alerts', 'alerts'],
  style: { head: [], border: [] },
});
for (const row of perFile) files.push(row.map(String));
console.log(files.toString());
const summary = new Table({ head: ['measure', 'value', 'goal'], style: { head: [], border: [] } });
summary.push(
  ['F1 (readings after calibration)', f1.toFixed(3), '> 0.78'],
  ['FAR %', far.toFixed(2), '< 20'],
  ['MAR %', mar.toFixed(2), ''],
  [
    'anomaly events caught by an alert',
    `${eventsCaught} of ${events} (${((100 * eventsCaught) / Math.max(1, events)).toFixed(0)}%)`,
    '>= 90%',
  ],
  [
    'anomaly events with an alert open at some point of them',
    `${eventsCovered} of ${events} (${((100 * eventsCovered) / Math.max(1, events)).toFixed(0)}%)`,
    '',
  ],
  [
    'false alerts per device-hour of normal data',
    `${(falseAlerts / deviceHours).toFixed(3)} (${falseAlerts} in ${deviceHours.toFixed(2)} h)`,
    '<= 0.2',
  ],
  [
    'median seconds from event start to alert',
    medianDelaySeconds === null ? '-' : medianDelaySeconds.toFixed(0),
    '',
  ],
);
console.log(summary.toString());
console.log(`${devices.length} files, ${sent} readings through the pipeline in ${seconds.toFixed(0)} s`);

await runtime.stop();
if (!values.keep) rmSync(dataDir, { recursive: true, force: true });
else console.error(`kept ${dataDir}`);
console.log(
  JSON.stringify({
    files: devices.length,
    f1: Number(f1.toFixed(4)),
    far: Number(far.toFixed(3)),
    mar: Number(mar.toFixed(3)),
    events,
    eventsCaught,
    falseAlerts,
    deviceHours: Number(deviceHours.toFixed(3)),
    falseAlertsPerDeviceHour: Number((falseAlerts / deviceHours).toFixed(4)),
    medianDelaySeconds,
  }),
);
