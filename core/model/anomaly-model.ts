import { inverse, Matrix } from 'ml-matrix';
import { z } from 'zod';
import { profileOf, trainingProfileSchema } from '../drift/profile.ts';
import { ageingProfileSchema, learnAgeingProfile } from './ageing.ts';
import { grossColumns, grossTerms, type SlowLevel } from './gross-deviation.ts';
import { selectionSchema, type ModelSelection } from './selection-schema.ts';
import {
  causalMovingMean,
  column,
  contributionsOf,
  mean,
  quantile,
  validateTable,
  variance,
  type SensorTable,
} from './statistics.ts';

export type { SensorTable } from './statistics.ts';

/**
 * The hyperparameters. The defaults are the settings docs/benchmarks.md reports on SKAB (the
 * device-baseline ones checked on its tuning files by `npm run bench:skab-tune`); a use case's
 * local model has some of them chosen from its own simulation (./selection.ts).
 */
export const anomalyModelParamsSchema = z.strictObject({
  /**
   * Readings averaged (causally) into each score: anomalies in plants last, noise does not. 30
   * chosen on SKAB's tuning files (`npm run bench:skab-tune`).
   */
  smoothingWindow: z.int().min(1).max(3600).default(30),
  /** Quantile of the smoothed training scores that anchors the threshold. */
  thresholdQuantile: z.number().gt(0.5).lt(1).default(0.99),
  /** Threshold = quantile x factor, a margin for normal behaviour the training window did not show. */
  thresholdFactor: z.number().min(1).max(100).default(1.5),
  /** Shrinkage of the covariance towards the identity, so a short training set still inverts well. */
  covarianceShrinkage: z.number().min(0).max(1).default(0.1),
  /**
   * Sensors whose training data moves more slowly than this von Neumann ratio (mean squared
   * step over variance; about 2 for noise) have no stable normal level in a short training window,
   * so their level is not scored. Temperatures that still warm up are the usual case.
   */
  slowSensorRatio: z.number().min(0).max(2).default(0.5),
  /** Readings a device's baseline is calibrated on, and the calibration the ageing profile simulates. */
  calibrationRows: z.int().min(30).max(100_000).default(400),
  /**
   * Threshold factor of a device baseline; the ageing profile widens the baseline as it ages on
   * top of it. 1.5 was chosen on SKAB's tuning files (`npm run bench:skab-tune`): 1.25 raised 1.4
   * false alerts per device-hour there.
   */
  baselineThresholdFactor: z.number().min(1).max(100).default(1.5),
  /** Seconds between consecutive training rows, to express the ageing profile in seconds. */
  samplingSeconds: z.number().positive().max(86_400).default(1),
  /**
   * A sensor left out as slow still counts once it is this many of its spreads from its level
   * (./gross-deviation.ts); 0 leaves it out entirely. 30 chosen on SKAB's tuning files
   * (`npm run bench:skab-tune`).
   */
  grossDeviation: z.number().min(0).max(10_000).default(30),
  /**
   * Whether each device gets a normal of its own, calibrated on its first `calibrationRows`
   * readings. Off for a use case whose normal runs through cycles longer than a calibration (a
   * daily or weekly schedule): a baseline from one morning pages every afternoon, so every device
   * is scored against the fleet's normal, learnt over whole cycles.
   */
  deviceBaselines: z.boolean().default(true),
});

export type AnomalyModelParams = z.output<typeof anomalyModelParamsSchema>;

const MIN_TRAINING_ROWS = 30;
const TOP_CONTRIBUTORS = 3;

const trackedSchema = z.strictObject({ sensor: z.string(), mean: z.number(), scale: z.number().positive() });
const untrackedSchema = z.strictObject({
  sensor: z.string(),
  reason: z.string(),
  /** A slow sensor's level and spread in the fit, for the gross-deviation check (./gross-deviation.ts). */
  mean: z.number().optional(),
  scale: z.number().positive().optional(),
});
const scoreQuantilesSchema = z.strictObject({
  p50: z.number(),
  p90: z.number(),
  p99: z.number(),
  max: z.number(),
});

export const anomalyModelSchema = z.strictObject({
  format: z.literal('aiot.anomaly-model'),
  formatVersion: z.literal(1),
  modelVersion: z.string().min(1),
  params: anomalyModelParamsSchema,
  /** Every sensor the model expects in a reading, in order. */
  sensors: z.array(z.string().min(1)).min(1),
  /** Sensors in the score, with their training mean and scale. */
  tracked: z.array(trackedSchema).min(1),
  /** Sensors left out of the score, and why. */
  untracked: z.array(untrackedSchema),
  /** Inverse of the shrunk covariance of the standardized tracked sensors. */
  precision: z.array(z.array(z.number())),
  threshold: z.number().positive(),
  training: z.strictObject({ rows: z.int(), scoreQuantiles: scoreQuantilesSchema }),
  /** How far normal readings wander from a calibration as it ages; absent when training was too short. */
  ageing: ageingProfileSchema.optional(),
  /** Each input's training distribution, which data drift is measured against; absent in older models. */
  profile: trainingProfileSchema.optional(),
  /** How `params` were chosen from the use case's data (./selection.ts); absent when set by hand. */
  selection: selectionSchema.optional(),
});

