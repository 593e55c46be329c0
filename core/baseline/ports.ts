import type { TelemetryRecord } from '../ingest/records.ts';
import type { DeviceBaseline } from '../model/device-baseline.ts';
import type { Actor } from '../operators/actor.ts';

/**
 * Why a device (re)calibrates: its first readings, the end of a maintenance window, an engineer's
 * request, an operator's "new normal" verdict, or a new model (recalibrated from the stored
 * readings of the previous calibration, so without a new calibration window).
 */
export type CalibrationReason =
  'commissioning' | 'maintenance' | 'new-normal' | 'requested' | 'model-changed';

export interface ActiveBaseline {
  /** 1 for a device's first baseline, one more for each later one. */
  readonly version: number;
  readonly baseline: DeviceBaseline;
  /** Times of the first and last calibration readings, epoch ms; ages count from `calibratedUntil`. */
  readonly calibratedFrom: number;
  readonly calibratedUntil: number;
  readonly reason: CalibrationReason;
  readonly note: string;
  readonly requestedBy: Actor;
  readonly activatedAt: number;
}

export interface PendingCalibration {
  /**
   * Readings from this time on calibrate the next baseline. Null until the first batch after the
   * request: "from now on" means the readings that arrive next, whatever time the device put on
   * them (a backlog from an edge buffer carries older times).
   */
  readonly since: number | null;
  readonly reason: CalibrationReason;
  readonly note: string;
  readonly requestedBy: Actor;
  readonly requestedAt: number;
  /** Readings seen since `since`, a progress count: the store is read when it reaches the target. */
  readonly collected: number;
}

/** One device's baseline state: the baseline in use, and a calibration in progress. */
export interface BaselineState {
  readonly useCase: string;
  readonly deviceId: string;
  /** Bumped by every save, so concurrent writers (several Lambda instances) cannot lose an update. */
  readonly revision: number;
  readonly active?: ActiveBaseline;
  /** While present the device raises no alerts. */
  readonly calibration?: PendingCalibration;
}

/** Device baselines: a DynamoDB table in the cloud, a DuckDB table on one machine. */
export interface BaselineStore {
  get(useCase: string, deviceId: string): Promise<BaselineState | undefined>;
  /**
   * Saves `state` (whose revision is one above the stored one, or 1 for a new device) only if the
   * stored revision is still `state.revision - 1`. Answers false when another writer got there
   * first: read again and redo.
   */
  save(state: BaselineState): Promise<boolean>;
  /** Every device's state, for listings. */
  list(useCase?: string): Promise<BaselineState[]>;
}

/** Reads stored readings back: the calibration readings of a device. */
export interface TelemetryReader {
  /** Up to `limit` readings of the device with time >= from (and <= to when given), oldest first. */
  readings(
    useCase: string,
    deviceId: string,
    range: { from: number; to?: number },
    limit: number,
  ): Promise<TelemetryRecord[]>;
}
