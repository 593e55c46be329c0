import { randomUUID } from 'node:crypto';
import {
  ingestBatch,
  type BatchSummary,
  type IngestDependencies,
  type InboundMessage,
} from '../../core/ingest/ingest-batch.ts';
import { DiskQueue, type FsyncPolicy } from '../../edge/disk-queue.ts';
import type { DeadLetter } from '../store/duckdb-store.ts';

export interface LocalIngestQueueOptions {
  readonly deps: IngestDependencies;
  readonly deadLetter: (message: DeadLetter) => Promise<void>;
  /** Folder of the journal that keeps every accepted message until it is stored, quarantined or dead-lettered. */
  readonly journalDir: string;
  /**
   * Bytes the journal may hold; past it `send` throws, so the broker withholds its acknowledgement
   * and the device keeps the reading (nothing acknowledged is ever dropped). @default 512 MiB
   */
  readonly maxJournalBytes?: number;
  /**
   * When journal writes reach the disk. A written record survives a crash of the process (it is in
   * the OS page cache); fsync protects it from a power cut too. @default { everyMs: 1000 }
   */
  readonly fsync?: FsyncPolicy;
  /** Messages per batch, as the event source mapping's batch size. @default 100 */
  readonly batchSize?: number;
  /**
   * How long a message may wait for its batch to fill, as the event source mapping's maximum
   * batching window: a batch goes when it is full or its oldest message has waited this long. Under
   * load that keeps batches large (each costs a store round trip and a scoring pass whatever its
   * size) instead of running one for whatever arrived during the last. @default 200
   */
  readonly batchWindowMs?: number;
  /** Deliveries before a message moves to the dead-letter table. @default 5 */
  readonly maxReceiveCount?: number;
  /** Delay before the first redelivery, doubled for each later one. @default 500 */
  readonly retryDelayMs?: number;
  readonly onBatch?: (summary: BatchSummary) => void;
  readonly onError?: (error: unknown) => void;
  readonly onWarning?: (message: string) => void;
}

interface Pending {
  /** Position of the message in the journal, acknowledged once the message is done with. */
  readonly journalId: string;
  readonly message: InboundMessage;
  receives: number;
  lastError: string;
}

/** The journal's record of one message: its transport id (stable across replays) and the rule's output. */
interface JournalEntry {
  readonly id: string;
  readonly body: string;
}

/** Raised by `send` when the journal is full: the caller must not acknowledge the message. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
}

/**
 * The local stand-in for SQS and its Lambda event source mapping. `send` returns once the message
 * is in an on-disk journal, so whoever acknowledges after it (the broker's PUBACK) acknowledges
 * only what survives `kill -9`; after a crash the journal hands every unfinished message out again
 * (at least once; ingestion stores a repeat once). Messages are gathered into batches, run one
 * batch at a time through the ingest logic; items the batch reported as failed come back with
 * backoff and are dead-lettered after their last allowed delivery.
 */
export class LocalIngestQueue {
  private readonly journal: DiskQueue;
  private readonly ready: Pending[] = [];
  private readonly waiting = new Map<NodeJS.Timeout, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly batchSize: number;
  private readonly batchWindowMs: number;
  private readonly maxReceiveCount: number;
  private readonly retryDelayMs: number;
  private readonly maxJournalBytes: number;
  private deadLettered = 0;
  private closed = false;
  /** While draining, every batch goes at once, full or not. */
  private draining = false;
  /** When each journal record not yet handed out was accepted (0: before this start), oldest first. */
  private readonly arrivals: number[] = [];
  private arrivalsHead = 0;
  /** Messages found in the journal at start: accepted by an earlier run and not finished then. */
  readonly recovered: number;

