import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pumpTelemetryV1 } from '../support/contracts.ts';
import type { BatchSummary } from '../../core/ingest/ingest-batch.ts';
import type { TelemetryStore, WriteOutcome } from '../../core/ingest/ports.ts';
import type { DeadLetter } from '../../local/store/duckdb-store.ts';
import { LocalIngestQueue, QueueFullError } from '../../local/ingest/ingest-queue.ts';
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

let journalDir: string;
beforeEach(() => {
  journalDir = mkdtempSync(path.join(tmpdir(), 'aiot-queue-'));
});
afterEach(() => {
  rmSync(journalDir, { recursive: true, force: true });
});

function queueWith(
  store: TelemetryStore,
  options: {
    maxReceiveCount?: number;
    batchSize?: number;
    maxJournalBytes?: number;
    batchWindowMs?: number;
  } = {},
  quarantine = new MemoryQuarantine(),
) {
  const batches: BatchSummary[] = [];
  const deadLetters: DeadLetter[] = [];
  const batchWaiters: (() => void)[] = [];
  const queue = new LocalIngestQueue({
    deps: {
      useCases: new Map([['pump-maintenance', [pumpTelemetryV1]]]),
      store,
      quarantine,
      clock: { now: () => 0 },
    },
    journalDir,
    deadLetter: (message) => {
      deadLetters.push(message);
      return Promise.resolve();
    },
    batchWindowMs: 5,
    retryDelayMs: 5,
    ...options,
    onBatch: (summary) => {
      batches.push(summary);
      for (const wake of batchWaiters.splice(0)) wake();
    },
  });
  /** Resolves once a batch satisfying `done` has run (waits on the event, not on time). */
  const batchWhere = (done: (summary: BatchSummary) => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (batches.some(done)) resolve();
        else batchWaiters.push(check);
      };
      check();
    });
  return { queue, batches, deadLetters, batchWhere, quarantine };
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
    expect(queue.depth).toBe(0);
    queue.close();
  });

  it('GIVEN a batch running WHEN fewer messages than a batch arrive meanwhile THEN they wait for the batch to fill or the window, as the event source mapping does, not run on their own', async () => {
    const inner = new MemoryStore();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow: TelemetryStore = {
      write: async (records) => {
        await held;
        return inner.write(records);
      },
    };
    // A window no test waits out: only a full batch (or the drain) may go.
    const { queue, batches, batchWhere } = queueWith(slow, { batchSize: 3, batchWindowMs: 60_000 });
    const send = (seq: number) => {
      queue.send(inbound(reading({ seq, timestamp: at(seq) })).body);
    };
    [0, 1, 2].forEach(send);
    send(3);
    release();
    await batchWhere(() => true);
    // Whatever the loop does next has had its turn: a greedy queue would now run message 3 alone.
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches.map((b) => b.results.length)).toEqual([3]);
    [4, 5].forEach(send);
    await batchWhere(() => batches.length === 2);
    expect(batches.map((b) => b.results.length)).toEqual([3, 3]);
    send(6);
    await queue.drain();
    expect(batches.map((b) => b.results.length)).toEqual([3, 3, 1]);
    expect(inner.rows.size).toBe(7);
    queue.close();
  });

  it('redelivers what the store could not take until it succeeds, by itself', async () => {
    const store = new FlakyStore(2);
    const { queue, deadLetters, batchWhere } = queueWith(store);
    queue.send(inbound(reading()).body);
    // Stored by the backoff redeliveries themselves, before any drain.
    await batchWhere((summary) => summary.stored === 1);
    expect(store.inner.rows.size).toBe(1);
    await queue.drain();
    expect(deadLetters).toEqual([]);
    queue.close();
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
    queue.close();
  });

  it('keeps every accepted message across a stop without draining, and ingests it at the next start', async () => {
    // GIVEN a queue whose store is down, so nothing it accepted is finished
    const down = new FlakyStore(Number.POSITIVE_INFINITY);
    const first = queueWith(down, { maxReceiveCount: 100 });
    for (let i = 0; i < 50; i++) first.queue.send(inbound(reading({ seq: i, timestamp: at(i) })).body);
    first.queue.send(inbound(undefined, { raw: 'not json' }).body);
    // WHEN the process goes away without draining (the journal is all that is left)
    first.queue.close();
    // THEN a new queue on the same journal finds every message and finishes it
    const store = new MemoryStore();
    const second = queueWith(store);
    expect(second.queue.recovered).toBe(51);
    await second.queue.drain();
    expect(store.rows.size).toBe(50);
    expect(second.quarantine.entries.size).toBe(1);
    expect(second.queue.depth).toBe(0);
    second.queue.close();
  });

  it('quarantines a replayed malformed message under the same id, and two equal payloads under two', async () => {
    const quarantine = new MemoryQuarantine();
    const first = queueWith(new FlakyStore(0), {}, quarantine);
    const empty = inbound(undefined, { raw: '' }).body;
    first.queue.send(empty);
    first.queue.send(empty);
    await first.queue.drain();
    expect(quarantine.entries.size).toBe(2);
    first.queue.close();
  });

  it('refuses a message when the journal is full, so the broker does not acknowledge it', () => {
    const { queue } = queueWith(new FlakyStore(Number.POSITIVE_INFINITY), {
      maxJournalBytes: 1024 * 1024,
      maxReceiveCount: 100,
    });
    const body = inbound(reading(), { raw: JSON.stringify({ ...reading(), pad: 'x'.repeat(100_000) }) }).body;
    let accepted = 0;
    let refusal: unknown;
    try {
      for (;;) {
        queue.send(body);
        accepted += 1;
      }
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(QueueFullError);
    expect((refusal as Error).message).toMatch(
      /^the ingest queue holds \d+ messages \(\d+ bytes, limit 1048576\); try again later$/,
    );
    expect(queue.depth).toBe(accepted);
    queue.close();
  });

  it('refuses a batch size or receive count below one, and a batching window below zero', () => {
    expect(() => queueWith(new MemoryStore(), { batchSize: 0 })).toThrow(
      'batchSize must be at least 1, got 0',
    );
    expect(() => queueWith(new MemoryStore(), { batchWindowMs: -1 })).toThrow(
      'batchWindowMs must be 0 or more milliseconds, got -1',
    );
    expect(() => queueWith(new MemoryStore(), { maxReceiveCount: 0 })).toThrow(
      'maxReceiveCount must be at least 1, got 0',
    );
  });
});
