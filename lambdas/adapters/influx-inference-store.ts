import type { InferenceRecord, InferenceStore } from '../../core/inference/inference-records.ts';
import { stringField, tagValue, type InfluxHttp } from './influx-http.ts';
import { MAX_LINES_PER_WRITE } from './influx-telemetry-store.ts';

/** Measurement each inference is stored under, beside the telemetry of its use case. */
export const INFLUX_INFERENCE_MEASUREMENT = 'inference';

/** One inference as a line of line protocol; absent values are absent fields. */
export function inferenceLine(r: InferenceRecord): string {
  const fields = [`status=${stringField(r.status)}`];
  if (r.score !== null) fields.push(`score=${r.score}`);
  if (r.threshold !== null) fields.push(`threshold=${r.threshold}`);
  if (r.anomalous !== null) fields.push(`anomalous=${r.anomalous}`);
  if (r.latencyMs !== null) fields.push(`latency_ms=${r.latencyMs}`);
  if (r.modelVersion !== null) fields.push(`model_version=${stringField(r.modelVersion)}`);
  if (r.contributors.length > 0) fields.push(`contributors=${stringField(JSON.stringify(r.contributors))}`);
  if (r.deviceState !== null) fields.push(`device_state=${stringField(r.deviceState)}`);
  if (r.baselineVersion !== null) fields.push(`baseline_version=${r.baselineVersion}`);
  if (r.skipReason !== null) fields.push(`skip_reason=${stringField(r.skipReason.slice(0, 2048))}`);
  const tags = `use_case=${tagValue(r.useCase)},device_id=${tagValue(r.deviceId)}`;
  return `${INFLUX_INFERENCE_MEASUREMENT},${tags} ${fields.join(',')} ${Math.floor(r.time)}`;
}

/**
 * Writes inferences to the use case's bucket. A rescored reading (a redelivery) overwrites its
 * earlier point, as a higher version does in Timestream. Throws when InfluxDB refuses or is down.
 */
export class InfluxInferenceStore implements InferenceStore {
  constructor(private readonly influx: InfluxHttp) {}

  async writeInferences(records: readonly InferenceRecord[]): Promise<void> {
    for (let offset = 0; offset < records.length; offset += MAX_LINES_PER_WRITE) {
      await this.influx.write(records.slice(offset, offset + MAX_LINES_PER_WRITE).map(inferenceLine));
    }
  }
}
