/**
 * SKAB outlier-detection protocol, exactly as the benchmark defines it: for every experiment file,
 * fit on its first 400 rows, predict the remaining rows, sum TP/FP/FN/TN over all files, report
 * F1, FAR = FP/(FP+TN) in % and MAR = FN/(FN+TP) in %. The model sees no labels: the `anomaly` and
 * `changepoint` columns are excluded from its input and used only to count.
 *
 *   npm run bench:skab -- --data ../shared/datasets/skab
 *
 * With `--split` it also measures how much of the result is tuning, on the fixed split by file
 * (bench/skab-split.ts): window and factor are chosen from a grid on the tuning part and scored on
 * the held-out part, beside the defaults there.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { scoreReadings, trainAnomalyModel, type AnomalyModelParams } from '../core/model/anomaly-model.ts';
import { parseCsvTable } from '../model/csv-table.ts';
import { skabPartOf } from './skab-split.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/datasets/skab' },
    split: { type: 'boolean', default: false },
  },
});
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

interface Counts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

const tables = new Map(
  files.map((file) => {
    const text = readFileSync(file, 'utf8');
    return [
      file,
      {
        labels: parseCsvTable(text, file, { sensors: ['anomaly'] }).rows.map((row) => row[0] === 1),
        table: parseCsvTable(text, file, { exclude: LABELS }),
      },
    ] as const;
  }),
);

function evaluate(
  subset: readonly string[],
  params: Partial<AnomalyModelParams> = {},
  progress = false,
): Counts {
  const counts: Counts = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (const [index, file] of subset.entries()) {
    const { labels, table } = tables.get(file) ?? { labels: [], table: { sensors: [], rows: [] } };
    const model = trainAnomalyModel(
      { sensors: table.sensors, rows: table.rows.slice(0, TRAIN_ROWS) },
      { modelVersion: 'skab', params },
    );
    // One causal pass over the whole file; only the rows after the training part are counted.
    const scored = scoreReadings(model, table).slice(TRAIN_ROWS);
    scored.forEach((reading, i) => {
      const actual = labels[TRAIN_ROWS + i] ?? false;
      if (reading.anomalous && actual) counts.tp++;
      else if (reading.anomalous) counts.fp++;
      else if (actual) counts.fn++;
      else counts.tn++;
    });
    if (!progress) continue;
    const line = `${index + 1}/${subset.length} ${path.relative(dataDir, file)}`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}      `);
    else if ((index + 1) % 10 === 0 || index + 1 === subset.length) process.stderr.write(`${line}\n`);
  }
  if (progress && process.stderr.isTTY) process.stderr.write('\n');
  return counts;
}

const f1Of = (c: Counts) => (2 * c.tp) / (2 * c.tp + c.fp + c.fn);
const started = performance.now();
const { tp, fp, fn, tn } = evaluate(files, {}, true);
const f1 = f1Of({ tp, fp, fn, tn });
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

if (values.split) {
  // Chosen on the tuning part, scored on the held-out part: how far the defaults' F1 owes to
  // having been chosen on these files.
  const tuning = files.filter((file) => skabPartOf(file) === 'tuning');
  const heldOut = files.filter((file) => skabPartOf(file) === 'held-out');
  const grid = [15, 30, 45, 60, 90, 120].flatMap((smoothingWindow) =>
    [1.25, 1.5, 2, 2.5, 3].map((thresholdFactor) => ({ smoothingWindow, thresholdFactor })),
  );
  let best = { params: grid[0] ?? { smoothingWindow: 60, thresholdFactor: 1.5 }, f1: -1 };
  for (const [index, params] of grid.entries()) {
    const score = f1Of(evaluate(tuning, params));
    if (score > best.f1) best = { params, f1: score };
    process.stderr.write(`split: ${index + 1}/${grid.length}\n`);
  }
  const split = new Table({
    head: ['settings', `F1 on the tuning part (${tuning.length})`, `F1 held out (${heldOut.length})`],
    style: { head: [], border: [] },
  });
  split.push(
    [
      `chosen on the tuning part: window ${best.params.smoothingWindow}, factor ${best.params.thresholdFactor}`,
      best.f1.toFixed(3),
      f1Of(evaluate(heldOut, best.params)).toFixed(3),
    ],
    ['the defaults', f1Of(evaluate(tuning)).toFixed(3), f1Of(evaluate(heldOut)).toFixed(3)],
  );
  console.log(split.toString());
}
