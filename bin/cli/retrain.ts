import * as path from 'node:path';
import { Command } from 'commander';
import type { AnomalyModel } from '../../core/model/anomaly-model.ts';
import { SKAB_COLUMNS } from '../../edge/sources.ts';
import { registerPending, trainCandidate } from '../../local/scoring/candidate-training.ts';
import { withLocalStore } from '../../local/store/query-client.ts';
import { scoreAsDevice } from '../../model/score-as-device.ts';
import { parseCsvTable } from '../../model/csv-table.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { csvFilesUnder } from '../../tools/csv-files.ts';
import { readFileSync } from 'node:fs';
import { actorOf, actorOptions, dataDirOption, integer } from './options.ts';
import { printTable } from './output.ts';

/** The SKAB outlier protocol through the per-device code: each file one device, calibrated on 400 rows. */
async function skabReplay(model: AnomalyModel, dir: string) {
  const counts = { tp: 0, fp: 0, fn: 0, tn: 0 };
  const columns = model.sensors.map((sensor) => SKAB_COLUMNS[sensor] ?? sensor);
  for (const file of csvFilesUnder(dir).filter((f) => !f.toLowerCase().endsWith('anomaly-free.csv'))) {
    const text = readFileSync(file, 'utf8');
    const table = parseCsvTable(text, file, { sensors: columns });
    const labels = parseCsvTable(text, file, { sensors: ['anomaly'] }).rows.map((r) => r[0] === 1);
    const results = await scoreAsDevice(
      model,
      { sensors: model.sensors, rows: table.rows },
      {
        calibrationRows: 400,
        intervalSeconds: 1,
      },
    );
    results.forEach((r, i) => {
      if (i < 400) return;
      const actual = labels[i] === true;
      counts[r.anomalous ? (actual ? 'tp' : 'fp') : actual ? 'fn' : 'tn'] += 1;
    });
  }
  return {
    f1: (2 * counts.tp) / (2 * counts.tp + counts.fp + counts.fn),
    far: (100 * counts.fp) / (counts.fp + counts.tn),
    mar: (100 * counts.fn) / (counts.fn + counts.tp),
  };
}

interface RetrainOptions {
  useCase: string;
  days: number;
  skab?: string;
  dataDir: string;
  user: string;
  role: string;
}

export function retrainCommand(): Command {
  return actorOptions(
    new Command('retrain')
      .description(
        "train a candidate model from the use case's recent normal readings and the operators' verdicts, compare it with the live model, and register it as pending: another person approves it (aiot model approve)",
      )
      .requiredOption('--use-case <id>', 'the use case')
      .option('--days <n>', 'how far back to take readings', integer('--days', 1, 3650), 7)
      .option('--skab <dir>', 'also replay the SKAB experiment files under this folder (SKAB columns)')
      .addOption(dataDirOption()),
  ).action(retrain);
}

/** Trains a candidate on the recent normal readings, compares it with the live model and registers it as pending. */
async function retrain(options: RetrainOptions): Promise<void> {
  const { useCases, contracts } = loadCatalog();
  const manifest = useCases.find((u) => u.id === options.useCase);
  if (!manifest) throw new Error(`unknown use case "${options.useCase}"`);
  const dataDir = path.resolve(options.dataDir);
  const now = Date.now();
  const run = await withLocalStore(dataDir, (query) =>
    trainCandidate({
      dataDir,
      manifest,
      contract: contracts.get(manifest.contract),
      query,
      days: options.days,
      now,
    }),
  );
  if (options.skab) {
    console.error(`replaying SKAB under ${options.skab} with both models...`);
    const [a, b] = [
      await skabReplay(run.current, options.skab),
      await skabReplay(run.candidate, options.skab),
    ];
    run.comparison.rows.push({
      measure: 'SKAB replay F1 / FAR % / MAR %',
      current: `${a.f1.toFixed(3)} / ${a.far.toFixed(1)} / ${a.mar.toFixed(1)}`,
      candidate: `${b.f1.toFixed(3)} / ${b.far.toFixed(1)} / ${b.mar.toFixed(1)}`,
    });
  }
  printTable(['measure', 'current', 'candidate'], run.comparison.rows);
  console.log(
    `${run.recordings.length} devices, ${run.normalReadings} normal readings (${run.excluded} inside confirmed faults left out), ${run.labels.length} verdicts`,
  );
  await registerPending(dataDir, manifest, run, { actor: actorOf(options), days: options.days, now });
  const version = run.candidate.modelVersion;
  console.log(
    `candidate ${version} registered as pending: another person approves it with "aiot model approve --use-case ${manifest.id} --version ${version} --reason <text>"`,
  );
}
