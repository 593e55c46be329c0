import { DuckDBTimestampValue, type DuckDBAppender } from '@duckdb/node-api';
import {
  dimensionsFrom,
  originFrom,
  TELEMETRY_DIMENSIONS,
  TELEMETRY_MEASURE_NAME,
  type TelemetryRecord,
} from '../../core/ingest/records.ts';
import { text } from './sql.ts';

/** One reading into the staging table, in the order `DuckDbStore.writeColumns` names. */
export function appendTelemetry(
  appender: DuckDBAppender,
  record: TelemetryRecord,
  measureColumns: readonly string[],
): void {
  for (const dimension of TELEMETRY_DIMENSIONS) appender.appendVarchar(record.dimensions[dimension]);
  appender.appendVarchar(TELEMETRY_MEASURE_NAME);
  appender.appendTimestamp(new DuckDBTimestampValue(BigInt(record.time) * 1000n));
  appender.appendBigInt(BigInt(record.seq));
  appender.appendVarchar(record.origin);
  for (const column of measureColumns) {
    const value = record.measures[column];
    if (value === undefined) appender.appendNull();
    else appender.appendDouble(value);
  }
  appender.endRow();
}

/**
 * Stored readings as records, from a result read by column (dimensions, `time_ms`, `seq`,
 * `origin`, the measures): a calibration reads 1,800 at a time, and row objects cost it more
 * than the query did.
 */
export function recordsFromColumns(
  columns: Readonly<Record<string, readonly unknown[]>>,
  measureColumns: readonly string[],
): TelemetryRecord[] {
  const column = (name: string): readonly unknown[] => columns[name] ?? [];
  const seqs = column('seq');
  const origins = column('origin');
  const measures = measureColumns.map((name) => [name, column(name)] as const);
  return column('time_ms').map((time, i) => {
    const values: Record<string, number> = {};
    for (const [name, cells] of measures) {
      const value = cells[i];
      if (value !== null && value !== undefined) values[name] = Number(value);
    }
    return {
      dimensions: dimensionsFrom((name) => text(column(name)[i])),
      time: Number(time),
      seq: Number(seqs[i]),
      origin: originFrom(origins[i]),
      measures: values,
    };
  });
}
