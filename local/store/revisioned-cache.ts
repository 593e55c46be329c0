/** A state kept under optimistic concurrency: each save carries the revision after the stored one. */
export interface Revisioned {
  readonly revision: number;
}

/** One accepted save on its way to the store, with the state it replaces (undefined: none stored). */
export interface RevisionedWrite<T> {
  readonly key: string;
  readonly state: T;
  readonly previous: T | undefined;
}

interface Queued<T> extends RevisionedWrite<T> {
  readonly resolve: (saved: boolean) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The store's rows of revisioned state (device baselines, alert tracks), held in memory by the one
 * process that writes them. Reads after the first come from memory, and a save is checked against
 * the revision in memory, so the check and the update are one synchronous step: the conditional
 * write's semantics, without a query per device and scoring pass. Saves accepted in one turn of
 * the event loop reach the store in one `persist` call, and each resolves only once that call has
 * succeeded, so a save that reported true is in the store. A failed call forgets the keys it
 * carried: their next read comes from the store again.
 *
 * Only for state that this process alone writes (DuckDB lets one process open a file for writing).
 */
export class RevisionedCache<T extends Revisioned> {
  /** null: known to have no row. */
  private readonly entries = new Map<string, T | null>();
  private queued: Queued<T>[] = [];
  /** Every stored row is held: a key not held has none. */
  private complete = false;

  constructor(
    private readonly persist: (writes: readonly RevisionedWrite<T>[]) => Promise<void>,
    private readonly defer: (flush: () => void) => void = setImmediate,
  ) {}

  /** Holds every stored row, so a key never seen needs no read of the store. */
  preload(rows: Iterable<readonly [string, T]>): void {
    for (const [key, state] of rows) if (!this.entries.has(key)) this.entries.set(key, state);
    this.complete = true;
  }

  get preloaded(): boolean {
    return this.complete;
  }

  async get(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    if (!this.entries.has(key) && !this.complete) {
      const loaded = await load();
      // A save may have come first while the store was read: it is newer.
      if (!this.entries.has(key)) this.entries.set(key, loaded ?? null);
    }
    return this.entries.get(key) ?? undefined;
  }

  /** False when the stored revision is not the one before `state`'s: someone saved first. */
  async save(key: string, state: T, load: () => Promise<T | undefined>): Promise<boolean> {
    await this.get(key, load);
    // Read again after the await: another save may have landed in between.
    const previous = this.entries.get(key) ?? undefined;
    if ((previous?.revision ?? 0) !== state.revision - 1) return false;
    this.entries.set(key, state);
    return new Promise((resolve, reject) => {
      if (this.queued.push({ key, state, previous, resolve, reject }) === 1)
        this.defer(() => {
          this.flush();
        });
    });
  }

  private flush(): void {
    const writes = this.queued;
    this.queued = [];
    this.persist(writes.map(({ key, state, previous }) => ({ key, state, previous }))).then(
      () => {
        for (const write of writes) write.resolve(true);
      },
      (error: unknown) => {
        for (const write of writes) {
          if (this.entries.get(write.key) === write.state) {
            // Read again from the store next time: it may hold the state before this one.
            this.entries.delete(write.key);
            this.complete = false;
          }
          write.reject(error);
        }
      },
    );
  }
}
