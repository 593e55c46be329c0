import type { TelemetryReader } from '../baseline/ports.ts';
import type { HealthSample } from './checks.ts';

/** One stored inference, as the model checks need it. */
export interface InferenceSample {
  readonly time: number;
  readonly status: 'scored' | 'skipped';
  readonly anomalous: boolean | null;
  readonly latencyMs: number | null;
  /** Scores of a calibrating device raise nothing: only monitored ones count towards the anomaly rate. */
  readonly monitoring: boolean;
}

/** What the drift checks read: DuckDB on one machine, Timestream (and the alert table) in the cloud. */
export interface DriftReads extends TelemetryReader {
  /** Devices of the use case with readings between `from` and `to`. */
  devices(useCase: string, range: { from: number; to: number }): Promise<string[]>;
  inferences(
    useCase: string,
    deviceId: string,
    range: { from: number; to: number },
  ): Promise<InferenceSample[]>;
  healthReports(
    useCase: string,
    deviceId: string,
    range: { from: number; to: number },
  ): Promise<HealthSample[]>;
}

export const SENSOR_HEALTH_CHECKS = [
  'data-gaps',
  'flat-line',
  'out-of-range',
  'spikes',
  'noise-change',
  'clock-skew',
] as const;
export const MODEL_CHECKS = [
  'data-drift',
  'anomaly-rate',
  'false-positives',
  'inference-latency',
  'skipped-scores',
] as const;
export type DriftCheck = (typeof SENSOR_HEALTH_CHECKS)[number] | (typeof MODEL_CHECKS)[number];

/**
 * One thing a run found wrong: who (a device, or the use case's model), which check, the figure
 * against its threshold, and what to do next.
 */
export interface Finding {
  readonly useCase: string;
  readonly check: DriftCheck;
  /** The device, or null for a finding about the model or the whole fleet. */
  readonly deviceId: string | null;
  readonly sensor: string | null;
  readonly modelVersion: string | null;
  readonly figure: number;
  readonly threshold: number;
  /** Unit of figure and threshold: share, minutes, ratio, seconds, PSI, ms. */
  readonly unit: string;
  readonly summary: string;
  readonly action: string;
  /** The window the figure is about. */
  readonly from: number;
  readonly to: number;
  readonly at: number;
}

/** Readings received and missing for one device and hour: the answer to "did we lose anything?". */
export interface DataReceipt {
  readonly useCase: string;
  readonly deviceId: string;
  readonly hour: number;
  readonly received: number;
  readonly missing: number;
}

export interface DriftReport {
  readonly useCase: string;
  readonly from: number;
  readonly to: number;
  readonly at: number;
  readonly devices: number;
  readonly findings: readonly Finding[];
  readonly receipts: readonly DataReceipt[];
}

/** Where findings and receipts are kept: a DuckDB table locally, the alert table and the bus in the cloud. */
export interface DriftSink {
  record(report: DriftReport): Promise<void>;
}

/** The event source of drift findings on the application's bus, and their detail types. */
export const DRIFT_EVENT_SOURCE = 'aiot.drift';
export const DRIFT_EVENT_TYPES = ['Sensor Unhealthy', 'Drift Detected'] as const;

/** The event a finding is, for people and machines: a sensor's health, or the model's drift. */
export function driftEventType(finding: Pick<Finding, 'check'>): (typeof DRIFT_EVENT_TYPES)[number] {
  return (SENSOR_HEALTH_CHECKS as readonly string[]).includes(finding.check)
    ? 'Sensor Unhealthy'
    : 'Drift Detected';
}

/** Where the cloud keeps a use case's findings (sort key: the run's time), read by the console. */
export function driftFindingsPartition(useCase: string): string {
  return `DRIFT#${useCase}`;
}
