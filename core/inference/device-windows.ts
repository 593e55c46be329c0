import type { TelemetryRecord } from '../ingest/records.ts';
import { MAX_HISTORY_READINGS, type ScoringWindow } from './ports.ts';

export interface DeviceWindow {
  readonly useCase: string;
  readonly deviceId: string;
  /** The new records, in time order, that the window's results belong to. */
  readonly records: readonly TelemetryRecord[];
  readonly window: ScoringWindow;
  /** Epoch ms of each row of the window, history included. */
  readonly times: readonly number[];
}

/**
 * Keeps the last `history` readings of each device, so a window sent to the stateless model
 * carries the history its smoothing needs. A device seen for the first time is scored on what
 * exists (a shorter history), which the model handles as a prefix. Where the served model can
 * change (the cloud), its answers say what it needs and `followModel` keeps that many.
 */
export class DeviceWindows {
  private readonly recent = new Map<string, TelemetryRecord[]>();
  private history: number;

  constructor(
    /** Store columns the model scores, in model order. */
    private readonly columns: readonly string[],
    /** The model's sensor names for those columns. */
    private readonly sensors: readonly string[],
    /** Readings of history kept per device until the model says otherwise. */
    history: number,
  ) {
    if (columns.length !== sensors.length) {
      throw new Error(`columns and sensors differ in length: ${columns.length} and ${sensors.length}`);
    }
    this.history = checkedHistory(history);
  }

  /** The readings of history each device's next window will carry at most. */
  get historyReadings(): number {
    return this.history;
  }

  /**
   * Keeps the history a model answer asked for. A longer one fills as readings arrive (the first
   * windows after the change score cold); a shorter one drops the rest at each device's next add.
   */
  followModel(history: number | undefined): void {
    if (history !== undefined) this.history = checkedHistory(history);
  }

  /** Adds newly stored records and returns one window per device that got new readings. */
  add(records: readonly TelemetryRecord[]): DeviceWindow[] {
    const byDevice = new Map<string, TelemetryRecord[]>();
    for (const record of records) {
      const key = `${record.dimensions.use_case}/${record.dimensions.device_id}`;
      byDevice.set(key, [...(byDevice.get(key) ?? []), record]);
    }
    return [...byDevice].map(([key, fresh]) => {
      const sorted = [...fresh].sort((a, b) => a.time - b.time);
      // Kept under an earlier model's (longer) history, the past is cut to what this one needs.
      const past = lastOf(this.recent.get(key) ?? [], this.history);
      const all = [...past, ...sorted];
      this.recent.set(key, lastOf(all, this.history));
      const first = sorted[0];
      return {
        useCase: first?.dimensions.use_case ?? '',
        deviceId: first?.dimensions.device_id ?? '',
        records: sorted,
        window: { sensors: this.sensors, rows: this.rowsOf(all), scoreFrom: past.length },
        times: all.map((record) => record.time),
      };
    });
  }

  /** The model's rows for stored records, in the given order. */
  rowsOf(records: readonly TelemetryRecord[]): number[][] {
    return records.map((record) => this.columns.map((column) => record.measures[column] ?? Number.NaN));
  }
}

function checkedHistory(history: number): number {
  if (!Number.isInteger(history) || history < 0 || history > MAX_HISTORY_READINGS) {
    throw new Error(`history must be a whole number from 0 to ${MAX_HISTORY_READINGS}, got ${history}`);
  }
  return history;
}

function lastOf<T>(list: readonly T[], count: number): T[] {
  return count === 0 ? [] : list.slice(-count);
}
