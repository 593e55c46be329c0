import type { DataContract } from '../core/contracts/contract.ts';
import { EdgePreprocessor } from '../core/edge/preprocessor.ts';
import { resolveEdgeSettings } from '../core/edge/settings.ts';
import { toTelemetryRecord } from '../core/ingest/records.ts';
import type { TelemetryRecord } from '../core/ingest/records.ts';
import {
  deviceSimulator,
  simulatedThingName,
  simulatedThingPrefix,
  type DeviceSimulator,
} from '../core/simulation/device-simulator.ts';
import type { UseCaseManifest } from '../core/usecase/manifest.ts';
import type { DuckDbStore } from '../local/store/duckdb-store.ts';

/** Sensor samples per edge aggregation window: the mean of two is alike the mean of sixty. */
const SAMPLES_PER_WINDOW = 2;
const WRITE_BATCH = 20_000;

/** What a unit does at a moment: runs, stands idle by plan (sending, its idle measures), or is down (silent). */
export type Operation = 'running' | 'idle' | 'down';

export interface SimulatedSiteOptions {
  /** Simulated time between samples. @default half the edge aggregation window, or 1 s without one */
  readonly stepMs?: number;
  /** What each unit does when. @default running all the time */
  readonly operation?: (deviceId: string, time: number) => Operation;
  /** The measures of a unit standing idle (a stopped pump: no flow, no current). @default none */
  readonly idleMeasures?: Readonly<Record<string, number>>;
}

interface Unit {
  readonly deviceId: string;
  readonly simulator: DeviceSimulator;
  readonly edge: EdgePreprocessor;
  seq: number;
}

/**
 * A simulated site for M&V: every unit of a use case read through its edge settings, as the
 * fleet's agents send, into a store. Faults and operating practices start and stop between runs,
 * as repairs and applied recommendations would.
 */
export class SimulatedSite {
  readonly units: Unit[];
  private readonly stepMs: number;

  constructor(
    private readonly manifest: UseCaseManifest,
    private readonly contract: DataContract,
    count: number,
    seed: number,
    private readonly options: SimulatedSiteOptions = {},
  ) {
    const prefix = simulatedThingPrefix(manifest);
    this.units = Array.from({ length: count }, (_, index) => {
      const deviceId = simulatedThingName(index, prefix);
      return {
        deviceId,
        simulator: deviceSimulator(manifest, contract, seed * 1000 + index),
        edge: new EdgePreprocessor(
          contract,
          { thing: deviceId, firmware: 'simulated', hardwareGeneration: 'simulated' },
          resolveEdgeSettings(manifest.edge, deviceId),
        ),
        seq: 0,
      };
    });
    const aggregateMs = resolveEdgeSettings(manifest.edge, 'simulated').aggregateMs;
    this.stepMs = options.stepMs ?? (aggregateMs > 0 ? aggregateMs / SAMPLES_PER_WINDOW : 1000);
  }

  unit(deviceId: string): Unit {
    const found = this.units.find((unit) => unit.deviceId === deviceId);
    if (!found) throw new Error(`no simulated unit "${deviceId}"`);
    return found;
  }

  /** Runs every unit over [from, to) into the store; `progress` hears each unit done. */
  async run(store: DuckDbStore, from: number, to: number, progress: (done: number) => void): Promise<number> {
    let written = 0;
    for (const [index, unit] of this.units.entries()) {
      let batch: TelemetryRecord[] = [];
      for (let time = from; time < to; time += this.stepMs) {
        const operation = this.options.operation?.(unit.deviceId, time) ?? 'running';
        if (operation === 'down') continue;
        const simulated = unit.simulator.next(time, this.stepMs / 1000);
        const measures = operation === 'idle' ? { ...simulated, ...this.options.idleMeasures } : simulated;
        for (const ready of unit.edge.accept({ timestamp: time, measures }, time).ready) {
          batch.push(
            toTelemetryRecord(this.manifest.id, this.contract, {
              contract: this.contract.id,
              version: this.contract.version,
              deviceId: unit.deviceId,
              timestamp: new Date(ready.time).toISOString(),
              seq: unit.seq++,
              firmware: 'simulated',
              hardwareGeneration: 'simulated',
              origin: 'simulated',
              measures: ready.measures,
            }),
          );
          if (batch.length >= WRITE_BATCH) {
            await store.write(batch);
            written += batch.length;
            batch = [];
          }
        }
      }
      await store.write(batch);
      written += batch.length;
      progress(index + 1);
    }
    return written;
  }
}
