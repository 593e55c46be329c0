import type { TelemetryStore, WriteOutcome } from '../../core/ingest/ports.ts';
import {
  dimensionsFrom,
  originFrom,
  recordKey,
  sameRecordContent,
  TELEMETRY_DIMENSIONS,
  TELEMETRY_MEASURE_NAME,
  type TelemetryRecord,
} from '../../core/ingest/records.ts';
import {
  checkInfluxName,
  InfluxRefused,
  influxQuote,
  influxTime,
  stringField,
  tagValue,
  type InfluxHttp,
  type InfluxRow,
} from './influx-http.ts';

/** Lines per write request: InfluxDB's recommended batch size. */
export const MAX_LINES_PER_WRITE = 5000;
/** Times per conflict-check statement, so no statement grows without bound. */
const TIMES_PER_STATEMENT = 100;

/** One reading as a line of line protocol: the dimensions are tags, the measures fields. */
export function telemetryLine(record: TelemetryRecord): string {
  const tags = TELEMETRY_DIMENSIONS.map((tag) => `${tag}=${tagValue(record.dimensions[tag])}`).join(',');
  const measures = Object.entries(record.measures).map(
    ([column, value]) => `${checkInfluxName(column, 'column')}=${value}`,
  );
  const fields = [...measures, `seq=${record.seq}i`, `origin=${stringField(record.origin)}`].join(',');
  return `${TELEMETRY_MEASURE_NAME},${tags} ${fields} ${Math.floor(record.time)}`;
}

/** Why line protocol cannot carry this record faithfully, or null. */
function unwritable(record: TelemetryRecord): string | null {
  for (const tag of TELEMETRY_DIMENSIONS) {
    // InfluxDB 1.x refuses a tag value ending in a backslash and keeps others literally: no round trip.
    if (record.dimensions[tag].includes('\\'))
      return `InfluxDB cannot store a backslash in ${tag} ("${record.dimensions[tag]}")`;
  }
  return null;
}

/** A stored point read back as a record, to compare with a rewrite. */
export function recordFromRow(row: InfluxRow, measureColumns?: ReadonlySet<string>): TelemetryRecord {
  const measures: Record<string, number> = {};
  for (const [column, value] of Object.entries(row)) {
    if (typeof value !== 'number' || column === 'time' || column === 'seq') continue;
    if (measureColumns && !measureColumns.has(column)) continue;
    measures[column] = value;
  }
  return {
    dimensions: dimensionsFrom((column) => {
      const value = row[column];
      return typeof value === 'string' ? value : '';
    }),
    time: Number(row.time),
    seq: Number(row.seq),
    origin: originFrom(row.origin),
    measures,
  };
}

/**
 * Writes telemetry to InfluxDB as line protocol. InfluxDB overwrites a point of the same series
 * and time, so the adapter reads the batch's keys first: an identical rewrite is a duplicate and a
 * different reading at a stored key is rejected, as Timestream and DuckDB do. (Two writers racing
 * on one key between read and write both succeed; one device's readings arrive through one queue.)
 * A 400 means a bad line: the batch is halved until the bad records are found, and the rest is
 * written (rewriting a point with the same values is harmless).
 */
export class InfluxTelemetryStore implements TelemetryStore {
  constructor(private readonly influx: InfluxHttp) {}

  async write(records: readonly TelemetryRecord[]): Promise<WriteOutcome[]> {
    const outcomes: WriteOutcome[] = records.map(() => ({ status: 'retry', reason: 'not attempted' }));
    const candidates: number[] = [];
    records.forEach((record, index) => {
      const problem = unwritable(record);
      if (problem) outcomes[index] = { status: 'rejected', reason: problem };
      else candidates.push(index);
    });
    let stored: Map<string, TelemetryRecord>;
    try {
      stored = await this.storedAt(candidates.map((index) => records[index] as TelemetryRecord));
    } catch (error) {
      const reason = `InfluxDB read before write failed: ${errorText(error)}`;
      for (const index of candidates) outcomes[index] = { status: 'retry', reason };
      return outcomes;
    }
    const toWrite: number[] = [];
    for (const index of candidates) {
      const record = records[index] as TelemetryRecord;
      const key = recordKey(record);
      const existing = stored.get(key);
      if (!existing) {
        stored.set(key, record);
        toWrite.push(index);
      } else if (sameRecordContent(existing, record)) {
        outcomes[index] = { status: 'duplicate' };
      } else {
        outcomes[index] = {
          status: 'rejected',
          reason: `a different reading of this series at ${new Date(record.time).toISOString()} is stored already (seq ${existing.seq}); InfluxDB would overwrite it`,
        };
      }
    }
    for (let offset = 0; offset < toWrite.length; offset += MAX_LINES_PER_WRITE) {
      await this.writeLines(records, toWrite.slice(offset, offset + MAX_LINES_PER_WRITE), outcomes);
    }
    return outcomes;
  }

  /** The stored points at the records' keys, by key. */
  private async storedAt(records: readonly TelemetryRecord[]): Promise<Map<string, TelemetryRecord>> {
    const timesByDevice = new Map<string, { useCase: string; deviceId: string; times: Set<number> }>();
    for (const record of records) {
      const { use_case: useCase, device_id: deviceId } = record.dimensions;
      const id = JSON.stringify([useCase, deviceId]);
      const entry = timesByDevice.get(id) ?? { useCase, deviceId, times: new Set<number>() };
      entry.times.add(Math.floor(record.time));
      timesByDevice.set(id, entry);
    }
    const statements: string[] = [];
    for (const { useCase, deviceId, times } of timesByDevice.values()) {
      const all = [...times];
      for (let offset = 0; offset < all.length; offset += TIMES_PER_STATEMENT) {
        const at = all
          .slice(offset, offset + TIMES_PER_STATEMENT)
          .map((time) => `time = ${influxTime(time)}`)
          .join(' OR ');
        statements.push(
          `SELECT * FROM ${TELEMETRY_MEASURE_NAME} WHERE use_case = ${influxQuote(useCase)} ` +
            `AND device_id = ${influxQuote(deviceId)} AND (${at})`,
        );
      }
    }
    const stored = new Map<string, TelemetryRecord>();
    if (statements.length === 0) return stored;
    for (const rows of await this.influx.query(statements)) {
      for (const row of rows) {
        const record = recordFromRow(row);
        stored.set(recordKey(record), record);
      }
    }
    return stored;
  }

  private async writeLines(
    records: readonly TelemetryRecord[],
    indices: readonly number[],
    outcomes: WriteOutcome[],
  ): Promise<void> {
    try {
      await this.influx.write(indices.map((index) => telemetryLine(records[index] as TelemetryRecord)));
      for (const index of indices) outcomes[index] = { status: 'stored' };
    } catch (error) {
      if (error instanceof InfluxRefused && error.status === 400) {
        const [only] = indices;
        if (indices.length === 1 && only !== undefined) {
          outcomes[only] = { status: 'rejected', reason: `InfluxDB rejected the record: ${error.message}` };
          return;
        }
        // Which line is bad is not said in a way to rely on: halve until each bad one stands alone.
        const middle = Math.ceil(indices.length / 2);
        await this.writeLines(records, indices.slice(0, middle), outcomes);
        await this.writeLines(records, indices.slice(middle), outcomes);
        return;
      }
      // Throttling, 5xx, and authorization or configuration errors are not the message's fault.
      const reason = `InfluxDB write failed: ${errorText(error)}`;
      for (const index of indices) outcomes[index] = { status: 'retry', reason };
    }
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
