import type { SensorTable } from './statistics.ts';

/**
 * A signal left out of the score as too slow to have a normal level still pages when it leaves
 * that level by far: a vibration that wanders over minutes is no evidence, one at a hundred
 * times its spread is. Each such signal keeps its fit's level and spread; beyond `limit` spreads,
 * the square of the excess joins the score (so smoothing and the threshold treat it as any other
 * term) and names the sensor among the contributors.
 */
export interface SlowLevel {
  readonly sensor: string;
  readonly reason: string;
  readonly mean?: number | undefined;
  readonly scale?: number | undefined;
}

export interface GrossColumn {
  readonly sensor: string;
  readonly index: number;
  readonly mean: number;
  readonly scale: number;
}

/** The slow signals with a level that the readings carry; none when the check is off (`limit` 0). */
export function grossColumns(slow: readonly SlowLevel[], table: SensorTable, limit: number): GrossColumn[] {
  if (!(limit > 0)) return [];
  return slow.flatMap((level) => {
    const index = table.sensors.indexOf(level.sensor);
    return index >= 0 && level.mean !== undefined && level.scale !== undefined && level.scale > 0
      ? [{ sensor: level.sensor, index, mean: level.mean, scale: level.scale }]
      : [];
  });
}

/**
 * Each column's term for one reading: the squared excess beyond `limit` spreads, else 0. `widen`
 * scales the spreads (a baseline's age: ./device-baseline.ts), 1 when omitted.
 */
export function grossTerms(
  columns: readonly GrossColumn[],
  row: readonly number[],
  limit: number,
  widen = 1,
): number[] {
  return columns.map((column) => {
    const z = Math.abs((row[column.index] ?? column.mean) - column.mean) / (column.scale * widen);
    return z > limit ? (z - limit) ** 2 : 0;
  });
}

/**
 * How much wider a slow signal's spread is `ageSeconds` after a calibration that spanned
 * `spanSeconds`: a signal too slow to have a normal level wanders, and a wander's reach grows with
 * the square root of time (a random walk's), so the spread measured over the calibration is
 * scaled by √(1 + age / span). Without it, a process temperature that wanders a fraction of a
 * degree a day pages after two days on a baseline calibrated in 15 minutes.
 */
export function slowWandering(ageSeconds: number, spanSeconds: number): number {
  return spanSeconds > 0 ? Math.sqrt(1 + Math.max(0, ageSeconds) / spanSeconds) : 1;
}
