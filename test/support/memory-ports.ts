import type {
  QuarantineEntry,
  QuarantineOutcome,
  QuarantineSink,
  TelemetryStore,
  WriteOutcome,
} from '../../core/ingest/ports.ts';
import type { Reason } from '../../core/contracts/reasons.ts';
import type { QuarantineLedger, ReplayFilter } from '../../core/ingest/quarantine-replay.ts';
import { recordKey, sameRecordContent, type TelemetryRecord } from '../../core/ingest/records.ts';
import type { KeptMvPoint, KeptSavings, MvKeeping } from '../../core/kpi/mv/kept-mv.ts';

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

/** The quarantine as a replay sees it, in memory: entries move to `resolved` once their reading is stored. */
export class MemoryLedger implements QuarantineLedger {
  readonly resolved = new Map<string, { entry: QuarantineEntry; outcome: string }>();
  /** Fails the next resolve, as a crash between the store write and the move would. */
  failNextResolve = false;

  constructor(readonly quarantine: MemoryQuarantine) {}

  pending(
    filter: Pick<ReplayFilter, 'useCase' | 'since'>,
    after: QuarantineEntry | undefined,
    limit: number,
  ): Promise<QuarantineEntry[]> {
    const order = (e: QuarantineEntry) => `${String(e.quarantinedAt).padStart(15, '0')}|${e.id}`;
    return Promise.resolve(
      [...this.quarantine.entries.values()]
        .filter((e) => filter.useCase === undefined || e.useCase === filter.useCase)
        .filter((e) => filter.since === undefined || e.quarantinedAt >= filter.since)
        .filter((e) => after === undefined || order(e) > order(after))
        .sort((a, b) => order(a).localeCompare(order(b)))
        .slice(0, limit),
    );
  }

  resolve(entry: QuarantineEntry, outcome: 'stored' | 'duplicate'): Promise<void> {
    if (this.failNextResolve) {
      this.failNextResolve = false;
      return Promise.reject(new Error('crashed before the move'));
    }
    this.quarantine.entries.delete(entry.id);
    this.resolved.set(entry.id, { entry, outcome });
    return Promise.resolve();
  }

  requarantine(entry: QuarantineEntry, reasons: readonly Reason[]): Promise<void> {
    this.quarantine.entries.set(entry.id, { ...entry, reasons });
    return Promise.resolve();
  }
}

/** M&V kept in memory: points by KPI and start, the latest savings by KPI. */
export function memoryMvKeeping(): MvKeeping & {
  readonly kept: Map<string, KeptMvPoint>;
  readonly savings: Map<string, KeptSavings>;
} {
  const kept = new Map<string, KeptMvPoint>();
  const savings = new Map<string, KeptSavings>();
  return {
    kept,
    savings,
    points: (useCase, kpi) =>
      Promise.resolve([...kept.values()].filter((p) => p.useCase === useCase && p.kpi === kpi)),
    putPoints: (points) => {
      for (const point of points) kept.set(`${point.kpi}/${point.from}`, point);
      return Promise.resolve();
    },
    putSavings: (rows) => {
      for (const row of rows) savings.set(row.kpi, row);
      return Promise.resolve();
    },
  };
}
