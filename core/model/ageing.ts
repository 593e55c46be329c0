import { z } from 'zod';
import { mean, quantile, type SensorTable } from './statistics.ts';

/**
 * A device baseline is calibrated on a few minutes of readings, but a machine's normal wanders
 * over hours (bearings warm up, flow settles, loads change). The ageing profile measures that
 * wander on the model's training data: it calibrates on many windows of the training data as a
 * device would, and records how far the smoothed readings move away from each calibration as it
 * ages. A baseline's spread is widened by that much at the same age, so an old baseline stays
 * quiet through normal wander while a young one stays sharp.
 */
export const ageingProfileSchema = z.strictObject({
  /** Age between two entries of `growth`. */
  stepSeconds: z.number().positive(),
  /** Quantile of the training windows' squared wander that `growth` records. */
  quantile: z.number().gt(0).lt(1),
  sensors: z.array(
    z.strictObject({
      sensor: z.string(),
      /**
       * `relative`: wander in shares of the sensor's level (vibration RMS, flow), which carries
       * over between machines whose levels differ; `scale`: in calibration standard deviations,
       * for sensors whose level sits near zero (gauge pressure).
       */
      unit: z.enum(['relative', 'scale']),
      /** Squared wander at ages 0, step, 2 x step, ... in `unit`s, beyond what a fresh baseline shows. */
      growth: z.array(z.number().min(0)).min(1),
    }),
  ),
});

export type AgeingProfile = z.output<typeof ageingProfileSchema>;

const STEP_SECONDS = 300;
const QUANTILE = 0.8;
/** Enough calibrations to estimate a quantile, few enough to keep training linear in the data. */
const MAX_CALIBRATIONS = 50;
const MIN_CALIBRATION_STRIDE = 100;
/** Every n-th reading after a calibration is measured: neighbours say nearly the same. */
const SAMPLE_STRIDE = 10;
/** A level this many standard deviations from zero has a meaningful relative wander. */
const RELATIVE_LEVEL = 10;

interface AgeingParams {
  readonly calibrationRows: number;
  readonly smoothingWindow: number;
  readonly samplingSeconds: number;
}

function prefixSums(table: SensorTable, index: number): Float64Array {
  const sums = new Float64Array(table.rows.length + 1);
  table.rows.forEach((row, i) => (sums[i + 1] = (sums[i] ?? 0) + (row[index] ?? 0)));
  return sums;
}

/**
 * Learns the ageing profile of every sensor of the training table, or returns undefined when no
 * recording is long enough to see a baseline age by one step. `segments` are the lengths of the
 * separate recordings the table joins (one per file, one per pump): a calibration and what follows
 * it stay within one recording. @default one recording
 */
export function learnAgeingProfile(
  table: SensorTable,
  params: AgeingParams,
  segments: readonly number[] = [table.rows.length],
): AgeingProfile | undefined {
  const { calibrationRows, smoothingWindow, samplingSeconds } = params;
  const stepRows = Math.max(1, Math.round(STEP_SECONDS / samplingSeconds));
  const recordings: { offset: number; length: number }[] = [];
  let offset = 0;
  for (const length of segments) {
    if (length - calibrationRows - smoothingWindow - stepRows >= 0) recordings.push({ offset, length });
    offset += length;
  }
  if (offset !== table.rows.length) {
    throw new Error(`segments cover ${offset} rows of ${table.rows.length}`);
  }
  if (recordings.length === 0) return undefined;
  const longest = Math.max(...recordings.map((r) => r.length));
  const buckets = Math.floor((longest - calibrationRows - smoothingWindow) / stepRows) + 1;
  const starts = recordings.flatMap(({ offset: first, length }) => {
    const lastStart = length - calibrationRows - smoothingWindow - stepRows;
    const stride = Math.max(MIN_CALIBRATION_STRIDE, Math.ceil(lastStart / MAX_CALIBRATIONS));
    const out: { start: number; end: number }[] = [];
    for (let start = 0; start <= lastStart; start += stride)
      out.push({ start: first + start, end: first + length });
    return out;
  });

  const sensors = table.sensors.map((sensor, index) => {
    const sums = prefixSums(table, index);
    const windowMean = (from: number, length: number) =>
      ((sums[from + length] ?? 0) - (sums[from] ?? 0)) / length;
    const calibrations = starts.map(({ start, end }) => {
      const values = table.rows.slice(start, start + calibrationRows).map((row) => row[index] ?? 0);
      const level = mean(values);
      const spread = Math.sqrt(mean(values.map((value) => (value - level) ** 2)));
      return { level, spread, start, end };
    });
    const relative = calibrations.every((c) => Math.abs(c.level) > RELATIVE_LEVEL * c.spread);
    const samples: number[][] = Array.from({ length: buckets }, () => []);
    for (const { level, spread, start, end } of calibrations) {
      const unit = relative ? Math.abs(level) : spread;
      if (!(unit > 0)) continue;
      for (let t = start + calibrationRows; t + smoothingWindow <= end; t += SAMPLE_STRIDE) {
        const bucket = Math.floor((t - start - calibrationRows) / stepRows);
        samples[bucket]?.push(((windowMean(t, smoothingWindow) - level) / unit) ** 2);
      }
    }
    const perBucket = samples
      .filter((values) => values.length > 0)
      .map((values) =>
        quantile(
          [...values].sort((a, b) => a - b),
          QUANTILE,
        ),
      );
    // What a fresh baseline already shows is in its own spread; only the growth beyond widens it.
    // Wander is taken never to shrink with age.
    const fresh = perBucket[0] ?? 0;
    let envelope = 0;
    const growth = perBucket.map((value) => (envelope = Math.max(envelope, value - fresh, 0)));
    return { sensor, unit: relative ? ('relative' as const) : ('scale' as const), growth };
  });
  return { stepSeconds: stepRows * samplingSeconds, quantile: QUANTILE, sensors };
}

/**
 * Squared wander of a sensor at an age, in its profile's unit: interpolated between the measured
 * steps, and beyond the last one growing linearly with age, as a random walk's variance does.
 */
export function growthAt(growth: readonly number[], stepSeconds: number, ageSeconds: number): number {
  const position = Math.max(0, ageSeconds) / stepSeconds;
  const last = growth.length - 1;
  if (position >= last) {
    const end = growth[last] ?? 0;
    return last === 0 ? end : Math.max(end, end * (position / (last + 0.5)));
  }
  const lower = Math.floor(position);
  const low = growth[lower] ?? 0;
  return low + ((growth[lower + 1] ?? low) - low) * (position - lower);
}
