import type { DataContract } from '../contracts/contract.ts';
import type { Reason } from '../contracts/reasons.ts';
import type { Clock, QuarantineSink, TelemetryStore, TimeBounds } from './ports.ts';
import type { TelemetryRecord } from './records.ts';

/** One queued message as the transport delivers it: its transport id and the rule's JSON output. */
export interface InboundMessage {
  readonly id: string;
  readonly body: string;
}

export type MessageOutcome = 'stored' | 'duplicate' | 'quarantined' | 'retry';

/**
 * The outcome of one reading: a message holding one reading, or one reading of a pack. A message
 * that cannot be read as readings at all (not JSON, a pack past its limits) has one result.
 */
export interface MessageResult {
  /** The message's id for a single reading; `<message id>.<index>` (S3 keys avoid `#`) for a reading of a pack. */
  readonly id: string;
  /** The transport's id of the message this reading came in. */
  readonly messageId: string;
  readonly outcome: MessageOutcome;
  readonly useCase?: string;
  readonly thing?: string;
  /** Why it was quarantined, or why it must be retried. */
  readonly reasons: readonly Reason[];
}

export interface BatchSummary {
  /** One per reading, in the order of the messages and their readings. */
  readonly results: readonly MessageResult[];
  /** Readings newly stored, stored before, quarantined, waiting for a retry. */
  readonly stored: number;
  readonly duplicates: number;
  readonly quarantined: number;
  readonly retried: number;
  /**
   * Messages the transport must deliver again: those with a reading to retry. Their other readings
   * come back too, and find themselves stored (duplicates) or quarantined already.
   */
  readonly retryMessageIds: readonly string[];
  /** The records this batch newly stored, for scoring. */
  readonly storedRecords: readonly TelemetryRecord[];
}

export interface IngestDependencies {
  /**
   * The contract versions each use case accepts, by use-case id: its current one first, then
   * those a migration window still accepts. A message is checked against the version it names.
   */
  readonly useCases: ReadonlyMap<string, readonly DataContract[]>;
  readonly store: TelemetryStore;
  readonly quarantine: QuarantineSink;
  readonly clock: Clock;
  /** How far from its arrival a reading's time may be, by use-case id. @default DEFAULT_TIME_BOUNDS */
  readonly timeBounds?: ReadonlyMap<string, TimeBounds>;
}
