import type { DataContract } from '../../core/contracts/contract.ts';
import type { TelemetryRecord } from '../../core/ingest/records.ts';
import {
  deviceSimulator,
  simulatedThingName,
  simulatedThingPrefix,
} from '../../core/simulation/device-simulator.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { MAX_LINES_PER_WRITE, telemetryLine } from '../../lambdas/adapters/influx-telemetry-store.ts';
import type { InfluxServer } from './influxdb.ts';
import { waitFor } from './wait.ts';

/** How long the data must keep its size to count as compacted: several of influxd's compaction checks. */
const SETTLED_MS = 5_000;

export interface StorageRun {
  readonly manifest: UseCaseManifest;
  readonly contract: DataContract;
  readonly devices: number;
  readonly hours: number;
  /** Readings per device per second. */
  readonly rate: number;
  /** Called after each device is written, for progress output. */
  readonly onDevice?: (written: number) => void;
}

export interface StorageMeasurement {
  readonly readings: number;
  /** The points on disk right after the writes: write-ahead log and level-1 TSM files. */
  readonly freshBytes: number;
  /** The points once the shard is fully compacted (TSM files): what retained data takes for good. */
  readonly compactedBytes: number;
  /** The rest of the data folder: the series index and its preallocated files, per database and series. */
  readonly indexBytes: number;
}

/**
 * Writes simulated readings of a use case, as the ingest function writes them (one point per
 * reading, dimensions as tags, measures as fields: `telemetryLine`), into a real influxd started
 * with `compactAfterSeconds`, and measures the disk they take before and after compaction.
 */
export async function measureInfluxStorage(
  server: InfluxServer,
  run: StorageRun,
): Promise<StorageMeasurement> {
  const database = await server.createDatabase(run.manifest.id.replace(/-/g, '_'));
  const start = Date.parse('2026-11-02T00:00:00Z');
  const perDevice = Math.round(run.hours * 3600 * run.rate);
  const columns = Object.fromEntries(
    Object.entries(run.contract.measures).map(([name, m]) => [name, m.column]),
  );
  for (let d = 0; d < run.devices; d++) {
    const deviceId = simulatedThingName(d, simulatedThingPrefix(run.manifest));
    const simulator = deviceSimulator(run.manifest, run.contract, 1000 + d);
    let lines: string[] = [];
    for (let i = 0; i < perDevice; i++) {
      const time = start + Math.round((i * 1000) / run.rate);
      const measures: Record<string, number> = {};
      for (const [name, value] of Object.entries(simulator.next(time, 1 / run.rate))) {
        const column = columns[name];
        if (column) measures[column] = value;
      }
      lines.push(telemetryLine(record(run, deviceId, time, i, measures)));
      if (lines.length === MAX_LINES_PER_WRITE) lines = await write(server, database, lines);
    }
    await write(server, database, lines);
    run.onDevice?.(d + 1);
  }
  const freshBytes = server.tsmBytes(database) + server.walBytes(database);
  // Compacted when the log is empty (all snapshotted) and the data has kept its size a while.
  let last = { bytes: -1, since: Date.now() };
  const compactedBytes = await waitFor(
    'influxd to compact the shard',
    () => {
      const bytes = server.tsmBytes(database);
      if (bytes !== last.bytes || server.walBytes(database) > 0) last = { bytes, since: Date.now() };
      return Date.now() - last.since >= SETTLED_MS ? bytes : undefined;
    },
    300_000,
  );
  return {
    readings: perDevice * run.devices,
    freshBytes,
    compactedBytes,
    indexBytes: server.dataBytes(database) - compactedBytes,
  };
}

function record(
  run: StorageRun,
  deviceId: string,
  time: number,
  seq: number,
  measures: Record<string, number>,
): TelemetryRecord {
  return {
    dimensions: {
      use_case: run.manifest.id,
      device_id: deviceId,
      firmware: '2.4.1',
      hardware_generation: 'g2',
      contract: run.contract.ref,
    },
    time,
    seq,
    origin: 'device',
    measures,
  };
}

async function write(server: InfluxServer, database: string, lines: string[]): Promise<string[]> {
  if (lines.length === 0) return [];
  const answer = await fetch(`${server.url}/write?db=${database}&precision=ms`, {
    method: 'POST',
    body: lines.join('\n'),
  });
  if (answer.status !== 204) throw new Error(`write refused: ${answer.status} ${await answer.text()}`);
  return [];
}
