import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskQueue, type DiskQueueOptions } from '../../edge/disk-queue.ts';

let dir: string;
const warnings: string[] = [];

function open(options: Partial<DiskQueueOptions> = {}): DiskQueue {
  return DiskQueue.open({
    dir,
    maxBytes: 1024 * 1024,
    segmentBytes: 4096,
    fsync: 'never',
    onWarning: (w) => warnings.push(w),
    ...options,
  });
}

function fill(queue: DiskQueue, from: number, count: number): void {
  for (let n = from; n < from + count; n++) queue.append(Buffer.from(JSON.stringify({ n })));
}

function numbers(records: { payload: Buffer }[]): number[] {
  return records.map((r) => (JSON.parse(r.payload.toString()) as { n: number }).n);
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiot-queue-'));
  warnings.length = 0;
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('DiskQueue', () => {
  it('hands records out in order and deletes segments once everything in them is acknowledged', () => {
    const queue = open();
    fill(queue, 0, 500);
    expect(queue.stats.segments).toBeGreaterThan(2);
    const records = queue.take(1000);
    expect(numbers(records)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    for (const record of records) queue.ack(record.id);
    expect(queue.stats).toMatchObject({ depth: 0, segments: 1 });
    queue.close();
  });

  it('GIVEN a predicate THEN take stops before the first record it refuses, across segments, and untake hands the last ones out again', () => {
    const queue = open();
    fill(queue, 0, 300);
    // A budget that ends inside a later segment.
    let budget = 250;
    const taken = queue.take(1000, () => budget-- > 0);
    expect(numbers(taken)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(queue.inFlightCount).toBe(250);

    queue.untake(50);
    expect(queue.inFlightCount).toBe(200);
    expect(numbers(queue.take(3))).toEqual([200, 201, 202]);
    for (const record of taken.slice(0, 200)) queue.ack(record.id);
    expect(() => {
      queue.untake(4);
    }).toThrow('cannot take back 4 records: only unacknowledged last-taken ones come back');
    // The refused call changed nothing.
    expect(queue.inFlightCount).toBe(3);
    queue.close();
  });

  it('keeps every unacknowledged record across a restart, and re-sends from the first unacknowledged one', () => {
    const first = open();
    fill(first, 0, 10);
    const handedOut = first.take(10);
    for (const record of handedOut.slice(0, 4)) first.ack(record.id);
    // Record 6 acknowledged out of order: the watermark stays at 4, so 6 comes again (at least once).
    first.ack(handedOut[6]?.id ?? '');
    first.close();
    const second = open();
    expect(second.stats.depth).toBe(6);
    expect(numbers(second.take(100))).toEqual([4, 5, 6, 7, 8, 9]);
    second.close();
  });

  it('hands in-flight records out again after a rewind (reconnect)', () => {
    const queue = open();
    fill(queue, 0, 5);
    const out = queue.take(5);
    queue.ack(out[0]?.id ?? '');
    queue.ack(out[2]?.id ?? '');
    queue.rewind();
    expect(queue.stats.depth).toBe(4);
    expect(numbers(queue.take(10))).toEqual([1, 2, 3, 4]);
    queue.close();
  });

  it('detects a torn write at the tail by its checksum, warns, and replays the rest', () => {
    const queue = open();
    fill(queue, 0, 20);
    queue.close();
    const [segment] = readdirSync(dir).filter((f) => f.endsWith('.seg'));
    // A crash in the middle of a write: a frame header announcing 100 bytes, then 7 of them.
    const torn = Buffer.alloc(15);
    torn.writeUInt32LE(100, 0);
    torn.writeUInt32LE(12345, 4);
    appendFileSync(path.join(dir, segment ?? ''), torn);
    const reopened = open();
    expect(reopened.stats.corrupt).toBe(1);
    expect(warnings.some((w) => w.includes('fail their checksum (torn write); skipped'))).toBe(true);
    expect(numbers(reopened.take(100))).toEqual(Array.from({ length: 20 }, (_, i) => i));
    // New records go after the good ones.
    fill(reopened, 20, 2);
    expect(numbers(reopened.take(10))).toEqual([20, 21]);
    reopened.close();
  });

  it('drops the oldest records when the disk limit is reached, and counts every one', () => {
    const queue = open({ maxBytes: 16 * 1024, segmentBytes: 4096 });
    fill(queue, 0, 2000);
    const { dropped, depth } = queue.stats;
    expect(dropped).toBeGreaterThan(0);
    expect(dropped + depth).toBe(2000);
    expect(queue.stats.bytes).toBeLessThanOrEqual(16 * 1024);
    const left = numbers(queue.take(5000));
    // What is left is the newest records, complete and in order.
    expect(left).toEqual(Array.from({ length: depth }, (_, i) => 2000 - depth + i));
    expect(warnings.some((w) => w.startsWith('disk limit of 16384 bytes reached: dropped'))).toBe(true);
    queue.close();
  });

  it('thins the oldest records instead of dropping a time span when the overflow policy says so', () => {
    const queue = open({ maxBytes: 16 * 1024, segmentBytes: 4096, overflow: 'thin-oldest' });
    fill(queue, 0, 2000);
    const { dropped, depth } = queue.stats;
    expect(dropped).toBeGreaterThan(0);
    expect(dropped + depth).toBe(2000);
    expect(queue.stats.bytes).toBeLessThanOrEqual(16 * 1024);
    const left = numbers(queue.take(5000));
    // Thinned, not truncated: the oldest reading survives, and order holds.
    expect(left[0]).toBe(0);
    expect(left).toEqual([...left].sort((a, b) => a - b));
    expect(left.at(-1)).toBe(1999);
    expect(warnings.some((w) => w.includes('thinned segment'))).toBe(true);
    queue.close();
  });

  it('numbers records across restarts, also once everything was acknowledged and deleted', () => {
    const first = open();
    fill(first, 0, 3);
    for (const record of first.take(3)) first.ack(record.id);
    first.close();
    const second = open();
    expect(second.nextNumber).toBe(3);
    fill(second, 3, 2);
    second.close();
    const third = open();
    expect(third.take(10).map((r) => r.number)).toEqual([3, 4]);
    expect(third.nextNumber).toBe(5);
    third.close();
  });

  it('keeps the count of dropped records across a restart and shows the oldest pending record', () => {
    const queue = open({ maxBytes: 16 * 1024, segmentBytes: 4096 });
    fill(queue, 0, 2000);
    const { dropped } = queue.stats;
    const oldest = queue.peekOldest();
    queue.close();
    const reopened = open({ maxBytes: 16 * 1024, segmentBytes: 4096 });
    expect(reopened.stats.dropped).toBe(dropped);
    expect(reopened.peekOldest()?.payload.toString()).toBe(oldest?.payload.toString());
    expect(numbers(reopened.take(1))).toEqual([dropped]);
    reopened.close();
  });

  it('refuses a disk limit that cannot hold two segments', () => {
    expect(() => open({ maxBytes: 1000, segmentBytes: 600 })).toThrow(
      'maxBytes must hold at least two segments: got maxBytes 1000 and segmentBytes 600',
    );
  });

  it('keeps every record whose append returned when the process is killed with SIGKILL', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures', 'append-until-killed.ts'), dir],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let confirmed = -1;
    let buffer = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) confirmed = Number(line);
        if (confirmed >= 300) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((resolve) => child.on('close', resolve));
    const queue = open({ maxBytes: 64 * 1024 * 1024, segmentBytes: 64 * 1024 });
    const recovered = numbers(queue.take(1_000_000));
    expect(recovered.length).toBeGreaterThan(confirmed);
    expect(recovered.slice(0, confirmed + 1)).toEqual(Array.from({ length: confirmed + 1 }, (_, i) => i));
    queue.close();
  });
});
