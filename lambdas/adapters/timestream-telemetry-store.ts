import {
  RejectedRecordsException,
  WriteRecordsCommand,
  type _Record,
  type TimestreamWriteClient,
} from '@aws-sdk/client-timestream-write';
import type { TelemetryStore, WriteOutcome } from '../../core/ingest/ports.ts';
import { TELEMETRY_MEASURE_NAME, type TelemetryRecord } from '../../core/ingest/records.ts';

/** Timestream's limit per WriteRecords call. */
export const MAX_RECORDS_PER_WRITE = 100;

export interface TimestreamTarget {
  readonly databaseName: string;
  readonly tableName: string;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let offset = 0; offset < items.length; offset += size) chunks.push(items.slice(offset, offset + size));
  return chunks;
}

/**
 * Writes telemetry as multi-measure records. Records of one series share their dimensions, so
 * they are grouped per series and the dimensions travel once per call in CommonAttributes.
 */
export class TimestreamTelemetryStore implements TelemetryStore {
  constructor(
    private readonly client: TimestreamWriteClient,
    private readonly target: TimestreamTarget,
  ) {}

  async write(records: readonly TelemetryRecord[]): Promise<WriteOutcome[]> {
    const outcomes: WriteOutcome[] = records.map(() => ({ status: 'retry', reason: 'not attempted' }));
    const series = new Map<string, number[]>();
    records.forEach((record, index) => {
      const key = JSON.stringify(record.dimensions);
      series.set(key, [...(series.get(key) ?? []), index]);
    });
    const calls = [...series.values()].flatMap((indices) => chunk(indices, MAX_RECORDS_PER_WRITE));
    await Promise.all(calls.map((indices) => this.writeCall(records, indices, outcomes)));
    return outcomes;
  }

  private async writeCall(records: readonly TelemetryRecord[], indices: number[], outcomes: WriteOutcome[]) {
    const first = records[indices[0] ?? 0];
    if (!first) return;
    try {
      await this.client.send(
        new WriteRecordsCommand({
          DatabaseName: this.target.databaseName,
          TableName: this.target.tableName,
          CommonAttributes: {
            Dimensions: Object.entries(first.dimensions).map(([Name, Value]) => ({ Name, Value })),
            MeasureName: TELEMETRY_MEASURE_NAME,
            MeasureValueType: 'MULTI',
            TimeUnit: 'MILLISECONDS',
          },
          Records: indices.map((index) => toTimestreamRecord(records[index] ?? first)),
        }),
      );
      for (const index of indices) outcomes[index] = { status: 'stored' };
    } catch (error) {
      if (error instanceof RejectedRecordsException) {
        // Timestream keeps the records it did not reject; only the rejected ones need a home.
        for (const index of indices) outcomes[index] = { status: 'stored' };
        for (const rejected of error.RejectedRecords ?? []) {
          const index = indices[rejected.RecordIndex ?? -1];
          if (index === undefined) continue;
          const existing =
            rejected.ExistingVersion === undefined ? '' : ` (existing version ${rejected.ExistingVersion})`;
          outcomes[index] = {
            status: 'rejected',
            reason: `Timestream rejected the record: ${rejected.Reason ?? 'no reason given'}${existing}`,
          };
        }
        return;
      }
      // Throttling, 5xx and configuration errors are not the message's fault: hand it back to the queue.
      const reason = `Timestream write failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
      for (const index of indices) outcomes[index] = { status: 'retry', reason };
    }
  }
}

function toTimestreamRecord(record: TelemetryRecord): _Record {
  return {
    Time: String(record.time),
    MeasureValues: [
      ...Object.entries(record.measures).map(([Name, value]) => ({
        Name,
        Value: String(value),
        Type: 'DOUBLE' as const,
      })),
      { Name: 'seq', Value: String(record.seq), Type: 'BIGINT' as const },
      // A measure, not a dimension: tagging a device's readings must not start a new series.
      { Name: 'origin', Value: record.origin, Type: 'VARCHAR' as const },
    ],
  };
}
