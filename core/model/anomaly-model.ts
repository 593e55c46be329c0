import { inverse, Matrix } from 'ml-matrix';
import { z } from 'zod';

/**
 * The hyperparameters. One set serves every use case and every data set; the defaults are the
 * values reported in docs/benchmarks.md.
 */
export const anomalyModelParamsSchema = z.strictObject({
  /** Readings averaged (causally) into each score: anomalies in plants last, noise does not. */
  smoothingWindow: z.int().min(1).max(3600).default(60),
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
});

export type AnomalyModelParams = z.output<typeof anomalyModelParamsSchema>;

const MIN_TRAINING_ROWS = 30;
const TOP_CONTRIBUTORS = 3;

export const anomalyModelSchema = z.strictObject({
  format: z.literal('aiot.anomaly-model'),
  formatVersion: z.literal(1),
  modelVersion: z.string().min(1),
  params: anomalyModelParamsSchema,
  /** Every sensor the model expects in a reading, in order. */
  sensors: z.array(z.string().min(1)).min(1),
  /** Sensors in the score, with their training mean and scale. */
  tracked: z
    .array(z.strictObject({ sensor: z.string(), mean: z.number(), scale: z.number().positive() }))
    .min(1),
  /** Sensors left out of the score, and why. */
  untracked: z.array(z.strictObject({ sensor: z.string(), reason: z.string() })),
  /** Inverse of the shrunk covariance of the standardized tracked sensors. */
  precision: z.array(z.array(z.number())),
  threshold: z.number().positive(),
  training: z.strictObject({
    rows: z.int(),
    scoreQuantiles: z.strictObject({ p50: z.number(), p90: z.number(), p99: z.number(), max: z.number() }),
  }),
});

export type AnomalyModel = z.output<typeof anomalyModelSchema>;

/** A set of readings: one row per reading, one column per sensor, in `sensors` order. */
export interface SensorTable {
  readonly sensors: readonly string[];
  readonly rows: readonly (readonly number[])[];
}

export interface Contributor {
  readonly sensor: string;
  /** Share of the score this sensor explains, 0..1. */
  readonly share: number;
}

export interface ScoredReading {
  readonly score: number;
  readonly threshold: number;
  readonly anomalous: boolean;
  /** The sensors that contribute most, largest first; empty when the score is negligible. */
  readonly contributors: readonly Contributor[];
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function variance(values: readonly number[], mu = mean(values)): number {
  return values.reduce((sum, value) => sum + (value - mu) ** 2, 0) / values.length;
}

function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower] ?? 0;
  return low + ((sorted[upper] ?? low) - low) * (position - lower);
}

function column(table: SensorTable, index: number): number[] {
  return table.rows.map((row) => row[index] ?? Number.NaN);
}

function validateTable(table: SensorTable, what: string): void {
  table.rows.forEach((row, r) => {
    if (row.length !== table.sensors.length) {
      throw new Error(`${what}: row ${r} has ${row.length} values for ${table.sensors.length} sensors`);
    }
    row.forEach((value, c) => {
      if (!Number.isFinite(value)) {
        throw new Error(
          `${what}: row ${r}, sensor "${table.sensors[c] ?? c}" is not a finite number (${String(value)})`,
        );
      }
    });
  });
}

/** Per-reading Mahalanobis terms: contributions[j] = z_j (P z)_j, which sum to the distance. */
function contributionsOf(
  standardized: readonly number[],
  precision: readonly (readonly number[])[],
): number[] {
  return standardized.map((zj, j) => {
    const row = precision[j] ?? [];
    return zj * row.reduce((sum, pjk, k) => sum + pjk * (standardized[k] ?? 0), 0);
  });
}

/**
 * Causal moving mean over the last `window` entries of a sequence of vectors: entry i averages
 * entries max(0, i - window + 1) .. i, so it never looks ahead.
 */
function causalMovingMean(vectors: readonly (readonly number[])[], window: number): number[][] {
  const width = vectors[0]?.length ?? 0;
  const sums = new Array<number>(width).fill(0);
  return vectors.map((vector, i) => {
    vector.forEach((value, j) => (sums[j] = (sums[j] ?? 0) + value));
    const leaving = vectors[i - window];
    if (leaving) leaving.forEach((value, j) => (sums[j] = (sums[j] ?? 0) - value));
    const count = Math.min(i + 1, window);
    return sums.map((sum) => sum / count);
  });
}

