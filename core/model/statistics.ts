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

export function validateTable(table: SensorTable, what: string): void {
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
export function contributionsOf(
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
export function causalMovingMean(vectors: readonly (readonly number[])[], window: number): number[][] {
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
