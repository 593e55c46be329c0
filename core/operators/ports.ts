import type { Finding } from '../drift/ports.ts';

/** What the console reads beyond alerts and baselines: device activity, stored readings, drift findings. */

/** The last an edge agent said about itself: its buffer and link. */
export interface EdgeHealthSnapshot {
  readonly receivedAt: number;
  readonly connected: boolean | null;
  /** Readings buffered on the device, not yet acknowledged by the broker. */
  readonly queueDepth: number | null;
  /** Age of the oldest buffered reading, seconds. */
  readonly oldestAgeSeconds: number | null;
}

/** When a device was last heard from, and with which model. */
export interface DeviceActivity {
  readonly useCase: string;
  readonly deviceId: string;
  readonly lastReadingAt: number | null;
  readonly modelVersion: string | null;
  readonly health: EdgeHealthSnapshot | null;
}

/** A sensor as the store names it: the contract's measure and its column. */
export interface SensorColumn {
  readonly sensor: string;
  readonly column: string;
}

export interface SeriesRequest {
  readonly useCase: string;
  readonly deviceId: string;
  readonly from: number;
  readonly to: number;
  readonly sensors: readonly SensorColumn[];
  /** Readings within one bucket are averaged (the score takes the bucket's maximum). */
  readonly bucketMs: number;
}

/** Readings and scores on one time axis, oldest first; null where a bucket has no value. */
export interface Series {
  readonly times: number[];
  readonly values: Record<string, (number | null)[]>;
  readonly scores: (number | null)[];
  readonly thresholds: (number | null)[];
}

/** Reads for people: DuckDB on one machine, Timestream and DynamoDB in the cloud. */
export interface OperatorReads {
  /** Every device's activity, of one use case, or of one device of it. */
  activity(useCase?: string, deviceId?: string): Promise<DeviceActivity[]>;
  series(request: SeriesRequest): Promise<Series>;
  /** The drift checks' findings about a device since `since`, newest first. */
  findings(useCase: string, deviceId: string, since: number): Promise<Finding[]>;
}

/**
 * Where the cloud keeps each device's last health report: an IoT rule puts it into the alert
 * table under this partition key (sort key: the thing name), the console's reads query it.
 */
export function healthSnapshotPartition(useCase: string): string {
  return `HEALTH#${useCase}`;
}

/** One version of a use case's model as people see it: what it is, who made it, how it compares. */
export interface ModelVersionView {
  readonly version: string;
  /** `live` locally for the version that scores now; otherwise the registry's status. */
  readonly status: string;
  /** Who trained or registered it, in words (`aiot-pipeline (system)`, an IAM identity). */
  readonly trainedBy: string;
  readonly trainedAt: number | null;
  /** Why and from what: the training data locally, the version's description in the cloud. */
  readonly about: string;
  /** The comparison with the live model it came with (core/model/fine-tune-candidate.ts). */
  readonly metrics: Readonly<Record<string, string | number>>;
  /** That comparison in words (core/model/comparison-summary.ts); null without one. */
  readonly comparison: string | null;
}

/** A use case's model versions, newest first: the local registry, or SageMaker's Model Registry. */
export interface ModelVersions {
  list(useCase: string, limit: number): Promise<ModelVersionView[]>;
}
