import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { issuesText } from '../core/contracts/reasons.ts';
import { anomalyModelSchema, type AnomalyModel } from '../core/model/anomaly-model.ts';
import { comparisonMetrics, fineTuneCandidate } from '../core/model/fine-tune-candidate.ts';
import {
  FEEDBACK_INDEX_FILE,
  feedbackIndexSchema,
  FINE_TUNE_METRIC_NAMES,
  type FeedbackIndex,
} from '../core/model/fine-tune-data.ts';
import type { DeviceRecording } from '../core/model/retraining.ts';
import { MODEL_FILE, readHyperparameters, TRAINING_REPORT_FILE, type TrainingResult } from './train.ts';

/**
 * The training job's fine-tuning mode (a `feedback` channel is present): the live model (`live`
 * channel: its model.tar.gz or model.json), each device's recent readings and the operators'
 * verdicts in; a candidate with the live model's settings and the held-out comparison out
 * (core/model/fine-tune-candidate.ts). The figures are also printed as `name=value` lines, which
 * the job's metric definitions turn into its final metrics (lib/constructs/model-fine-tuning.ts).
 */

/** The live model from its channel: the artifact as SageMaker keeps it, or the model file itself. */
export function readLiveModel(liveDir: string): AnomalyModel {
  if (!existsSync(liveDir)) throw new Error(`live model channel ${liveDir} does not exist`);
  const plain = path.join(liveDir, MODEL_FILE);
  const archive = readdirSync(liveDir).find((name) => name.endsWith('.tar.gz'));
  let text: string;
  if (existsSync(plain)) text = readFileSync(plain, 'utf8');
  else if (archive) {
    const scratch = mkdtempSync(path.join(tmpdir(), 'live-model-'));
    try {
      execFileSync('tar', ['-xzf', path.join(liveDir, archive), '-C', scratch, MODEL_FILE]);
      text = readFileSync(path.join(scratch, MODEL_FILE), 'utf8');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  } else throw new Error(`live model channel ${liveDir} holds neither ${MODEL_FILE} nor a .tar.gz artifact`);
  const parsed = anomalyModelSchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(`the live model is not one this image reads: ${issuesText(parsed.error.issues)}`);
  return parsed.data;
}

function readIndex(feedbackDir: string): FeedbackIndex {
  const file = path.join(feedbackDir, FEEDBACK_INDEX_FILE);
  if (!existsSync(file)) throw new Error(`feedback channel ${feedbackDir} holds no ${FEEDBACK_INDEX_FILE}`);
  const parsed = feedbackIndexSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${issuesText(parsed.error.issues)}`);
  return parsed.data;
}

/** One device's readings of the model's sensors, in time order; rows missing one of them are left out. */
function readRecording(file: string, deviceId: string, sensors: readonly string[]): DeviceRecording {
  const records: string[][] = parse(readFileSync(file, 'utf8'), { skip_empty_lines: true, trim: true });
  const [header = [], ...body] = records;
  const columns = ['time', ...sensors].map((name) => {
    const index = header.indexOf(name);
    if (index < 0) throw new Error(`${file}: no column "${name}" (columns: ${header.join(', ')})`);
    return index;
  });
  const rows = body
    .map((row) => columns.map((index) => (row[index] === '' ? Number.NaN : Number(row[index]))))
    .filter((row) => row.every(Number.isFinite))
    .sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
  return {
    deviceId,
    times: rows.map((row) => row[0] ?? 0),
    table: { sensors: [...sensors], rows: rows.map((row) => row.slice(1)) },
  };
}

export function runFineTune(options: {
  feedbackDir: string;
  liveDir: string;
  modelDir: string;
  hyperparametersFile: string;
  now?: Date;
}): TrainingResult {
  const hyperparameters = readHyperparameters(options.hyperparametersFile);
  const current = readLiveModel(options.liveDir);
  const index = readIndex(options.feedbackDir);
  const recordings = index.devices
    .map((d) => readRecording(path.join(options.feedbackDir, d.file), d.deviceId, current.sensors))
    .filter((r) => r.times.length > 0);
  const outcome = fineTuneCandidate({ current, recordings, labels: index.labels, modelVersion: 'pending' });
  const digest = createHash('sha256')
    .update(JSON.stringify({ ...outcome.candidate, modelVersion: '' }))
    .digest('hex')
    .slice(0, 12);
  const model: AnomalyModel = {
    ...outcome.candidate,
    modelVersion: `${hyperparameters.model_version ?? index.useCase}-ft-${digest}`,
  };
  const metrics: Record<(typeof FINE_TUNE_METRIC_NAMES)[number], number> = {
    normal_flagged_share: outcome.next.normalFlaggedShare,
    live_normal_flagged_share: outcome.live.normalFlaggedShare,
    faults_flagged: outcome.next.anomaliesFlagged,
    live_faults_flagged: outcome.live.anomaliesFlagged,
    faults: outcome.next.anomalies,
    held_out_normal_readings: outcome.next.normalReadings,
    training_readings: outcome.trainingRows,
  };
  const report = {
    modelVersion: model.modelVersion,
    liveModelVersion: current.modelVersion,
    trainedAt: (options.now ?? new Date()).toISOString(),
    reason: index.reason,
    devices: recordings.length,
    days: index.days,
    excludedFaultReadings: outcome.excluded,
    comparison: comparisonMetrics(outcome, index.verdicts),
    heldOut: outcome.heldOut,
    metrics,
    params: model.params,
  };
  mkdirSync(options.modelDir, { recursive: true });
  writeFileSync(path.join(options.modelDir, MODEL_FILE), `${JSON.stringify(model)}\n`);
  writeFileSync(path.join(options.modelDir, TRAINING_REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
  return { model, report };
}

/** The lines SageMaker's metric definitions read: `name=value`, one per figure. */
export function metricLines(report: Record<string, unknown>): string[] {
  const metrics = (report.metrics ?? {}) as Record<string, number>;
  return FINE_TUNE_METRIC_NAMES.map((name) => `fine-tune metric ${name}=${metrics[name] ?? Number.NaN}`);
}