  constructor(private readonly options: LocalIngestQueueOptions) {
    this.batchSize = options.batchSize ?? 100;
    this.batchWindowMs = options.batchWindowMs ?? 200;
    this.maxReceiveCount = options.maxReceiveCount ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 500;
    this.maxJournalBytes = options.maxJournalBytes ?? 512 * 1024 * 1024;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1)
      throw new Error(`batchSize must be at least 1, got ${this.batchSize}`);
    if (!Number.isFinite(this.batchWindowMs) || this.batchWindowMs < 0)
      throw new Error(`batchWindowMs must be 0 or more milliseconds, got ${this.batchWindowMs}`);
    if (!Number.isInteger(this.maxReceiveCount) || this.maxReceiveCount < 1)
      throw new Error(`maxReceiveCount must be at least 1, got ${this.maxReceiveCount}`);
    if (!(this.maxJournalBytes >= 1024 * 1024))
      throw new Error(`maxJournalBytes must be at least 1 MiB, got ${this.maxJournalBytes}`);
    this.journal = DiskQueue.open({
      dir: options.journalDir,
      // Headroom above the refusal limit, so the disk queue's own overflow policy never drops a record.
      maxBytes: this.maxJournalBytes * 2,
      segmentBytes: Math.min(8 * 1024 * 1024, this.maxJournalBytes / 4),
      fsync: options.fsync ?? { everyMs: 1000 },
      onWarning: options.onWarning,
    });
    this.recovered = this.journal.stats.depth;
    for (let i = 0; i < this.recovered; i++) this.arrivals.push(0);
    // Messages accepted before a crash or stop come back first.
    this.schedule();
  }

  /** Messages accepted and not yet stored, quarantined or dead-lettered (waiting, in a batch, or due for redelivery). */
  get depth(): number {
    return this.journal.stats.depth;
  }

  get deadLetterCount(): number {
    return this.deadLettered;
  }

  /**
   * Accepts a message: once this returns, it is in the journal. Throws QueueFullError when the
   * journal is at its limit, and any write error as it is: then the message was not accepted.
   */
  send(body: string): void {
    if (this.closed) throw new QueueFullError('the ingest queue is stopping');
    if (this.journal.stats.bytes >= this.maxJournalBytes) {
      throw new QueueFullError(
        `the ingest queue holds ${this.journal.stats.depth} messages (${this.journal.stats.bytes} bytes, limit ${this.maxJournalBytes}); try again later`,
      );
    }
    const entry: JournalEntry = { id: randomUUID(), body };
    this.journal.append(Buffer.from(JSON.stringify(entry)));
    this.arrivals.push(Date.now());
    this.schedule();
  }

  /** Journal records not yet handed to a batch. */
  private get untaken(): number {
    return this.journal.stats.depth - this.journal.inFlightCount;
  }

  /** Milliseconds until the next batch is due: 0 when full, draining or its oldest has waited enough. */
  private dueIn(): number | undefined {
    if (this.ready.length + this.untaken === 0) return undefined;
    // Redeliveries have waited out their backoff already.
    if (this.draining || this.ready.length > 0 || this.ready.length + this.untaken >= this.batchSize)
      return 0;
    const oldest = this.arrivals[this.arrivalsHead] ?? 0;
    return Math.max(0, oldest + this.batchWindowMs - Date.now());
  }

  private schedule(): void {
    if (this.running || this.closed) return;
    const due = this.dueIn();
    if (due === undefined) return;
    if (due === 0) {
      this.clearTimer();
      this.running = this.runBatches();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.schedule();
    }, due);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private nextBatch(): Pending[] {
    const batch = this.ready.splice(0, this.batchSize);
    const taken = this.journal.take(this.batchSize - batch.length);
    this.arrivalsHead += taken.length;
    if (this.arrivalsHead > 4096 && this.arrivalsHead * 2 > this.arrivals.length) {
      this.arrivals.splice(0, this.arrivalsHead);
      this.arrivalsHead = 0;
    }
    for (const record of taken) {
      batch.push({
        journalId: record.id,
        message: readEntry(record.payload, record.number),
        receives: 0,
        lastError: '',
      });
    }
    return batch;
  }

  private async runBatches(): Promise<void> {
    try {
      while (this.dueIn() === 0) {
        const batch = this.nextBatch();
        if (batch.length === 0) break;
        await this.runBatch(batch);
      }
    } catch (error) {
      this.options.onError?.(error);
    } finally {
      this.running = undefined;
    }
    this.schedule();
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    for (const item of batch) item.receives += 1;
    let failed: Map<string, string>;
    try {
      const summary = await ingestBatch(
        batch.map((item) => item.message),
        this.options.deps,
      );
      failed = new Map();
      for (const result of summary.results) {
        if (result.outcome !== 'retry') continue;
        // The first reading's reasons say why: the others of a pack wait on the same store.
        if (!failed.has(result.messageId))
          failed.set(result.messageId, result.reasons.map((r) => r.message).join('; '));
      }
      // Done with everything else: it is stored, a duplicate, or quarantined.
      for (const item of batch) if (!failed.has(item.message.id)) this.journal.ack(item.journalId);
      this.options.onBatch?.(summary);
    } catch (error) {
      // As with a Lambda error, the whole batch comes back.
      this.options.onError?.(error);
      const text = error instanceof Error ? error.message : String(error);
      failed = new Map(batch.map((item) => [item.message.id, text]));
    }
    for (const item of batch) {
      const reason = failed.get(item.message.id);
      if (reason === undefined) continue;
      item.lastError = reason;
      if (item.receives >= this.maxReceiveCount) {
        await this.moveToDeadLetter(item);
        continue;
      }
      const timeout = setTimeout(
        () => {
          this.waiting.delete(timeout);
          this.ready.push(item);
          this.schedule();
        },
        this.retryDelayMs * 2 ** (item.receives - 1),
      );
      this.waiting.set(timeout, item);
    }
  }

  private async moveToDeadLetter(item: Pending): Promise<void> {
    try {
      await this.options.deadLetter({
        id: item.message.id,
        body: item.message.body,
        attempts: item.receives,
        lastError: item.lastError,
      });
    } catch (error) {
      // Still in the journal: it comes back after a restart.
      this.options.onError?.(error);
      return;
    }
    this.deadLettered += 1;
    this.journal.ack(item.journalId);
  }

  /**
   * Processes everything still queued, redelivering failures at once instead of after their delay,
   * and dead-letters whatever still fails after its last delivery.
   */
  async drain(): Promise<void> {
    this.clearTimer();
    this.draining = true;
    try {
      await this.drainAll();
    } finally {
      this.draining = false;
    }
  }

  private async drainAll(): Promise<void> {
    for (;;) {
      if (this.running) await this.running;
      for (const [timeout, item] of this.waiting) {
        clearTimeout(timeout);
        this.ready.push(item);
      }
      this.waiting.clear();
      if (this.ready.length + this.untaken === 0) return;
      this.clearTimer();
      this.running = this.runBatches();
      await this.running;
      this.clearTimer();
    }
  }

  /** Stops accepting, and closes the journal; what is left in it comes back at the next start. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    for (const timeout of this.waiting.keys()) clearTimeout(timeout);
    this.waiting.clear();
    this.journal.close();
  }
}

function readEntry(payload: Buffer, number: number): InboundMessage {
  const text = payload.toString('utf8');
  try {
    const entry = JSON.parse(text) as Partial<JournalEntry>;
    if (typeof entry.id === 'string' && typeof entry.body === 'string')
      return { id: entry.id, body: entry.body };
  } catch {
    // Not ours: handed on as it is, so ingestion quarantines it with the reason instead of losing it.
  }
  return { id: `journal-${number}`, body: text };
}
