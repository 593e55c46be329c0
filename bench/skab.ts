/**
 * SKAB outlier-detection protocol, exactly as the benchmark defines it: for every experiment file,
 * fit on its first 400 rows, predict the remaining rows, sum TP/FP/FN/TN over all files, report
 * F1, FAR = FP/(FP+TN) in % and MAR = FN/(FN+TP) in %. The model sees no labels: the `anomaly` and
 * `changepoint` columns are excluded from its input and used only to count.
 *
 *   npm run bench:skab -- --data ../shared/datasets/skab
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { scoreReadings, trainAnomalyModel } from '../core/model/anomaly-model.ts';
import { parseCsvTable } from '../model/csv-table.ts';

const { values } = parseArgs({ options: { data: { type: 'string', default: '../shared/datasets/skab' } } });
const dataDir = path.resolve(values.data);
const TRAIN_ROWS = 400;
const LABELS = ['anomaly', 'changepoint'];

const files = readdirSync(dataDir)
  .filter((name) => name !== 'anomaly-free' && statSync(path.join(dataDir, name)).isDirectory())
  .flatMap((folder) =>
    readdirSync(path.join(dataDir, folder))
      .filter((name) => name.endsWith('.csv'))
      .map((name) => path.join(dataDir, folder, name)),
  )
  .sort();
if (files.length === 0) throw new Error(`no experiment files under ${dataDir}`);

let tp = 0;
let fp = 0;
let fn = 0;
let tn = 0;
const started = performance.now();
for (const [index, file] of files.entries()) {
  const text = readFileSync(file, 'utf8');
  const labels = parseCsvTable(text, file, { sensors: ['anomaly'] }).rows.map((row) => row[0] === 1);
  const table = parseCsvTable(text, file, { exclude: LABELS });
  const model = trainAnomalyModel(
    { sensors: table.sensors, rows: table.rows.slice(0, TRAIN_ROWS) },
    { modelVersion: 'skab' },
  );
  // One causal pass over the whole file; only the rows after the training part are counted.
  const scored = scoreReadings(model, table).slice(TRAIN_ROWS);
  scored.forEach((reading, i) => {
    const actual = labels[TRAIN_ROWS + i] ?? false;
    if (reading.anomalous && actual) tp++;
    else if (reading.anomalous) fp++;
    else if (actual) fn++;
    else tn++;
  });
  const progress = `${index + 1}/${files.length} ${path.relative(dataDir, file)}`;
  if (process.stderr.isTTY) process.stderr.write(`\r${progress}      `);
  else if ((index + 1) % 10 === 0 || index + 1 === files.length) process.stderr.write(`${progress}\n`);
}
if (process.stderr.isTTY) process.stderr.write('\n');
const f1 = (2 * tp) / (2 * tp + fp + fn);
const far = (100 * fp) / (fp + tn);
const mar = (100 * fn) / (fn + tp);

// The published leaderboard, read from the data set's own README.
const readme = readFileSync(path.join(dataDir, 'README.md'), 'utf8');
const leaderboard = [...readme.matchAll(/^\| ([^|]+?) \| (0\.\d+) \| ([\d.]+) \| ([\d.]+) \|$/gm)].map(
  (m) => ({
    name: m[1] ?? '',
    f1: Number(m[2]),
    far: Number(m[3]),
    mar: Number(m[4]),
  }),
);
const rows = [...leaderboard, { name: 'aiot-pipeline (this run)', f1, far, mar }].sort((a, b) => b.f1 - a.f1);
const table = new Table({ head: ['algorithm', 'F1', 'FAR %', 'MAR %'], style: { head: [], border: [] } });
for (const row of rows) table.push([row.name, row.f1.toFixed(3), row.far.toFixed(2), row.mar.toFixed(2)]);
console.log(table.toString());
console.log(
  `${files.length} files, TP ${tp} FP ${fp} FN ${fn} TN ${tn}, ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
