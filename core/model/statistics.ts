/** A set of readings: one row per reading, one column per sensor, in `sensors` order. */
export interface SensorTable {
  readonly sensors: readonly string[];
  readonly rows: readonly (readonly number[])[];
}

export function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

export function variance(values: readonly number[], mu = mean(values)): number {
  return values.reduce((sum, value) => sum + (value - mu) ** 2, 0) / values.length;
}

/** The middle value, or the mean of the two middle ones for an even count; null without values. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? null)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower] ?? 0;
  return low + ((sorted[upper] ?? low) - low) * (position - lower);
}

export function column(table: SensorTable, index: number): number[] {
  return table.rows.map((row) => row[index] ?? Number.NaN);
}

// The functions below run for every reading a model server scores: plain loops, no closures.

export function validateTable(table: SensorTable, what: string): void {
  const width = table.sensors.length;
  for (let r = 0; r < table.rows.length; r++) {
    const row = table.rows[r] ?? [];
    if (row.length !== width) {
      throw new Error(`${what}: row ${r} has ${row.length} values for ${width} sensors`);
    }
    for (let c = 0; c < width; c++) {
      const value = row[c];
      if (!Number.isFinite(value)) {
        throw new Error(
          `${what}: row ${r}, sensor "${table.sensors[c] ?? c}" is not a finite number (${String(value)})`,
        );
      }
    }
  }
}

/** Per-reading Mahalanobis terms: contributions[j] = z_j (P z)_j, which sum to the distance. */
export function contributionsOf(
  standardized: readonly number[],
  precision: readonly (readonly number[])[],
): number[] {
  const terms = new Array<number>(standardized.length);
  for (let j = 0; j < standardized.length; j++) {
    const row = precision[j] ?? [];
    let sum = 0;
    for (let k = 0; k < row.length; k++) sum += (row[k] ?? 0) * (standardized[k] ?? 0);
    terms[j] = (standardized[j] ?? 0) * sum;
  }
  return terms;
}

/**
 * Causal moving mean over the last `window` entries of a sequence of vectors: entry i averages
 * entries max(0, i - window + 1) .. i, so it never looks ahead.
 */
export function causalMovingMean(vectors: readonly (readonly number[])[], window: number): number[][] {
  const width = vectors[0]?.length ?? 0;
  const sums = new Array<number>(width).fill(0);
  const means = new Array<number[]>(vectors.length);
  for (let i = 0; i < vectors.length; i++) {
    const vector = vectors[i] ?? [];
    for (let j = 0; j < vector.length; j++) sums[j] = (sums[j] ?? 0) + (vector[j] ?? 0);
    const leaving = vectors[i - window];
    if (leaving) for (let j = 0; j < leaving.length; j++) sums[j] = (sums[j] ?? 0) - (leaving[j] ?? 0);
    const count = Math.min(i + 1, window);
    const mean = new Array<number>(width);
    for (let j = 0; j < width; j++) mean[j] = (sums[j] ?? 0) / count;
    means[i] = mean;
  }
  return means;
}
