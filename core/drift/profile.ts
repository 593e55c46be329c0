import { z } from 'zod';
import { quantile } from '../model/statistics.ts';

/** Bins of a training profile: deciles, so each holds a tenth of the training readings. */
const BINS = 10;
/** An empty bin counts as this share, so the index stays finite when a bin is never reached. */
const EMPTY_SHARE = 1e-4;

/**
 * What the model's training data looked like, per input: the cut points of its deciles and the
 * share of training readings in each bin (a tenth each, unless the sensor sat on one value). Stored
 * with the model artifact, so data drift is measured against what the model actually learnt.
 */
export const trainingProfileSchema = z.array(
  z.strictObject({
    sensor: z.string().min(1),
    /** The nine inner decile cut points, ascending. */
    edges: z.array(z.number()).length(BINS - 1),
    /** Share of the training readings in each of the ten bins (value <= edge, else the next). */
    shares: z.array(z.number().min(0).max(1)).length(BINS),
    /** The smallest and largest training value: what the model has seen at all. */
    min: z.number(),
    max: z.number(),
  }),
);

export type TrainingProfile = z.output<typeof trainingProfileSchema>;

/** The bin of `value`: the first whose upper cut point it does not exceed, else the last. */
function binOf(edges: readonly number[], value: number): number {
  let bin = 0;
  while (bin < edges.length && value > (edges[bin] ?? Number.POSITIVE_INFINITY)) bin += 1;
  return bin;
}

function sharesOf(edges: readonly number[], values: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const value of values) {
    const bin = binOf(edges, value);
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  return counts.map((count) => (values.length > 0 ? count / values.length : 0));
}

/** Each sensor's deciles and bin shares over its training values (columns of `rows` in `sensors` order). */
export function profileOf(sensors: readonly string[], rows: readonly (readonly number[])[]): TrainingProfile {
  return sensors.map((sensor, index) => {
    const values = rows.map((row) => row[index] ?? Number.NaN).filter(Number.isFinite);
    const sorted = [...values].sort((a, b) => a - b);
    const edges = Array.from({ length: BINS - 1 }, (_, k) =>
      sorted.length > 0 ? quantile(sorted, (k + 1) / BINS) : 0,
    );
    return { sensor, edges, shares: sharesOf(edges, values), min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0 };
  });
}

/**
 * Population stability index of `values` against a sensor's training profile: the sum over bins
 * of (actual − expected) · ln(actual / expected). Under 0.1 the distribution is stable, 0.1–0.25
 * it moved, above 0.25 it is another distribution.
 */
export function populationStabilityIndex(
  profile: Pick<TrainingProfile[number], 'edges' | 'shares'>,
  values: readonly number[],
): number {
  if (values.length === 0) return 0;
  const actual = sharesOf(profile.edges, values);
  return actual.reduce((sum, share, bin) => {
    const a = Math.max(share, EMPTY_SHARE);
    const e = Math.max(profile.shares[bin] ?? 0, EMPTY_SHARE);
    return sum + (a - e) * Math.log(a / e);
  }, 0);
}

/** Share of `values` outside the range the training data covered. */
export function outsideTrainingShare(
  profile: Pick<TrainingProfile[number], 'min' | 'max'>,
  values: readonly number[],
): number {
  if (values.length === 0) return 0;
  return values.filter((v) => v < profile.min || v > profile.max).length / values.length;
}

/**
 * What the drift checks need of a model, as the served model describes itself
 * (`{"describe": "model"}` to its endpoint): its version, the inputs it scores with their training
 * mean and scale, and its training profile (null for a model trained before profiles existed).
 */
export const modelDescriptionSchema = z.object({
  modelVersion: z.string().min(1),
  tracked: z.array(z.object({ sensor: z.string(), mean: z.number(), scale: z.number().positive() })),
  profile: trainingProfileSchema.nullable(),
});

export type ModelDescription = z.output<typeof modelDescriptionSchema>;
