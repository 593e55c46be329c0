import type { LabelledWindow } from '../alerts/replay.ts';
import type { AnomalyModel, SensorTable } from './anomaly-model.ts';
import { calibrateBaseline, scoreWithBaseline } from './device-baseline.ts';

/** Readings of one device, in time order, with their times (epoch ms). */
export interface DeviceRecording {
  readonly deviceId: string;
  readonly times: readonly number[];
  readonly table: SensorTable;
}

/** A labelled stretch of a device's readings, from operators' verdicts. */
export interface LabelledStretch extends LabelledWindow {
  readonly label: 'normal' | 'anomaly';
}

export interface FeedbackScore {
  /** Confirmed faults the model flags at least once while they last. */
  readonly anomaliesFlagged: number;
  readonly anomalies: number;
  /** Share of the readings in windows judged normal that the model still flags. */
  readonly normalFlaggedShare: number;
  readonly normalReadings: number;
}

/**
 * How a model does on what operators told us: each device is calibrated on the first
 * `calibrationRows` readings of its recording and scored through it, as the runtime would; then
 * the confirmed faults should be flagged and the windows judged normal should not.
 */
export function scoreOnFeedback(
  model: AnomalyModel,
  recordings: readonly DeviceRecording[],
  labels: readonly LabelledStretch[],
  calibrationRows = model.params.calibrationRows,
): FeedbackScore {
  let anomalies = 0;
  let anomaliesFlagged = 0;
  let normalReadings = 0;
  let normalFlagged = 0;
  for (const recording of recordings) {
    const own = labels.filter((l) => l.deviceId === recording.deviceId);
    if (own.length === 0 || recording.table.rows.length <= calibrationRows) continue;
    const baseline = calibrateBaseline(model, {
      sensors: recording.table.sensors,
      rows: recording.table.rows.slice(0, calibrationRows),
    });
    const calibratedUntil = recording.times[calibrationRows - 1] ?? 0;
    const scored = scoreWithBaseline(
      model,
      baseline,
      recording.table,
      recording.times.map((time) => Math.max(0, (time - calibratedUntil) / 1000)),
    );
    for (const label of own) {
      const inside = scored.filter((_, i) => {
        const time = recording.times[i] ?? 0;
        return i >= calibrationRows && time >= label.from && time <= label.to;
      });
      if (inside.length === 0) continue;
      if (label.label === 'anomaly') {
        anomalies += 1;
        if (inside.some((r) => r.anomalous && r.warm)) anomaliesFlagged += 1;
      } else {
        normalReadings += inside.length;
        normalFlagged += inside.filter((r) => r.anomalous && r.warm).length;
      }
    }
  }
  return {
    anomalies,
    anomaliesFlagged,
    normalReadings,
    normalFlaggedShare: normalReadings > 0 ? normalFlagged / normalReadings : 0,
  };
}

/**
 * The rows a candidate learns normal from: every reading of the recordings except those inside a
 * confirmed fault. Windows operators judged normal stay in, which is how "normal operation"
 * verdicts teach the next model.
 */
export function normalTrainingSet(
  recordings: readonly DeviceRecording[],
  labels: readonly LabelledStretch[],
): { table: SensorTable; segments: number[]; excluded: number } {
  const sensors = recordings[0]?.table.sensors ?? [];
  const rows: (readonly number[])[] = [];
  const segments: number[] = [];
  let excluded = 0;
  for (const recording of recordings) {
    const faults = labels.filter((l) => l.deviceId === recording.deviceId && l.label === 'anomaly');
    const kept = recording.table.rows.filter((_, i) => {
      const time = recording.times[i] ?? 0;
      const fault = faults.some((f) => time >= f.from && time <= f.to);
      if (fault) excluded += 1;
      return !fault;
    });
    if (kept.length === 0) continue;
    rows.push(...kept);
    segments.push(kept.length);
  }
  return { table: { sensors, rows }, segments, excluded };
}
