import type { TelemetryRecord } from '../ingest/records.ts';
import type { ScoringOutcome } from './resilient-scorer.ts';

/**
 * Where a device stands with its own normal. `calibrating`: its readings are calibrating a
 * baseline; `warming-up`: the smoothing has too little history (after a restart, or a device seen
 * for the first time by this process); `monitoring`: scored against its baseline. Only
 * `monitoring` readings carry an anomaly flag: the others are never a false alarm.
 */
export type DeviceState = 'calibrating' | 'warming-up' | 'monitoring';

/** One row of the `inferences` table: a reading's score, or why it was not scored. */
export interface InferenceRecord {
  readonly useCase: string;
  readonly deviceId: string;
  /** Time of the reading, epoch ms. */
  readonly time: number;
  readonly status: 'scored' | 'skipped';
  readonly score: number | null;
  readonly threshold: number | null;
  readonly anomalous: boolean | null;
  readonly contributors: readonly { sensor: string; share: number }[];
  readonly modelVersion: string | null;
  /** Round trip of the scoring request, ms. */
  readonly latencyMs: number | null;
  readonly skipReason: string | null;
  /** Null when skipped. */
  readonly deviceState: DeviceState | null;
  /** The device baseline the score is against; null while calibrating the first one, or skipped. */
  readonly baselineVersion: number | null;
}

/** The port of the inferences table: Timestream in the cloud, DuckDB on one machine. */
export interface InferenceStore {
  writeInferences(records: readonly InferenceRecord[]): Promise<void>;
}

/** How a window was scored: during a calibration, or against a baseline. */
export interface ScoringContext {
  readonly calibrating: boolean;
  readonly baselineVersion: number | null;
}

/** Maps the outcome of one window onto its new readings. */
export function toInferenceRecords(
  useCase: string,
  deviceId: string,
  readings: readonly TelemetryRecord[],
  outcome: ScoringOutcome,
  context: ScoringContext = { calibrating: false, baselineVersion: null },
): InferenceRecord[] {
  // Plain literals, no spreads: this runs for every reading scored.
  return readings.map((reading, i): InferenceRecord => {
    const result = outcome.status === 'scored' ? outcome.result.results[i] : undefined;
    if (outcome.status === 'skipped' || !result) {
      return {
        useCase,
        deviceId,
        time: reading.time,
        status: 'skipped',
        score: null,
        threshold: null,
        anomalous: null,
        contributors: [],
        modelVersion: null,
        latencyMs: null,
        skipReason: outcome.status === 'skipped' ? outcome.reason : `no result for reading ${i}`,
        deviceState: null,
        baselineVersion: null,
      };
    }
    const deviceState: DeviceState = context.calibrating
      ? 'calibrating'
      : result.warm
        ? 'monitoring'
        : 'warming-up';
    return {
      useCase,
      deviceId,
      time: reading.time,
      status: 'scored',
      score: result.score,
      threshold: outcome.result.threshold,
      anomalous: deviceState === 'monitoring' && result.anomalous,
      contributors: result.contributors,
      modelVersion: outcome.result.modelVersion,
      latencyMs: outcome.latencyMs,
      skipReason: null,
      deviceState,
      baselineVersion: context.baselineVersion,
    };
  });
}
