import { recordKey, type TelemetryRecord } from '../ingest/records.ts';
import type { BaselineState, BaselineStore, TelemetryReader } from './ports.ts';

/**
 * Baselines held in memory, with the store's conditional-write rule: for scoring one device from a
 * file (`aiot model score`), replays, and tests.
 */
export class InMemoryBaselineStore implements BaselineStore {
  private readonly states = new Map<string, BaselineState>();

  get(useCase: string, deviceId: string): Promise<BaselineState | undefined> {
    return Promise.resolve(this.states.get(`${useCase}/${deviceId}`));
  }

  save(state: BaselineState): Promise<boolean> {
    const key = `${state.useCase}/${state.deviceId}`;
    if ((this.states.get(key)?.revision ?? 0) !== state.revision - 1) return Promise.resolve(false);
    this.states.set(key, state);
    return Promise.resolve(true);
  }

  list(useCase?: string): Promise<BaselineState[]> {
    return Promise.resolve([...this.states.values()].filter((s) => !useCase || s.useCase === useCase));
  }
}

/** Readings held in memory, read back in time order as a store would. */
export class InMemoryTelemetry implements TelemetryReader {
  private readonly byDevice = new Map<string, Map<string, TelemetryRecord>>();

  add(records: readonly TelemetryRecord[]): void {
    for (const record of records) {
      const key = `${record.dimensions.use_case}/${record.dimensions.device_id}`;
      const device = this.byDevice.get(key) ?? new Map<string, TelemetryRecord>();
      device.set(recordKey(record), record);
      this.byDevice.set(key, device);
    }
  }

  readings(
    useCase: string,
    deviceId: string,
    range: { from: number; to?: number },
    limit: number,
  ): Promise<TelemetryRecord[]> {
    const all = [...(this.byDevice.get(`${useCase}/${deviceId}`)?.values() ?? [])];
    return Promise.resolve(
      all
        .filter((r) => r.time >= range.from && (range.to === undefined || r.time <= range.to))
        .sort((a, b) => a.time - b.time)
        .slice(0, limit),
    );
  }
}
