import type {
  QuarantineEntry,
  QuarantineOutcome,
  QuarantineSink,
  TelemetryStore,
  WriteOutcome,
} from '../../core/ingest/ports.ts';
import { recordKey, sameRecordContent, type TelemetryRecord } from '../../core/ingest/records.ts';

/** An in-memory store with Timestream's identity rules, for testing core through its ports. */
export class MemoryStore implements TelemetryStore {
  readonly rows = new Map<string, TelemetryRecord>();
  writeCalls = 0;
  failNext: WriteOutcome | undefined;

  write(records: readonly TelemetryRecord[]): Promise<WriteOutcome[]> {
    this.writeCalls += 1;
    return Promise.resolve(
      records.map((record): WriteOutcome => {
        if (this.failNext) return this.failNext;
        const existing = this.rows.get(recordKey(record));
        if (!existing) {
          this.rows.set(recordKey(record), record);
          return { status: 'stored' };
        }
        return sameRecordContent(existing, record)
          ? { status: 'duplicate' }
          : { status: 'rejected', reason: 'different values for an existing record' };
      }),
    );
  }
}

export class MemoryQuarantine implements QuarantineSink {
  readonly entries = new Map<string, QuarantineEntry>();
  unavailable = false;

  put(entry: QuarantineEntry): Promise<QuarantineOutcome> {
    if (this.unavailable) return Promise.reject(new Error('bucket unreachable'));
    if (this.entries.has(entry.id)) return Promise.resolve('already-kept');
    this.entries.set(entry.id, entry);
    return Promise.resolve('kept');
  }
}
