import { z } from 'zod';
import { growthAt } from './ageing.ts';
import { slowWandering } from './gross-deviation.ts';
import {
  fitNormal,
  scoreAgainst,
  type AnomalyModel,
  type ScoredReading,
  type SensorTable,
} from './anomaly-model.ts';

/**
 * One device's normal: the use case's model supplies the method and its settings, the device's
 * own calibration readings supply the levels, spreads, correlations and threshold. Pumps of one
 * model still differ (mounting, piping, duty point), so one fleet-wide normal pages operators all
 * day; a baseline per device does not.
 */
export const deviceBaselineSchema = z.strictObject({
  format: z.literal('aiot.device-baseline'),
  formatVersion: z.literal(1),
  /** The model the baseline was calibrated with; a baseline serves that model only. */
  modelVersion: z.string().min(1),
  /** Calibration readings it was computed from. */
  rows: z.int().min(1),
  tracked: z
    .array(z.strictObject({ sensor: z.string(), mean: z.number(), scale: z.number().positive() }))
    .min(1),
  untracked: z.array(
    z.strictObject({
      sensor: z.string(),
      reason: z.string(),
      mean: z.number().optional(),
      scale: z.number().positive().optional(),
    }),
  ),
  precision: z.array(z.array(z.number())),
  threshold: z.number().positive(),
  scoreQuantiles: z.strictObject({ p50: z.number(), p90: z.number(), p99: z.number(), max: z.number() }),
  /** The fleet's normal stands in for the device's own (a model with `deviceBaselines` off): it does not age. */
  fleet: z.literal(true).optional(),
});

export type DeviceBaseline = z.output<typeof deviceBaselineSchema>;

/** Calibrates a device's baseline on its readings (taken in normal operation, oldest first). */
export function calibrateBaseline(model: AnomalyModel, table: SensorTable): DeviceBaseline {
  const known = new Set(model.sensors);
  const unknown = table.sensors.filter((sensor) => !known.has(sensor));
  if (unknown.length > 0) {
    throw new Error(
      `calibration readings have sensors model ${model.modelVersion} does not know: ${unknown.join(', ')}`,
    );
  }
  if (!model.params.deviceBaselines) {
    return {
      format: 'aiot.device-baseline',
      formatVersion: 1,
      modelVersion: model.modelVersion,
      rows: table.rows.length,
      tracked: model.tracked,
      untracked: model.untracked,
      precision: model.precision,
      threshold: model.threshold,
      scoreQuantiles: model.training.scoreQuantiles,
      fleet: true,
    };
  }
  const fit = fitNormal(table, model.params, model.params.baselineThresholdFactor);
  return {
    format: 'aiot.device-baseline',
    formatVersion: 1,
    modelVersion: model.modelVersion,
    rows: table.rows.length,
    tracked: fit.tracked,
    untracked: fit.untracked,
    precision: fit.precision,
    threshold: fit.threshold,
    scoreQuantiles: fit.scoreQuantiles,
  };
}

/**
 * How much wider than at calibration each tracked sensor's normal spread is at each reading's
 * age, from the model's ageing profile. Without a profile (a model trained on too little data) a
 * baseline does not widen.
 */
function widening(model: AnomalyModel, baseline: DeviceBaseline, ageSeconds: readonly number[]) {
  const profile = model.ageing;
  if (!profile || baseline.fleet) return undefined;
  const perSensor = baseline.tracked.map((tracked) => {
    const entry = profile.sensors.find((s) => s.sensor === tracked.sensor);
    if (!entry) return undefined;
    // Relative wander becomes calibration standard deviations through the device's own level.
    const unit = entry.unit === 'relative' ? (tracked.mean / tracked.scale) ** 2 : 1;
    return { growth: entry.growth, unit };
  });
  return (row: number, sensor: number): number => {
    const entry = perSensor[sensor];
    if (!entry) return 1;
    return Math.sqrt(1 + entry.unit * growthAt(entry.growth, profile.stepSeconds, ageSeconds[row] ?? 0));
  };
}

/**
 * Scores consecutive readings of one device against its baseline. `ageSeconds[i]` is reading i's
 * time since the last calibration reading; readings of the calibration itself have age 0. Results
 * are for the readings from `from` on.
 */
export function scoreWithBaseline(
  model: AnomalyModel,
  baseline: DeviceBaseline,
  table: SensorTable,
  ageSeconds: readonly number[],
  from = 0,
): ScoredReading[] {
  if (baseline.modelVersion !== model.modelVersion) {
    throw new Error(
      `the baseline was calibrated with model ${baseline.modelVersion}, not ${model.modelVersion}: re-baseline the device`,
    );
  }
  if (ageSeconds.length !== table.rows.length) {
    throw new Error(`${ageSeconds.length} ages for ${table.rows.length} readings`);
  }
  return scoreAgainst(
    baseline,
    model.params.smoothingWindow,
    table,
    `the baseline of model ${model.modelVersion}`,
    widening(model, baseline, ageSeconds),
    model.params.grossDeviation,
    // A device's own slow levels wander from what its calibration saw; the fleet's normal does not age.
    baseline.fleet
      ? undefined
      : (row) => slowWandering(ageSeconds[row] ?? 0, baseline.rows * model.params.samplingSeconds),
    from,
  );
}