export type AnomalyModel = z.output<typeof anomalyModelSchema>;

export interface Contributor {
  readonly sensor: string;
  /** Share of the score this sensor explains, 0..1. */
  readonly share: number;
}

export interface ScoredReading {
  readonly score: number;
  readonly threshold: number;
  readonly anomalous: boolean;
  /**
   * Whether the smoothing averaged a full window. A score from a shorter history is noisier than
   * the threshold assumes, so callers that page people treat it as warming up.
   */
  readonly warm: boolean;
  /** The sensors that contribute most, largest first; empty when the score is negligible. */
  readonly contributors: readonly Contributor[];
}

/** What a fit of normal behaviour yields: the model's core, and a device baseline's. */
export interface NormalFit {
  readonly tracked: z.output<typeof trackedSchema>[];
  readonly untracked: z.output<typeof untrackedSchema>[];
  readonly precision: number[][];
  readonly threshold: number;
  readonly scoreQuantiles: z.output<typeof scoreQuantilesSchema>;
}

/**
 * Readings of history a window needs before its first scored reading for that score to be warm
 * (a full smoothing window): what a caller keeps per device and sends, and no more.
 */
export function historyReadings(params: Pick<AnomalyModelParams, 'smoothingWindow'>): number {
  return params.smoothingWindow - 1;
}

export function minimumTrainingRows(params: Pick<AnomalyModelParams, 'smoothingWindow'>): number {
  return Math.max(MIN_TRAINING_ROWS, params.smoothingWindow + 10);
}

/**
 * Learns normal behaviour from readings taken in normal operation: which sensors have a stable
 * level, their mean and scale, their joint covariance, and a threshold (quantile of the smoothed
 * scores x `thresholdFactor`) from the readings themselves (no labels).
 */
export function fitNormal(
  table: SensorTable,
  params: AnomalyModelParams,
  thresholdFactor: number,
): NormalFit {
  if (table.sensors.length === 0) throw new Error('training data has no sensor columns');
  const needed = minimumTrainingRows(params);
  if (table.rows.length < needed) {
    throw new Error(`training needs at least ${needed} readings, got ${table.rows.length}`);
  }
  validateTable(table, 'training data');

  const tracked: NormalFit['tracked'] = [];
  const untracked: NormalFit['untracked'] = [];
  table.sensors.forEach((sensor, index) => {
    const values = column(table, index);
    const mu = mean(values);
    const v = variance(values, mu);
    if (v <= 1e-12 * Math.max(1, mu * mu)) {
      untracked.push({ sensor, reason: 'constant in the training data' });
      return;
    }
    const steps = values.slice(1).map((value, i) => (value - (values[i] ?? value)) ** 2);
    const ratio = mean(steps) / v;
    if (ratio < params.slowSensorRatio) {
      untracked.push({
        sensor,
        reason: `moves too slowly to define a normal level (von Neumann ratio ${ratio.toFixed(2)} < ${params.slowSensorRatio})`,
        mean: mu,
        scale: Math.sqrt(v),
      });
      return;
    }
    tracked.push({ sensor, mean: mu, scale: Math.sqrt(v) });
  });
  if (tracked.length === 0) {
    throw new Error(`no sensor can be scored: ${untracked.map((u) => `${u.sensor} ${u.reason}`).join('; ')}`);
  }

  const indices = tracked.map((t) => table.sensors.indexOf(t.sensor));
  const standardized = table.rows.map((row) => standardize(tracked, indices, row));
  const covariance = new Matrix(standardized)
    .transpose()
    .mmul(new Matrix(standardized))
    .div(standardized.length);
  const shrunk = covariance
    .mul(1 - params.covarianceShrinkage)
    .add(Matrix.eye(tracked.length).mul(params.covarianceShrinkage));
  const precision = inverse(shrunk).to2DArray();

  const raw = standardized.map((zRow) => [contributionsOf(zRow, precision).reduce((a, b) => a + b, 0)]);
  // Skip the warm-up, where the moving mean still averages fewer readings.
  const smoothed = causalMovingMean(raw, params.smoothingWindow)
    .slice(params.smoothingWindow - 1)
    .map((v) => v[0] ?? 0)
    .sort((a, b) => a - b);
  const anchor = quantile(smoothed, params.thresholdQuantile);
  return {
    tracked,
    untracked,
    precision,
    threshold: Math.max(anchor * thresholdFactor, Number.EPSILON),
    scoreQuantiles: {
      p50: quantile(smoothed, 0.5),
      p90: quantile(smoothed, 0.9),
      p99: quantile(smoothed, 0.99),
      max: smoothed[smoothed.length - 1] ?? 0,
    },
  };
}

/**
 * Trains the use case's model: the normal fit of `fitNormal`, and the ageing profile that device
 * baselines calibrated with this model use (see ./ageing.ts).
 */
