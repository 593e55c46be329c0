/**
 * How much disk an InfluxDB instance needs to keep each use case's readings for its retention.
 *
 * A reading written as the ingest function writes it (one point: dimensions as tags, measures as
 * fields) took 44 B (hvac-energy) and 56 B (pump-maintenance) once compacted, measured on a real
 * influxd with `npm run bench:influx-storage` (10 simulated devices a day each); the sizing
 * assumes 64 B, and test/lambdas/influx-disk.test.ts fails if a measured run needs more.
 */
export const INFLUX_BYTES_PER_READING = 64;

/** Fill the planned disk to this share at most: the 80 % storage alarm then means "more than planned". */
export const PLANNED_FILL = 0.7;
/** Where the storage alarm fires (AWS suggests 75-80 % for InfluxDB). */
export const DISK_ALARM_PERCENT = 80;
/** The most storage an InfluxDB instance takes (an update accepts no more). */
export const MAX_INFLUX_GIB = 15_360;
/** The least it takes. */
export const MIN_INFLUX_GIB = 20;
/**
 * The shard being written is uncompacted until it goes cold, and a full compaction writes the new
 * files beside the old ones: room for two shard groups (7 days each for retention over 6 months).
 */
const WORKING_DAYS = 14;

const GIB = 1024 ** 3;

/** One use case's stream into the store. */
export interface StoredStream {
  readonly useCase: string;
  readonly devices: number;
  /** Readings per device per second. */
  readonly readingsPerSecond: number;
  readonly retentionDays: number;
}

export interface DiskPlan {
  /** GiB the retained readings take once the fleet has run for the whole retention. */
  readonly retainedGib: number;
  /** GiB to allocate: retained plus working room, at the planned fill, at least the minimum. */
  readonly allocatedGib: number;
  readonly perUseCase: readonly { readonly useCase: string; readonly retainedGib: number }[];
  /** Why no instance holds it, naming what to change; undefined when one does. */
  readonly problem: string | undefined;
}

/** The disk the streams need. */
export function planInfluxDisk(streams: readonly StoredStream[]): DiskPlan {
  const perDay = (s: StoredStream) => s.devices * s.readingsPerSecond * 86_400 * INFLUX_BYTES_PER_READING;
  const perUseCase = streams.map((s) => ({
    useCase: s.useCase,
    retainedGib: (perDay(s) * s.retentionDays) / GIB,
  }));
  const retainedGib = perUseCase.reduce((sum, u) => sum + u.retainedGib, 0);
  const workingGib = streams.reduce(
    (sum, s) => sum + (perDay(s) * Math.min(WORKING_DAYS, s.retentionDays)) / GIB,
    0,
  );
  const allocatedGib = Math.max(MIN_INFLUX_GIB, Math.ceil((retainedGib + workingGib) / PLANNED_FILL));
  const fleet = streams
    .map((s) => `${s.useCase}: ${s.devices} devices × ${s.readingsPerSecond}/s for ${s.retentionDays} days`)
    .join('; ');
  const problem =
    allocatedGib > MAX_INFLUX_GIB
      ? `the readings need ${allocatedGib.toLocaleString('en-US')} GiB of InfluxDB disk, above the ${MAX_INFLUX_GIB.toLocaleString('en-US')} GiB an instance takes (${fleet}): ` +
        'shorten magneticRetentionDays, send fewer readings (edge deadbands), or split the fleet across stacks'
      : undefined;
  return { retainedGib, allocatedGib, perUseCase, problem };
}
