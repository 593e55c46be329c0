import { setTimeout as sleep } from 'node:timers/promises';
import { DeviceScoring } from '../core/baseline/device-scoring.ts';
import { InMemoryBaselineStore, InMemoryTelemetry } from '../core/baseline/in-memory.ts';
import { DeviceWindows } from '../core/inference/device-windows.ts';
import type { DeviceState } from '../core/inference/inference-records.ts';
import { ResilientScorer } from '../core/inference/resilient-scorer.ts';
import type { TelemetryRecord } from '../core/ingest/records.ts';
import { historyReadings, type AnomalyModel, type SensorTable } from '../core/model/anomaly-model.ts';
import { InProcessInferenceClient } from './in-process-client.ts';

export interface DeviceRowResult {
  readonly score: number | null;
  readonly anomalous: boolean;
  readonly state: DeviceState | null;
}

const USE_CASE = 'file';
const DEVICE = 'device';
const BATCH = 100;

/**
 * Scores a file's rows as the readings of one device from its commissioning, through the same
 * per-device code as the runtime: the first `calibrationRows` rows calibrate its baseline (no
 * flag), the rest are scored against it. Rows are taken `intervalSeconds` apart, which sets the
 * baseline's age.
 */
export async function scoreAsDevice(
  model: AnomalyModel,
  table: SensorTable,
  options: { calibrationRows: number; intervalSeconds: number; onProgress?: (done: number) => void },
): Promise<DeviceRowResult[]> {
  const columns = [...table.sensors];
  const telemetry = new InMemoryTelemetry();
  let now = 0;
  const clock = { now: () => now };
  const scoring = new DeviceScoring(
    new DeviceWindows(columns, columns, historyReadings(model.params)),
    new ResilientScorer(new InProcessInferenceClient(model), clock, (ms, signal) =>
      sleep(ms, undefined, { signal }),
    ),
    new InMemoryBaselineStore(),
    telemetry,
    clock,
    { calibrationReadings: new Map([[USE_CASE, options.calibrationRows]]) },
  );
  const results: DeviceRowResult[] = [];
  for (let start = 0; start < table.rows.length; start += BATCH) {
    const batch: TelemetryRecord[] = table.rows.slice(start, start + BATCH).map((row, i) => ({
      dimensions: {
        use_case: USE_CASE,
        device_id: DEVICE,
        firmware: '',
        hardware_generation: '',
        contract: '',
      },
      time: (start + i) * options.intervalSeconds * 1000,
      seq: start + i,
      origin: 'device',
      measures: Object.fromEntries(columns.map((column, c) => [column, row[c] ?? Number.NaN])),
    }));
    now = batch[batch.length - 1]?.time ?? now;
    telemetry.add(batch);
    const [device] = await scoring.score(batch);
    for (const inference of device?.inferences ?? []) {
      if (inference.status === 'skipped')
        throw new Error(`row ${results.length}: ${inference.skipReason ?? ''}`);
      results.push({
        score: inference.score,
        anomalous: inference.anomalous === true,
        state: inference.deviceState,
      });
    }
    options.onProgress?.(results.length);
  }
  return results;
}
