import { describe, expect, it } from 'vitest';
import { pumpTelemetryV1 } from '../../core/contracts/pump-telemetry.ts';
import type { BatchSummary } from '../../core/ingest/ingest-batch.ts';
import type { TelemetryStore, WriteOutcome } from '../../core/ingest/ports.ts';
import type { DeadLetter } from '../../local/duckdb-store.ts';
import { LocalIngestQueue } from '../../local/ingest-queue.ts';
import { MemoryQuarantine, MemoryStore } from '../support/memory-ports.ts';
import { inbound, reading } from '../support/messages.ts';

/** A store that answers `retry` for its first `failures` writes, then behaves. */
class FlakyStore implements TelemetryStore {
  readonly inner = new MemoryStore();
  constructor(private failures: number) {}
  write(records: Parameters<TelemetryStore['write']>[0]): Promise<WriteOutcome[]> {
    if (this.failures-- > 0)
      return Promise.resolve(records.map(() => ({ status: 'retry', reason: 'throttled' }) as const));
    return this.inner.write(records);
  }
}

function queueWith(store: TelemetryStore, options: { maxReceiveCount?: number; batchSize?: number } = {}) {
  const batches: BatchSummary[] = [];
  const deadLetters: DeadLetter[] = [];
  const queue = new LocalIngestQueue({
    deps: {
      useCases: new Map([['pump-maintenance', pumpTelemetryV1]]),
      store,
      quarantine: new MemoryQuarantine(),
      clock: { now: () => 0 },
    },
    deadLetter: (message) => {
      deadLetters.push(message);
      return Promise.resolve();
    },
    batchWindowMs: 5,
    retryDelayMs: 5,
    ...options,
    onBatch: (summary) => batches.push(summary),
  });
  return { queue, batches, deadLetters };
}

const at = (second: number) => new Date(Date.parse('2026-01-15T08:30:00.000Z') + second * 1000).toISOString();

describe('LocalIngestQueue', () => {
  it('gathers messages into batches of at most batchSize', async () => {
    const store = new MemoryStore();
    const { queue, batches } = queueWith(store, { batchSize: 10 });
    for (let i = 0; i < 25; i++) queue.send(inbound(reading({ seq: i, timestamp: at(i) })).body);
    await queue.drain();
    expect(batches.map((b) => b.results.length)).toEqual([10, 10, 5]);
    expect(store.rows.size).toBe(25);
  });

  it('redelivers what the store could not take until it succeeds', async () => {
    const store = new FlakyStore(2);
    const { queue, deadLetters } = queueWith(store);
    queue.send(inbound(reading()).body);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Stored by the backoff redeliveries themselves, before any drain.
    expect(store.inner.rows.size).toBe(1);
    await queue.drain();
    expect(deadLetters).toEqual([]);
  });

  it('dead-letters a message after its last allowed delivery, with the reason', async () => {
    const store = new FlakyStore(Number.POSITIVE_INFINITY);
    const { queue, deadLetters } = queueWith(store, { maxReceiveCount: 3 });
    const body = inbound(reading()).body;
    queue.send(body);
    await queue.drain();
    expect(deadLetters).toEqual([
      { id: expect.any(String) as unknown, body, attempts: 3, lastError: 'throttled' },
    ]);
    expect(queue.depth).toBe(0);
    expect(queue.deadLetterCount).toBe(1);
  });

  it('refuses a batch size or receive count below one', () => {
    expect(() => queueWith(new MemoryStore(), { batchSize: 0 })).toThrow(
      'batchSize must be at least 1, got 0',
    );
    expect(() => queueWith(new MemoryStore(), { maxReceiveCount: 0 })).toThrow(
      'maxReceiveCount must be at least 1, got 0',
    );
  });
});