export function trainAnomalyModel(
  table: SensorTable,
  options: {
    modelVersion: string;
    params?: Partial<AnomalyModelParams>;
    /** Lengths of the separate recordings the table joins (files, pumps). @default one recording */
    segments?: readonly number[];
    /** How the params were chosen, kept in the model. */
    selection?: ModelSelection;
  },
): AnomalyModel {
  const params = anomalyModelParamsSchema.parse(options.params ?? {});
  const fit = fitNormal(table, params, params.thresholdFactor);
  const ageing = learnAgeingProfile(table, params, options.segments);
  return {
    format: 'aiot.anomaly-model',
    formatVersion: 1,
    modelVersion: options.modelVersion,
    params,
    sensors: [...table.sensors],
    tracked: fit.tracked,
    untracked: fit.untracked,
    precision: fit.precision,
    threshold: fit.threshold,
    training: { rows: table.rows.length, scoreQuantiles: fit.scoreQuantiles },
    ...(ageing ? { ageing } : {}),
    profile: profileOf(table.sensors, table.rows),
    ...(options.selection ? { selection: options.selection } : {}),
  };
}

function standardize(
  tracked: readonly z.output<typeof trackedSchema>[],
  indices: readonly number[],
  row: readonly number[],
  widen?: (row: number, sensor: number) => number,
  rowIndex = 0,
): number[] {
  const standardized = new Array<number>(tracked.length);
  for (let j = 0; j < tracked.length; j++) {
    const t = tracked[j] as z.output<typeof trackedSchema>;
    standardized[j] =
      ((row[indices[j] ?? -1] ?? Number.NaN) - t.mean) / (t.scale * (widen ? widen(rowIndex, j) : 1));
  }
  return standardized;
}

/** Column of each tracked sensor in the table; a missing sensor is an error naming it. */
function trackedColumns(fit: Pick<NormalFit, 'tracked'>, table: SensorTable, owner: string): number[] {
  return fit.tracked.map((t) => {
    const index = table.sensors.indexOf(t.sensor);
    if (index < 0)
      throw new Error(
        `readings lack sensor "${t.sensor}" (${owner} needs ${fit.tracked.map((x) => x.sensor).join(', ')})`,
      );
    return index;
  });
}

/**
 * Scores consecutive readings of one device against a normal fit. `widen(i, j)` scales sensor j's
 * spread for reading i (a device baseline's ageing); without it the fit is used as it is. Results
 * are for the readings from `from` on (the ones before serve as history), in order.
 */
export function scoreAgainst(
  fit: Pick<NormalFit, 'tracked' | 'precision' | 'threshold'> & { readonly untracked?: readonly SlowLevel[] },
  smoothingWindow: number,
  table: SensorTable,
  owner: string,
  widen?: (row: number, sensor: number) => number,
  grossDeviation = 0,
  grossWiden?: (row: number) => number,
  from = 0,
): ScoredReading[] {
  const indices = trackedColumns(fit, table, owner);
  validateTable(table, 'readings');
  const gross = grossColumns(fit.untracked ?? [], table, grossDeviation);
  const names = [...fit.tracked.map((t) => t.sensor), ...gross.map((g) => g.sensor)];
  // Reading i's score is the mean of the terms of readings i - window + 1 .. i: the results from
  // `from` on need no reading before `first`, which a window's long history would otherwise cost.
  const first = Math.max(0, Math.min(from, table.rows.length) - smoothingWindow + 1);
  const contributions = table.rows
    .slice(first)
    .map((row, k) => [
      ...contributionsOf(standardize(fit.tracked, indices, row, widen, first + k), fit.precision),
      ...grossTerms(gross, row, grossDeviation, grossWiden ? grossWiden(first + k) : 1),
    ]);
  const skipped = Math.max(0, from - first);
  return causalMovingMean(contributions, smoothingWindow)
    .slice(skipped)
    .map((smoothed, k) => {
      const i = first + skipped + k;
      const score = smoothed.reduce((a, b) => a + b, 0);
      const positive = smoothed.map((value) => Math.max(0, value));
      const total = positive.reduce((a, b) => a + b, 0);
      const contributors =
        total > 0
          ? positive
              .map((value, j) => ({ sensor: names[j] ?? '', share: value / total }))
              .sort((a, b) => b.share - a.share)
              .slice(0, TOP_CONTRIBUTORS)
          : [];
      return {
        score,
        threshold: fit.threshold,
        anomalous: score > fit.threshold,
        warm: i + 1 >= smoothingWindow,
        contributors,
      };
    });
}

/**
 * Scores a window of consecutive readings of one device, oldest first, against the model's own
 * (fleet-wide) normal. The result for reading i depends only on readings 0..i of the window, so a
 * window's prefix scores the same, and the model keeps no state between calls. Give it
 * `historyReadings(model.params)` readings of history before the readings you need scores for.
 */
export function scoreReadings(model: AnomalyModel, table: SensorTable, from = 0): ScoredReading[] {
  return scoreAgainst(
    model,
    model.params.smoothingWindow,
    table,
    `model ${model.modelVersion}`,
    undefined,
    model.params.grossDeviation,
    undefined,
    from,
  );
}
