import type { QuarantineEntry, QuarantineOutcome } from '../../core/ingest/ports.ts';

interface PendingPut {
  readonly entry: QuarantineEntry;
  readonly resolve: (outcome: QuarantineOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Quarantine entries put in the same tick, kept by one insert: a flood of malformed messages is
 * one statement per batch, not one per message. An entry whose id is kept already (a redelivery),
 * or put twice in one tick, answers 'already-kept'.
 */
export class QuarantineBatch {
  private pending: PendingPut[] = [];

  constructor(
    /** Inserts the entries (one per id) and answers the ids it kept, leaving existing ones alone. */
    private readonly insert: (entries: readonly QuarantineEntry[]) => Promise<ReadonlySet<string>>,
  ) {}

  put(entry: QuarantineEntry): Promise<QuarantineOutcome> {
    return new Promise((resolve, reject) => {
      this.pending.push({ entry, resolve, reject });
      if (this.pending.length === 1) queueMicrotask(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const all = this.pending.splice(0);
    // One row per id, even if the same message was put twice in one tick.
    const firsts = new Map(all.map((put) => [put.entry.id, put] as const).reverse());
    try {
      const kept = await this.insert([...firsts.values()].map((put) => put.entry));
      for (const put of all)
        put.resolve(firsts.get(put.entry.id) === put && kept.has(put.entry.id) ? 'kept' : 'already-kept');
    } catch (error) {
      for (const { reject } of all) reject(error);
    }
  }
}
