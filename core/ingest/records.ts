import type { DataContract, ReadingOrigin, TelemetryMessage } from '../contracts/contract.ts';

/** Name of the multi-measure record every telemetry reading is stored under. */
export const TELEMETRY_MEASURE_NAME = 'telemetry';

/** The dimensions of a telemetry record, in the order the stores key a series by them. */
export const TELEMETRY_DIMENSIONS = [
  'use_case',
  'device_id',
  'firmware',
  'hardware_generation',
  'contract',
] as const;
export type TelemetryDimension = (typeof TELEMETRY_DIMENSIONS)[number];

/**
 * One reading as both stores keep it: dimensions identify the series, `time` the point, and the
 * measures become the columns of one multi-measure record. Identity is dimensions + time, as in
 * Timestream: writing the same reading twice leaves one row.
 */
export interface TelemetryRecord {
  readonly dimensions: {
    readonly use_case: string;
    readonly device_id: string;
    readonly firmware: string;
    readonly hardware_generation: string;
    readonly contract: string;
  };
  /** Epoch milliseconds of the reading on the device. */
  readonly time: number;
  readonly seq: number;
  /** "simulated" for readings from a simulator, kept beside the measures. */
  readonly origin: ReadingOrigin;
  /** Measure values by store column name. */
  readonly measures: Readonly<Record<string, number>>;
}

export function toTelemetryRecord(
  useCase: string,
  contract: DataContract,
  message: TelemetryMessage,
): TelemetryRecord {
  const measures: Record<string, number> = {};
  for (const [name, spec] of Object.entries(contract.measures)) {
    const value = message.measures[name];
    if (value !== undefined) measures[spec.column] = value;
  }
  return {
    dimensions: {
      use_case: useCase,
      device_id: message.deviceId,
      firmware: message.firmware,
      hardware_generation: message.hardwareGeneration,
      contract: contract.ref,
    },
    time: Date.parse(message.timestamp),
    seq: message.seq,
    origin: message.origin ?? 'device',
    measures,
  };
}

/** A stored row's dimensions, each read by `text` from the column of its name. */
export function dimensionsFrom(text: (column: TelemetryDimension) => string): TelemetryRecord['dimensions'] {
  return {
    use_case: text('use_case'),
    device_id: text('device_id'),
    firmware: text('firmware'),
    hardware_generation: text('hardware_generation'),
    contract: text('contract'),
  };
}

/** A stored origin column as the record's origin: anything but "simulated" is a device's. */
export function originFrom(value: unknown): ReadingOrigin {
  return value === 'simulated' ? 'simulated' : 'device';
}

/** The identity of a record in the store: its series and its time. */
export function recordKey(record: TelemetryRecord): string {
  const d = record.dimensions;
  return JSON.stringify([
    d.use_case,
    d.device_id,
    d.firmware,
    d.hardware_generation,
    d.contract,
    record.time,
  ]);
}

/** True when two records with the same key carry the same values (a redelivery, not a conflict). */
export function sameRecordContent(a: TelemetryRecord, b: TelemetryRecord): boolean {
  if (a.seq !== b.seq || a.origin !== b.origin) return false;
  const keys = Object.keys(a.measures);
  return (
    keys.length === Object.keys(b.measures).length && keys.every((key) => a.measures[key] === b.measures[key])
  );
}
