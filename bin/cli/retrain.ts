import * as path from 'node:path';
import { Command } from 'commander';
import { trainAnomalyModel, type AnomalyModel } from '../../core/model/anomaly-model.ts';
import {
  normalTrainingSet,
  scoreOnFeedback,
  type DeviceRecording,
  type FeedbackScore,
  type LabelledStretch,
} from '../../core/model/retraining.ts';
import { SKAB_COLUMNS } from '../../edge/sources.ts';
import { withLocalStore, type StoreQuery } from '../../local/store/query-client.ts';
import { deviceRows, devicesIn, standingVerdicts } from '../../local/store/store-reads.ts';
import { loadModel } from '../../model/invocations.ts';
import { scoreAsDevice } from '../../model/score-as-device.ts';
import { parseCsvTable } from '../../model/csv-table.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { csvFilesUnder } from '../../tools/csv-files.ts';
import { readFileSync } from 'node:fs';
import { actorOf, actorOptions, dataDirOption, integer } from './options.ts';
import { FileModelRegistry } from '../../local/scoring/model-registry.ts';
import { FileAuditLog } from '../../local/files/audit-log.ts';
import { registerCandidate } from '../../core/model/registry.ts';
import { printTable } from './output.ts';

/** Each device's readings since `since`, as the model's sensors, in time order. */
async function recentRecordings(
  query: StoreQuery,
  useCase: string,
  sensors: readonly string[],
  columns: readonly string[],
  since: number,
): Promise<DeviceRecording[]> {
  const recordings: DeviceRecording[] = [];
  for (const deviceId of await devicesIn(query, 'telemetry', useCase)) {
    const rows = await deviceRows(query, 'telemetry', useCase, deviceId, {
      columns: columns.join(', '),
      after: since - 1,
      where: columns.map((c) => `${c} IS NOT NULL`).join(' AND '),
    });
    if (rows.length === 0) continue;
    recordings.push({
      deviceId,
      times: rows.map((row) => Number(row.t)),
      table: { sensors: [...sensors], rows: rows.map((row) => columns.map((column) => Number(row[column]))) },
    });
  }
  return recordings;
}

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
  const current = loadModel(path.join(dataDir, 'models', manifest.id));
  const contract = contracts.get(manifest.contract);
  const columns = current.sensors.map((sensor) => contract.measures[sensor]?.column ?? sensor);
  const since = Date.now() - options.days * 24 * 3600_000;
  const { recordings, labels } = await withLocalStore(dataDir, async (query) => ({
    recordings: await recentRecordings(query, manifest.id, current.sensors, columns, since),
    labels: await standingVerdicts(query, manifest.id),
  }));
  if (recordings.length === 0)
    throw new Error(`no readings of ${manifest.id} in the last ${options.days} days`);
  const training = normalTrainingSet(recordings, labels);
  const version = `${manifest.id}-candidate-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
  const candidate = trainAnomalyModel(training.table, {
    modelVersion: version,
    params: current.params,
    segments: training.segments,
  });
  const compared = await comparison(
    current,
    candidate,
    recordings,
    labels,
    training.table.rows.length,
    options.skab,
  );
  printTable(['measure', 'current', 'candidate'], compared.rows);
  console.log(
    `${recordings.length} devices, ${training.table.rows.length} normal readings (${training.excluded} inside confirmed faults left out), ${labels.length} verdicts`,
  );
  await registerPending(dataDir, manifest, candidate, compared, {
    options,
    devices: recordings.length,
    normalReadings: training.table.rows.length,
    verdicts: labels.length,
  });
  console.log(
    `candidate ${version} registered as pending: another person approves it with "aiot model approve --use-case ${manifest.id} --version ${version} --reason <text>"`,
  );
}

/** The live model and the candidate side by side: on the operators' verdicts, and on SKAB when asked. */
async function comparison(
  current: AnomalyModel,
  candidate: AnomalyModel,
  recordings: DeviceRecording[],
  labels: LabelledStretch[],
  trainingRows: number,
  skab: string | undefined,
): Promise<Comparison> {
  const feedback = (model: AnomalyModel): FeedbackScore => scoreOnFeedback(model, recordings, labels);
  const [now, next] = [feedback(current), feedback(candidate)];
  const rows: Record<string, string>[] = [
    { measure: 'model version', current: current.modelVersion, candidate: candidate.modelVersion },
    { measure: 'training readings', current: String(current.training.rows), candidate: String(trainingRows) },
    {
      measure: 'confirmed faults flagged',
      current: `${now.anomaliesFlagged} of ${now.anomalies}`,
      candidate: `${next.anomaliesFlagged} of ${next.anomalies}`,
    },
    {
      measure: 'readings flagged in windows judged normal',
      current: `${(100 * now.normalFlaggedShare).toFixed(1)}% of ${now.normalReadings}`,
      candidate: `${(100 * next.normalFlaggedShare).toFixed(1)}% of ${next.normalReadings}`,
    },
  ];
  if (skab) {
    console.error(`replaying SKAB under ${skab} with both models...`);
    const [a, b] = [await skabReplay(current, skab), await skabReplay(candidate, skab)];
    rows.push({
      measure: 'SKAB replay F1 / FAR % / MAR %',
      current: `${a.f1.toFixed(3)} / ${a.far.toFixed(1)} / ${a.mar.toFixed(1)}`,
      candidate: `${b.f1.toFixed(3)} / ${b.far.toFixed(1)} / ${b.mar.toFixed(1)}`,
    });
  }
  return { rows, now, next };
}

/** The comparison as printed, and the figures behind it. */
interface Comparison {
  readonly rows: Record<string, string>[];
  readonly now: FeedbackScore;
  readonly next: FeedbackScore;
}

/** Keeps the candidate and registers it as pending, with its card and metrics, on the audit trail. */
async function registerPending(
  dataDir: string,
  manifest: UseCaseManifest,
  candidate: AnomalyModel,
  { rows, now, next }: Comparison,
  run: { options: RetrainOptions; devices: number; normalReadings: number; verdicts: number },
): Promise<void> {
  const { options } = run;
  const registry = FileModelRegistry.inDataDir(dataDir, manifest.id);
  registry.keepVersion(candidate);
  const metrics: Record<string, number | string> = {
    confirmedFaultsFlagged: `${next.anomaliesFlagged} of ${next.anomalies}`,
    normalFlaggedShare: next.normalFlaggedShare,
    liveNormalFlaggedShare: now.normalFlaggedShare,
    verdicts: run.verdicts,
  };
  const skabRow = rows.find((r) => r.measure?.startsWith('SKAB'));
  if (skabRow?.candidate) metrics.skabF1FarMar = skabRow.candidate;
  await registry.change((state) => {
    const { registry: registered, event } = registerCandidate(state, {
      version: candidate.modelVersion,
      trainedBy: actorOf(options),
      trainedAt: Date.now(),
      trainingData: `local store ${dataDir}: ${manifest.id}, ${run.devices} devices, ${options.days} days to ${new Date().toISOString()}, ${run.normalReadings} normal readings`,
      parameters: { ...candidate.params },
      metrics,
      card: {
        intendedUse: `${manifest.name}: ${manifest.description}`,
        inputs: candidate.sensors,
        knownLimits: [
          `trained on ${options.days} days of readings of ${run.devices} devices; failure modes absent from them are not learned`,
          'readings inside alerts operators confirmed are left out; false positives are kept as normal',
        ],
      },
    });
    return { registry: registered, events: [event] };
  }, FileAuditLog.inDataDir(dataDir));
}
