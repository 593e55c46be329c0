import type { TelemetryRecord } from '../ingest/records.ts';
import type { ScoringWindow } from './ports.ts';

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
 * exists (a shorter history), which the model handles as a prefix.
 */
export class DeviceWindows {
  private readonly recent = new Map<string, TelemetryRecord[]>();

  constructor(
    /** Store columns the model scores, in model order. */
    private readonly columns: readonly string[],
    /** The model's sensor names for those columns. */
    private readonly sensors: readonly string[],
    private readonly history: number,
  ) {
    if (columns.length !== sensors.length) {
      throw new Error(`columns and sensors differ in length: ${columns.length} and ${sensors.length}`);
    }
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
      const past = this.recent.get(key) ?? [];
      const all = [...past, ...sorted];
      this.recent.set(key, all.slice(-this.history));
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
