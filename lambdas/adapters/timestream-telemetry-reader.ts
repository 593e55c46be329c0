import { QueryCommand, type Datum, type TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import type { TelemetryReader } from '../../core/baseline/ports.ts';
import type { DataContract } from '../../core/contracts/contract.ts';
import {
  dimensionsFrom,
  originFrom,
  TELEMETRY_DIMENSIONS,
  TELEMETRY_MEASURE_NAME,
  type TelemetryRecord,
} from '../../core/ingest/records.ts';
import type { TimestreamTarget } from './timestream-telemetry-store.ts';

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
const IDENTIFIER = /^[A-Za-z0-9_.-]+$/;

/**
 * Reads a device's stored readings back from Timestream, in time order: what a baseline
 * calibrates on. Values are quoted, names are checked, so no reading can shape the query.
 */
export class TimestreamTelemetryReader implements TelemetryReader {
  private readonly columns: string[];

  constructor(
    private readonly client: TimestreamQueryClient,
    private readonly target: TimestreamTarget,
    contract: DataContract,
  ) {
    this.columns = Object.values(contract.measures).map((m) => m.column);
    for (const name of [target.databaseName, target.tableName, ...this.columns]) {
      if (!IDENTIFIER.test(name)) throw new Error(`"${name}" is not a Timestream name this reader accepts`);
    }
  }

  async readings(
    useCase: string,
    deviceId: string,
    range: { from: number; to?: number },
    limit: number,
  ): Promise<TelemetryRecord[]> {
    const to = range.to === undefined ? '' : ` AND time <= from_milliseconds(${Math.floor(range.to)})`;
    const sql =
      `SELECT ${TELEMETRY_DIMENSIONS.join(', ')}, to_milliseconds(time) AS time_ms, seq, origin, ${this.columns.join(', ')} ` +
      `FROM "${this.target.databaseName}"."${this.target.tableName}" ` +
      `WHERE measure_name = ${quote(TELEMETRY_MEASURE_NAME)} AND use_case = ${quote(useCase)} AND device_id = ${quote(deviceId)} ` +
      `AND time >= from_milliseconds(${Math.floor(range.from)})${to} ORDER BY time ASC LIMIT ${Math.floor(limit)}`;
    const records: TelemetryRecord[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(new QueryCommand({ QueryString: sql, NextToken: nextToken }));
      const names = (page.ColumnInfo ?? []).map((c) => c.Name ?? '');
      for (const row of page.Rows ?? []) {
        const cell = (name: string): Datum | undefined => row.Data?.[names.indexOf(name)];
        const text = (name: string) => cell(name)?.ScalarValue ?? '';
        const measures: Record<string, number> = {};
        for (const column of this.columns) {
          const value = cell(column);
          if (value?.ScalarValue !== undefined && !value.NullValue)
            measures[column] = Number(value.ScalarValue);
        }
        records.push({
          dimensions: dimensionsFrom(text),
          time: Number(text('time_ms')),
          seq: Number(text('seq')),
          origin: originFrom(text('origin')),
          measures,
        });
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return records;
  }
}
