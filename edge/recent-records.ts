/** A record as the queue wrote it: its number, payload and where its frame ends. */
export interface WrittenRecord {
  readonly number: number;
  readonly payload: Buffer;
  readonly end: number;
}

/**
 * The newest records by id, as written, up to a byte budget: what a sender that keeps up takes
 * next, without reading it back from disk. Oldest out first.
 */
export class RecentRecords {
  private readonly records = new Map<string, WrittenRecord>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(id: string): WrittenRecord | undefined {
    return this.records.get(id);
  }

  remember(id: string, record: WrittenRecord): void {
    this.records.set(id, record);
    this.bytes += record.payload.length;
    for (const [oldId, old] of this.records) {
      if (this.bytes <= this.maxBytes) break;
      this.records.delete(oldId);
      this.bytes -= old.payload.length;
    }
  }

  forget(id: string): void {
    const record = this.records.get(id);
    if (!record) return;
    this.records.delete(id);
    this.bytes -= record.payload.length;
  }

  /** Segments dropped or rewritten: positions no longer name the same records. */
  clear(): void {
    this.records.clear();
    this.bytes = 0;
  }
}
