import { randomUUID } from 'node:crypto';
import {
  ingestBatch,
  type BatchSummary,
  type IngestDependencies,
  type InboundMessage,
} from '../core/ingest/ingest-batch.ts';
import type { DeadLetter } from './duckdb-store.ts';

export interface LocalIngestQueueOptions {
  readonly deps: IngestDependencies;
  readonly deadLetter: (message: DeadLetter) => Promise<void>;
  /** Messages per batch, as the event source mapping's batch size. @default 100 */
  readonly batchSize?: number;
  /** How long to gather a batch, as the maximum batching window. @default 200 */
  readonly batchWindowMs?: number;
  /** Deliveries before a message moves to the dead-letter table. @default 5 */
  readonly maxReceiveCount?: number;
  /** Delay before the first redelivery, doubled for each later one. @default 500 */
  readonly retryDelayMs?: number;
  readonly onBatch?: (summary: BatchSummary) => void;
  readonly onError?: (error: unknown) => void;
}

interface Pending {
  readonly message: InboundMessage;
  receives: number;
  lastError: string;
}

/**
 * The local stand-in for SQS and its Lambda event source mapping: gathers messages into batches,
 * runs one batch at a time through the ingest logic, redelivers the items the batch reported as
 * failed with backoff, and dead-letters a message after its last allowed delivery.
 */
export class LocalIngestQueue {
  private readonly ready: Pending[] = [];
  private readonly waiting = new Map<NodeJS.Timeout, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly batchSize: number;
  private readonly batchWindowMs: number;
  private readonly maxReceiveCount: number;
  private readonly retryDelayMs: number;
  private deadLettered = 0;
  private inFlight = 0;

  constructor(private readonly options: LocalIngestQueueOptions) {
    this.batchSize = options.batchSize ?? 100;
    this.batchWindowMs = options.batchWindowMs ?? 200;
    this.maxReceiveCount = options.maxReceiveCount ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 500;
    if (this.batchSize < 1) throw new Error(`batchSize must be at least 1, got ${this.batchSize}`);
    if (this.maxReceiveCount < 1)
      throw new Error(`maxReceiveCount must be at least 1, got ${this.maxReceiveCount}`);
  }

  /** Messages waiting, being redelivered later, or in the batch being processed. */
  get depth(): number {
    return this.ready.length + this.waiting.size + this.inFlight;
  }

  get deadLetterCount(): number {
    return this.deadLettered;
  }

  send(body: string): void {
    this.ready.push({ message: { id: randomUUID(), body }, receives: 0, lastError: '' });
    this.schedule();
  }

  private schedule(): void {
    if (this.running) return;
    if (this.ready.length >= this.batchSize) {
      this.clearTimer();
      this.running = this.runBatches();
      return;
    }
    if (this.ready.length > 0)
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.running ??= this.runBatches();
      }, this.batchWindowMs);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async runBatches(): Promise<void> {
    try {
      while (this.ready.length > 0) await this.runBatch(this.ready.splice(0, this.batchSize));
    } finally {
      this.running = undefined;
    }
    this.schedule();
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    for (const item of batch) item.receives += 1;
    this.inFlight = batch.length;
    let failed: Map<string, string>;
    try {
      const summary = await ingestBatch(
        batch.map((item) => item.message),
        this.options.deps,
      );
      this.options.onBatch?.(summary);
      failed = new Map(
        summary.results
          .filter((result) => result.outcome === 'retry')
          .map((result) => [result.id, result.reasons.map((r) => r.message).join('; ')]),
      );
    } catch (error) {
      // As with a Lambda error, the whole batch comes back.
      this.options.onError?.(error);
      const text = error instanceof Error ? error.message : String(error);
      failed = new Map(batch.map((item) => [item.message.id, text]));
    } finally {
      this.inFlight = 0;
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
    this.deadLettered += 1;
    await this.options.deadLetter({
      id: item.message.id,
      body: item.message.body,
      attempts: item.receives,
      lastError: item.lastError,
    });
  }

  /**
   * Processes everything still queued, redelivering failures at once instead of after their delay,
   * and dead-letters whatever still fails after its last delivery. Nothing is left in memory.
   */
  async drain(): Promise<void> {
    this.clearTimer();
    for (;;) {
      if (this.running) await this.running;
      for (const [timeout, item] of this.waiting) {
        clearTimeout(timeout);
        this.ready.push(item);
      }
      this.waiting.clear();
      if (this.ready.length === 0) return;
      this.clearTimer();
      this.running = this.runBatches();
      await this.running;
      this.clearTimer();
    }
  }
}
