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

export type QuarantineStage = 'validation' | 'store-rejected';

/** A message kept aside with every reason it could not be stored, and its raw bytes. */
export interface QuarantineEntry {
  /** Stable per message, so a redelivered message overwrites its own entry instead of adding one. */
  readonly id: string;
  readonly stage: QuarantineStage;
  readonly useCase: string;
  readonly thing: string;
  readonly topic: string;
  readonly clientId: string;
  readonly receivedAt: number;
  readonly quarantinedAt: number;
  readonly reasons: readonly Reason[];
  /** The payload exactly as published, base64-encoded. */
  readonly payloadBase64: string;
}

/** Where invalid messages go: S3 in the cloud, a DuckDB table on one machine. Throws when it cannot keep one. */
export interface QuarantineSink {
  put(entry: QuarantineEntry): Promise<void>;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
