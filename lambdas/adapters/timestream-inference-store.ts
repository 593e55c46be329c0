import {
  WriteRecordsCommand,
  type _Record,
  type TimestreamWriteClient,
} from '@aws-sdk/client-timestream-write';
import type { InferenceRecord, InferenceStore } from '../../core/inference/inference-records.ts';
import { MAX_RECORDS_PER_WRITE, type TimestreamTarget } from './timestream-telemetry-store.ts';

/** Name of the multi-measure record each inference is stored under. */
export const INFERENCE_MEASURE_NAME = 'inference';

function toRecord(r: InferenceRecord): _Record {
  const measures: { Name: string; Value: string; Type: 'DOUBLE' | 'BOOLEAN' | 'VARCHAR' }[] = [
    { Name: 'status', Value: r.status, Type: 'VARCHAR' },
  ];
  if (r.score !== null) measures.push({ Name: 'score', Value: String(r.score), Type: 'DOUBLE' });
  if (r.threshold !== null) measures.push({ Name: 'threshold', Value: String(r.threshold), Type: 'DOUBLE' });
  if (r.anomalous !== null) measures.push({ Name: 'anomalous', Value: String(r.anomalous), Type: 'BOOLEAN' });
  if (r.latencyMs !== null) measures.push({ Name: 'latency_ms', Value: String(r.latencyMs), Type: 'DOUBLE' });
  if (r.modelVersion !== null)
    measures.push({ Name: 'model_version', Value: r.modelVersion, Type: 'VARCHAR' });
  if (r.contributors.length > 0)
    measures.push({ Name: 'contributors', Value: JSON.stringify(r.contributors), Type: 'VARCHAR' });
  if (r.deviceState !== null) measures.push({ Name: 'device_state', Value: r.deviceState, Type: 'VARCHAR' });
  if (r.baselineVersion !== null)
    measures.push({ Name: 'baseline_version', Value: String(r.baselineVersion), Type: 'DOUBLE' });
  if (r.skipReason !== null)
    measures.push({ Name: 'skip_reason', Value: r.skipReason.slice(0, 2048), Type: 'VARCHAR' });
  return {
    Dimensions: [
      { Name: 'use_case', Value: r.useCase },
      { Name: 'device_id', Value: r.deviceId },
    ],
    MeasureName: INFERENCE_MEASURE_NAME,
    MeasureValueType: 'MULTI',
    MeasureValues: measures,
    Time: String(r.time),
    TimeUnit: 'MILLISECONDS',
  };
}

/**
 * Writes inferences to the use case's `inferences` table. A rescored reading (a redelivery) gets a
 * higher version so it replaces the earlier row instead of being rejected.
 */
export class TimestreamInferenceStore implements InferenceStore {
  constructor(
    private readonly client: TimestreamWriteClient,
    private readonly target: TimestreamTarget,
    private readonly version: () => number = () => Date.now(),
  ) {}

  async writeInferences(records: readonly InferenceRecord[]): Promise<void> {
    for (let offset = 0; offset < records.length; offset += MAX_RECORDS_PER_WRITE) {
      const version = this.version();
      await this.client.send(
        new WriteRecordsCommand({
          DatabaseName: this.target.databaseName,
          TableName: this.target.tableName,
          Records: records
            .slice(offset, offset + MAX_RECORDS_PER_WRITE)
            .map((r) => ({ ...toRecord(r), Version: version })),
        }),
      );
    }
  }
}
