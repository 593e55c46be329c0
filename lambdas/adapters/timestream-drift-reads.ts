import type { TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import type { HealthSample } from '../../core/drift/checks.ts';
import type { DriftReads, InferenceSample } from '../../core/drift/ports.ts';
import type { TelemetryRecord } from '../../core/ingest/records.ts';
import { TELEMETRY_MEASURE_NAME } from '../../core/ingest/records.ts';
import type { DynamoDbDeviceReports } from './dynamodb-device-reports.ts';
import { numberOrNull } from '../../core/stores/cell-values.ts';
import { INFERENCE_MEASURE_NAME } from './timestream-inference-store.ts';
import type { UseCaseTables } from './timestream-operator-reads.ts';
import { sqlQuote, TIMESTREAM_NAME, timestreamRows } from './timestream-rows.ts';
import type { TimestreamTelemetryReader } from './timestream-telemetry-reader.ts';

/**
 * The drift checks' reads in the cloud: devices, readings and inferences from the use case's
 * Timestream tables, and each device's last edge health report from the alert table (the cloud
 * keeps the last one only, so spikes count since the agent started and clock skew is not known).
 */
export class TimestreamDriftReads implements DriftReads {
  constructor(
    private readonly timestream: TimestreamQueryClient,
    private readonly telemetry: TimestreamTelemetryReader,
    private readonly reports: DynamoDbDeviceReports,
    private readonly tables: UseCaseTables,
  ) {
    for (const name of [tables.databaseName, tables.tableName, tables.inferencesTableName]) {
      if (!TIMESTREAM_NAME.test(name))
        throw new Error(`"${name}" is not a Timestream name these reads accept`);
    }
  }

  readings(
    useCase: string,
    deviceId: string,
    range: { from: number; to?: number },
    limit: number,
  ): Promise<TelemetryRecord[]> {
    return this.telemetry.readings(useCase, deviceId, range, limit);
  }

  async devices(useCase: string, range: { from: number; to: number }): Promise<string[]> {
    const rows = await timestreamRows(
      this.timestream,
      `SELECT DISTINCT device_id FROM "${this.tables.databaseName}"."${this.tables.tableName}" ` +
        `WHERE measure_name = ${sqlQuote(TELEMETRY_MEASURE_NAME)} AND use_case = ${sqlQuote(useCase)} ` +
        `AND time >= from_milliseconds(${Math.floor(range.from)}) AND time <= from_milliseconds(${Math.ceil(range.to)})`,
    );
    return rows.flatMap((row) => (row.device_id ? [row.device_id] : [])).sort();
  }

  async inferences(
    useCase: string,
    deviceId: string,
    range: { from: number; to: number },
  ): Promise<InferenceSample[]> {
    const rows = await timestreamRows(
      this.timestream,
      `SELECT to_milliseconds(time) AS t, status, anomalous, latency_ms, device_state ` +
        `FROM "${this.tables.databaseName}"."${this.tables.inferencesTableName}" ` +
        `WHERE measure_name = ${sqlQuote(INFERENCE_MEASURE_NAME)} AND use_case = ${sqlQuote(useCase)} ` +
        `AND device_id = ${sqlQuote(deviceId)} ` +
        `AND time >= from_milliseconds(${Math.floor(range.from)}) AND time <= from_milliseconds(${Math.ceil(range.to)})`,
    );
    return rows.map((row) => ({
      time: Number(row.t),
      status: row.status === 'scored' ? 'scored' : 'skipped',
      anomalous: row.anomalous === null ? null : row.anomalous === 'true',
      latencyMs: numberOrNull(row.latency_ms),
      monitoring: row.device_state === 'monitoring',
    }));
  }

  healthReports(
    useCase: string,
    deviceId: string,
    range: { from: number; to: number },
  ): Promise<HealthSample[]> {
    return this.reports.healthReports(useCase, deviceId, range);
  }
}
