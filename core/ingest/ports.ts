import type { Reason } from '../contracts/reasons.ts';
import type { TelemetryRecord } from './records.ts';

/** Outcome of writing one record. `retry` means transient: the message must come back later. */
export type WriteOutcome =
  | { readonly status: 'stored' }
  | { readonly status: 'duplicate' }
  | { readonly status: 'rejected'; readonly reason: string }
  | { readonly status: 'retry'; readonly reason: string };

/** The time-series store: Timestream in the cloud, DuckDB on one machine. */
export interface TelemetryStore {
  /** Writes the records and answers one outcome per record, in the same order. Never throws for a bad record. */
  write(records: readonly TelemetryRecord[]): Promise<WriteOutcome[]>;
}

/** `health`: an edge health report that failed its schema (local runtime; in the cloud reports go to logs). */
export type QuarantineStage = 'validation' | 'store-rejected' | 'health';

/** A message kept aside with every reason it could not be stored, and its raw bytes. */
export interface QuarantineEntry {
  /**
   * The transport's id of the message (the SQS message id; the local queue's journal id): stable
   * across redeliveries, so a redelivered message finds its own entry instead of adding one, while
   * two messages with the same bytes keep an entry each.
   */
  readonly id: string;
  readonly stage: QuarantineStage;
  readonly useCase: string;
  /** The publishing thing, as the certificate proved it. */
  readonly deviceId: string;
  readonly topic: string;
  readonly clientId: string;
  readonly receivedAt: number;
  readonly quarantinedAt: number;
  readonly reasons: readonly Reason[];
  /** The payload exactly as published, base64-encoded. */
  readonly payloadBase64: string;
}

/**
 * `kept`: a new entry. `already-kept`: an earlier delivery of the same message (same id) was
 * quarantined already, and that entry stays as it is: a redelivery adds nothing.
 */
export type QuarantineOutcome = 'kept' | 'already-kept';

/** Where invalid messages go: S3 in the cloud, a DuckDB table on one machine. Throws when it cannot keep one. */
export interface QuarantineSink {
  put(entry: QuarantineEntry): Promise<QuarantineOutcome>;
}

/**
 * How far a reading's time may lie from its arrival: what the store accepts. Timestream takes
 * records up to 15 minutes ahead of its clock and, with magnetic store writes, back to the
 * table's magnetic retention.
 */
export interface TimeBounds {
  readonly maxAgeMs: number;
  readonly maxAheadMs: number;
}

export const DEFAULT_TIME_BOUNDS: TimeBounds = {
  maxAgeMs: 365 * 24 * 3600 * 1000,
  maxAheadMs: 15 * 60 * 1000,
};

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
