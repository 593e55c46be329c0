import type { TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import type { Finding } from '../../core/drift/ports.ts';
import { TELEMETRY_MEASURE_NAME } from '../../core/ingest/records.ts';
import type { DeviceActivity, OperatorReads, Series, SeriesRequest } from '../../core/operators/ports.ts';
import { deviceActivities, seriesFromBuckets } from '../../core/operators/views.ts';
import { numberOrNull } from '../../core/stores/cell-values.ts';
import type { DynamoDbDeviceReports } from './dynamodb-device-reports.ts';
import { INFERENCE_MEASURE_NAME } from './timestream-inference-store.ts';
import { sqlQuote, TIMESTREAM_NAME, timestreamRows, type TimestreamRow } from './timestream-rows.ts';

/** A use case's Timestream tables. */
export interface UseCaseTables {
  readonly databaseName: string;
  readonly tableName: string;
  readonly inferencesTableName: string;
}

const IDENTIFIER = TIMESTREAM_NAME;
const quote = sqlQuote;
/** How far back "last seen" looks: a day of the memory store, not the whole magnetic history. */
const ACTIVITY_WINDOW = '24h';

/**
 * The console's reads in the cloud: readings and scores from the use case's Timestream tables,
 * averaged into plot buckets by Timestream itself; when each device was last heard from; and its
 * last edge health report, which an IoT rule keeps in the alert table. Values are quoted and names
 * are checked, so nothing a device sends can shape a query.
 */
export class TimestreamOperatorReads implements OperatorReads {
  constructor(
    private readonly timestream: TimestreamQueryClient,
    private readonly reports: DynamoDbDeviceReports,
    private readonly tables: ReadonlyMap<string, UseCaseTables>,
  ) {
    for (const target of tables.values()) {
      for (const name of [target.databaseName, target.tableName, target.inferencesTableName]) {
        if (!IDENTIFIER.test(name)) throw new Error(`"${name}" is not a Timestream name these reads accept`);
      }
    }
  }

  async activity(useCase?: string, deviceId?: string): Promise<DeviceActivity[]> {
    const useCases = useCase === undefined ? [...this.tables.keys()] : [useCase];
    const perUseCase = await Promise.all(useCases.map((id) => this.useCaseActivity(id, deviceId)));
    return perUseCase.flat();
  }

  private async useCaseActivity(useCase: string, deviceId: string | undefined): Promise<DeviceActivity[]> {
    const target = this.target(useCase);
    const device = deviceId === undefined ? '' : ` AND device_id = ${quote(deviceId)}`;
    const where = `use_case = ${quote(useCase)}${device} AND time > ago(${ACTIVITY_WINDOW})`;
    const [seen, models, health] = await Promise.all([
      this.rows(
        `SELECT device_id, to_milliseconds(max(time)) AS last_ms FROM "${target.databaseName}"."${target.tableName}" ` +
          `WHERE measure_name = ${quote(TELEMETRY_MEASURE_NAME)} AND ${where} GROUP BY device_id`,
      ),
      this.rows(
        `SELECT device_id, max_by(model_version, time) AS model_version FROM "${target.databaseName}"."${target.inferencesTableName}" ` +
          `WHERE measure_name = ${quote(INFERENCE_MEASURE_NAME)} AND ${where} AND model_version IS NOT NULL GROUP BY device_id`,
      ),
      this.reports.healthSnapshots(useCase, deviceId),
    ]);
    return deviceActivities(
      useCase,
      new Map(seen.map((row) => [row.device_id ?? '', numberOrNull(row.last_ms)])),
      new Map(models.map((row) => [row.device_id ?? '', row.model_version ?? null])),
      health,
    );
  }

  async series(request: SeriesRequest): Promise<Series> {
    const target = this.target(request.useCase);
    for (const { column } of request.sensors) {
      if (!IDENTIFIER.test(column)) throw new Error(`"${column}" is not a column these reads accept`);
    }
    const bin = `bin(time, ${Math.max(1, Math.floor(request.bucketMs))}ms)`;
    const range =
      `use_case = ${quote(request.useCase)} AND device_id = ${quote(request.deviceId)} ` +
      `AND time >= from_milliseconds(${Math.floor(request.from)}) AND time < from_milliseconds(${Math.ceil(request.to)})`;
    const averages = request.sensors.map(({ column }) => `, avg(${column}) AS ${column}`).join('');
    const [readings, scores] = await Promise.all([
      this.rows(
        `SELECT to_milliseconds(${bin}) AS t${averages} FROM "${target.databaseName}"."${target.tableName}" ` +
          `WHERE measure_name = ${quote(TELEMETRY_MEASURE_NAME)} AND ${range} GROUP BY ${bin} ORDER BY t`,
      ),
      this.rows(
        `SELECT to_milliseconds(${bin}) AS t, max(score) AS score, max(threshold) AS threshold ` +
          `FROM "${target.databaseName}"."${target.inferencesTableName}" ` +
          `WHERE measure_name = ${quote(INFERENCE_MEASURE_NAME)} AND ${range} GROUP BY ${bin} ORDER BY t`,
      ),
    ]);
    return seriesFromBuckets(request.sensors, readings, scores);
  }

  findings(useCase: string, deviceId: string, since: number): Promise<Finding[]> {
    return this.reports.findings(useCase, deviceId, since);
  }

  private target(useCase: string): UseCaseTables {
    const target = this.tables.get(useCase);
    if (!target) throw new Error(`no Timestream tables for use case "${useCase}"`);
    return target;
  }

  private rows(sql: string): Promise<TimestreamRow[]> {
    return timestreamRows(this.timestream, sql);
  }
}
