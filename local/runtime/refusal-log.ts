import type { Refusal } from '../broker/broker.ts';
import type { DuckDbStore, RefusalRow } from '../store/duckdb-store.ts';

/** The broker's refusals, written to the `refusals` table in batches (a flood of them is four writes a second). */
export class RefusalLog {
  private pending: RefusalRow[] = [];
  private readonly timer: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: DuckDbStore,
    private readonly onError: ((error: unknown) => void) | undefined,
  ) {
    // Often enough that a crash loses little of the log, rarely enough that a flood is a few writes.
    this.timer = setInterval(() => {
      void this.flush();
    }, 250);
    this.timer.unref();
  }

  add(refusal: Refusal): void {
    this.pending.push({ at: Date.now(), ...refusal });
  }

  private flush(): Promise<void> {
    const rows = this.pending;
    this.pending = [];
    this.writing = this.writing
      .then(() => this.store.recordRefusals(rows))
      .catch((error: unknown) => this.onError?.(error));
    return this.writing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
