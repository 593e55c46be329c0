import type { AlertPolicy } from '../core/alerts/policy.ts';
import type { InferenceRecord } from '../core/inference/inference-records.ts';
import type { AnomalyModel, ScoredReading } from '../core/model/anomaly-model.ts';
import { calibrateBaseline, scoreWithBaseline } from '../core/model/device-baseline.ts';
import type { SimulatedRun } from '../core/simulation/simulated-readings.ts';

/**
 * A simulated device's readings scored as the runtime scores them: its first
 * `calibrationReadings` calibrate (and raise nothing), then each reading is scored against the
 * device's baseline, or the fleet's normal when the model has device baselines off.
 */
export function runtimeRecords(
  model: AnomalyModel,
  policy: AlertPolicy,
  useCase: string,
  deviceId: string,
  run: SimulatedRun,
): InferenceRecord[] {
  const calibration = policy.calibrationReadings;
  const table = { sensors: model.sensors, rows: run.rows };
  const calibratedAt = run.times[calibration - 1] ?? 0;
  const baseline = calibrateBaseline(model, { sensors: model.sensors, rows: run.rows.slice(0, calibration) });
  const ages = run.times.map((time) => Math.max(0, (time - calibratedAt) / 1000));
  // With device baselines off, the baseline is the fleet's normal (calibrateBaseline): one path, as in the runtime.
  const scored: ScoredReading[] = scoreWithBaseline(model, baseline, table, ages);
  return scored.map((result, i) => {
    const calibrating = i < calibration;
    const monitoring = !calibrating && result.warm;
    return {
      useCase,
      deviceId,
      time: run.times[i] ?? 0,
      status: 'scored',
      score: result.score,
      threshold: result.threshold,
      anomalous: monitoring ? result.anomalous : null,
      contributors: result.contributors,
      modelVersion: model.modelVersion,
      latencyMs: 0,
      skipReason: null,
      deviceState: calibrating ? 'calibrating' : monitoring ? 'monitoring' : 'warming-up',
      baselineVersion: calibrating ? null : 1,
    };
  });
}