function standardize(
  model: Pick<AnomalyModel, 'tracked'>,
  indices: readonly number[],
  row: readonly number[],
): number[] {
  return model.tracked.map((t, j) => ((row[indices[j] ?? -1] ?? Number.NaN) - t.mean) / t.scale);
}

/**
 * Learns normal behaviour from readings taken in normal operation: which sensors have a stable
 * level, their mean and scale, their joint covariance, and a threshold from the training scores
 * themselves (no labels).
 */
export function trainAnomalyModel(
  table: SensorTable,
  options: { modelVersion: string; params?: Partial<AnomalyModelParams> },
): AnomalyModel {
  const params = anomalyModelParamsSchema.parse(options.params ?? {});
  if (table.sensors.length === 0) throw new Error('training data has no sensor columns');
  if (table.rows.length < Math.max(MIN_TRAINING_ROWS, params.smoothingWindow + 10)) {
    throw new Error(
      `training needs at least ${Math.max(MIN_TRAINING_ROWS, params.smoothingWindow + 10)} readings, got ${table.rows.length}`,
    );
  }
  validateTable(table, 'training data');

  const tracked: AnomalyModel['tracked'] = [];
  const untracked: AnomalyModel['untracked'] = [];
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
      });
      return;
    }
    tracked.push({ sensor, mean: mu, scale: Math.sqrt(v) });
  });
  if (tracked.length === 0) {
    throw new Error(`no sensor can be scored: ${untracked.map((u) => `${u.sensor} ${u.reason}`).join('; ')}`);
  }

  const indices = tracked.map((t) => table.sensors.indexOf(t.sensor));
  const standardized = table.rows.map((row) => standardize({ tracked }, indices, row));
  const covariance = new Matrix(standardized)
    .transpose()
    .mmul(new Matrix(standardized))
    .div(standardized.length);
  const dimension = tracked.length;
  const shrunk = covariance
    .mul(1 - params.covarianceShrinkage)
    .add(Matrix.eye(dimension).mul(params.covarianceShrinkage));
  const precision = inverse(shrunk).to2DArray();

  const raw = standardized.map((zRow) => [contributionsOf(zRow, precision).reduce((a, b) => a + b, 0)]);
  // Skip the warm-up, where the moving mean still averages fewer readings.
  const smoothed = causalMovingMean(raw, params.smoothingWindow)
    .slice(params.smoothingWindow - 1)
    .map((v) => v[0] ?? 0)
    .sort((a, b) => a - b);
  const anchor = quantile(smoothed, params.thresholdQuantile);
  return {
    format: 'aiot.anomaly-model',
    formatVersion: 1,
    modelVersion: options.modelVersion,
    params,
    sensors: [...table.sensors],
    tracked,
    untracked,
    precision,
    threshold: Math.max(anchor * params.thresholdFactor, Number.EPSILON),
    training: {
      rows: table.rows.length,
      scoreQuantiles: {
        p50: quantile(smoothed, 0.5),
        p90: quantile(smoothed, 0.9),
        p99: quantile(smoothed, 0.99),
        max: smoothed[smoothed.length - 1] ?? 0,
      },
    },
  };
}

/**
 * Scores a window of consecutive readings of one device, oldest first. The result for reading i
 * depends only on readings 0..i of the window, so a window's prefix scores the same, and the
 * model keeps no state between calls. Give it at least `smoothingWindow` readings of history
 * before the readings you need scores for.
 */
export function scoreReadings(model: AnomalyModel, table: SensorTable): ScoredReading[] {
  const indices = model.tracked.map((t) => {
    const index = table.sensors.indexOf(t.sensor);
    if (index < 0)
      throw new Error(
        `readings lack sensor "${t.sensor}" (model ${model.modelVersion} needs ${model.tracked.map((x) => x.sensor).join(', ')})`,
      );
    return index;
  });
  validateTable(table, 'readings');
  const contributions = table.rows.map((row) =>
    contributionsOf(standardize(model, indices, row), model.precision),
  );
  return causalMovingMean(contributions, model.params.smoothingWindow).map((smoothed) => {
    const score = smoothed.reduce((a, b) => a + b, 0);
    const positive = smoothed.map((value) => Math.max(0, value));
    const total = positive.reduce((a, b) => a + b, 0);
    const contributors =
      total > 0
        ? positive
            .map((value, j) => ({ sensor: model.tracked[j]?.sensor ?? '', share: value / total }))
            .sort((a, b) => b.share - a.share)
            .slice(0, TOP_CONTRIBUTORS)
        : [];
    return { score, threshold: model.threshold, anomalous: score > model.threshold, contributors };
  });
}
