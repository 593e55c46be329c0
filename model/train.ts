import { issuesText } from '../core/contracts/reasons.ts';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import {
  anomalyModelParamsSchema,
  trainAnomalyModel,
  type AnomalyModel,
  type AnomalyModelParams,
  type SensorTable,
} from '../core/model/anomaly-model.ts';
import { trainWithSelection } from '../core/model/selection.ts';
import { parseCsvTable } from './csv-table.ts';

export const MODEL_FILE = 'model.json';
export const TRAINING_REPORT_FILE = 'training.json';

const list = z.string().transform((text) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);
const numberFromString = z.union([
  z.number(),
  z
    .string()
    .regex(/^-?\d+(\.\d+)?$/)
    .transform(Number),
]);

/** SageMaker passes every hyperparameter as a string; both forms are accepted here. */
export const hyperparametersSchema = z.strictObject({
  sensors: list.optional(),
  exclude: list.optional(),
  model_version: z.string().min(1).optional(),
  smoothing_window: numberFromString.optional(),
  threshold_quantile: numberFromString.optional(),
  threshold_factor: numberFromString.optional(),
  covariance_shrinkage: numberFromString.optional(),
  slow_sensor_ratio: numberFromString.optional(),
  calibration_rows: numberFromString.optional(),
  baseline_threshold_factor: numberFromString.optional(),
  sampling_seconds: numberFromString.optional(),
  /**
   * "true": hold the last file out and choose the slow-sensor cut, the covariance shrinkage and
   * device baselines on it (core/model/selection.ts: every signal that keeps held-out normal
   * running quiet is scored). Needs two files or more. Settings given here stay as given.
   */
  choose_settings: z.enum(['true', 'false']).optional(),
  /** Why the job was started (a fine-tuning job: the verdicts behind it), kept with the candidate. */
  reason: z.string().max(1000).optional(),
});

export type Hyperparameters = z.output<typeof hyperparametersSchema>;

export function readHyperparameters(file: string): Hyperparameters {
  if (!existsSync(file)) return {};
  const parsed = hyperparametersSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new Error(`${file}: ${issuesText(parsed.error.issues)}`);
  }
  return parsed.data;
}

/** Reads every CSV of the channel into one table; all files must have the same sensors. */
export function readTrainingTable(
  trainDir: string,
  hyperparameters: Hyperparameters,
): { table: SensorTable; files: string[]; segments: number[] } {
  if (!existsSync(trainDir)) throw new Error(`training channel ${trainDir} does not exist`);
  const files = readdirSync(trainDir)
    .filter((name) => name.toLowerCase().endsWith('.csv'))
    .sort();
  if (files.length === 0) throw new Error(`training channel ${trainDir} holds no .csv file`);
  let sensors: string[] | undefined;
  const rows: number[][] = [];
  const segments: number[] = [];
  for (const name of files) {
    const file = path.join(trainDir, name);
    const table = parseCsvTable(readFileSync(file, 'utf8'), file, {
      sensors: hyperparameters.sensors ?? sensors,
      exclude: hyperparameters.exclude,
    });
    sensors ??= [...table.sensors];
    rows.push(...table.rows.map((row) => [...row]));
    segments.push(table.rows.length);
  }
  return { table: { sensors: sensors ?? [], rows }, files, segments };
}

export interface TrainingResult {
  readonly model: AnomalyModel;
  readonly report: Record<string, unknown>;
}

/**
 * Chooses the settings the hyperparameters leave open on the last file, held out from the fit,
 * then trains on every file with them. Real data has no declared faults: the choice keeps
 * held-out normal running quiet and scores as many signals as it can.
 */
function trainWithChoice(
  table: SensorTable,
  segments: readonly number[],
  files: readonly string[],
  params: Partial<AnomalyModelParams>,
): AnomalyModel {
  if (segments.length < 2)
    throw new Error(
      'choose_settings needs two training files or more: the last one is held out to choose on',
    );
  const fitRows = segments.slice(0, -1).reduce((sum, rows) => sum + rows, 0);
  const held = { sensors: table.sensors, rows: table.rows.slice(fitRows) };
  const base = anomalyModelParamsSchema.parse(params);
  const pinned = new Set([...Object.keys(params), 'thresholdQuantile', 'thresholdFactor']);
  return trainWithSelection({
    data: {
      source: `${files.length - 1} training files fitted, ${files.at(-1) ?? ''} held out (normal running, no declared faults)`,
      training: { sensors: table.sensors, rows: table.rows.slice(0, fitRows) },
      normal: [held],
      faults: [],
    },
    training: table,
    segments,
    base,
    pinned,
    modelVersion: 'pending',
  });
}

/** The `train` entry point: channel CSVs + hyperparameters in, model and training report out. */
export function runTraining(options: {
  trainDir: string;
  modelDir: string;
  hyperparametersFile: string;
  now?: Date;
}): TrainingResult {
  const hyperparameters = readHyperparameters(options.hyperparametersFile);
  const { table, files, segments } = readTrainingTable(options.trainDir, hyperparameters);
  const params = Object.fromEntries(
    Object.entries({
      smoothingWindow: hyperparameters.smoothing_window,
      thresholdQuantile: hyperparameters.threshold_quantile,
      thresholdFactor: hyperparameters.threshold_factor,
      covarianceShrinkage: hyperparameters.covariance_shrinkage,
      slowSensorRatio: hyperparameters.slow_sensor_ratio,
      calibrationRows: hyperparameters.calibration_rows,
      baselineThresholdFactor: hyperparameters.baseline_threshold_factor,
      samplingSeconds: hyperparameters.sampling_seconds,
    }).filter(([, value]) => value !== undefined),
  );
  const trainedAt = (options.now ?? new Date()).toISOString();
  // Each file is its own recording: the ageing profile does not read across from one to the next.
  const draft =
    hyperparameters.choose_settings === 'true'
      ? trainWithChoice(table, segments, files, params)
      : trainAnomalyModel(table, { modelVersion: 'pending', params, segments });
  // The version names the content: the same data and settings give the same version.
  const digest = createHash('sha256')
    .update(JSON.stringify({ ...draft, modelVersion: '' }))
    .digest('hex')
    .slice(0, 12);
  const model: AnomalyModel = {
    ...draft,
    modelVersion: `${hyperparameters.model_version ?? 'anomaly'}-${digest}`,
  };
  const report = {
    modelVersion: model.modelVersion,
    trainedAt,
    files,
    rows: table.rows.length,
    sensors: model.sensors,
    tracked: model.tracked.map((t) => t.sensor),
    untracked: model.untracked,
    threshold: model.threshold,
    scoreQuantiles: model.training.scoreQuantiles,
    params: model.params,
    ...(model.selection ? { selection: model.selection } : {}),
    ageing: model.ageing
      ? { stepSeconds: model.ageing.stepSeconds, steps: model.ageing.sensors[0]?.growth.length ?? 0 }
      : 'none: no file is longer than a calibration, a smoothing window and one step',
  };
  mkdirSync(options.modelDir, { recursive: true });
  writeFileSync(path.join(options.modelDir, MODEL_FILE), `${JSON.stringify(model)}\n`);
  writeFileSync(path.join(options.modelDir, TRAINING_REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
  return { model, report };
}
