import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { RecentRecords } from './recent-records.ts';
import { SegmentWriter, type FsyncPolicy } from './segment-writer.ts';
import {
  encodeFrame,
  everyOtherFrame,
  MAX_RECORD_BYTES,
  recoverSegments,
  framesOf,
  HEADER_BYTES,
  idOf,
  readCursor,
  readFrameAt,
  rewriteSegment,
  segmentFile,
  segmentOfId,
  writeCursor,
  type DiskQueueStats,
  type Position,
  type QueuedRecord,
  type Segment,
} from './queue-files.ts';

export type { FsyncPolicy } from './segment-writer.ts';

/**
 * What happens when the disk limit is reached: `drop-oldest` deletes the oldest segment, losing a
 * contiguous stretch of the oldest readings; `thin-oldest` keeps every other record of the oldest
 * segments (least thinned first), so a long outage loses resolution instead of a time span.
 */
export type OverflowPolicy = 'drop-oldest' | 'thin-oldest';

export interface DiskQueueOptions {
  readonly dir: string;
  /** Bound on the bytes of all segments; past it the overflow policy applies. */
  readonly maxBytes: number;
  /** Size at which a new segment starts. @default min(1 MiB, maxBytes / 4) */
  readonly segmentBytes?: number;
  /** @default 'always' */
  readonly fsync?: FsyncPolicy;
  /** @default 'drop-oldest' */
  readonly overflow?: OverflowPolicy;
  /** Told about every record lost to a torn write or to overflow. */
  readonly onWarning?: (message: string) => void;
  /**
   * Longest time an acknowledgement may wait before the watermark is persisted. A crash repeats
   * at most this much of what was sent (at least once; ingestion stores a repeat once), in
   * exchange for not rewriting the cursor on every PUBACK. @default 1000, the default fsync window
   */
  readonly cursorIntervalMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

export type { DiskQueueStats, QueuedRecord } from './queue-files.ts';

/** The newest records kept in memory as well: a few seconds of a busy device's readings. */
const RECENT_CACHE_BYTES = 256 * 1024;

/**
 * A disk-backed FIFO for store-and-forward: append-only segment files, each record framed by its
 * length, a CRC32 and its number, so a write torn by a crash or power loss is detected and skipped
 * at the next open. Records leave the disk only when acknowledged (after the broker's PUBACK):
 * acks move a watermark, persisted atomically, and segments wholly below it are deleted. After a
 * crash the records after the last persisted watermark are read again (at least once). Memory
 * holds the records handed out and not yet acknowledged, and a copy of the newest records (at most
 * RECENT_CACHE_BYTES) so a sender keeping up reads nothing back from disk; never the backlog.
 */
export class DiskQueue {
  private readonly segments: Segment[] = [];
  private readonly writer: SegmentWriter;
  private readonly segmentBytes: number;
  private readPosition: Position;
  private watermark: Position;
  private acknowledgedNext: number;
  private nextRecordNumber: number;
  private readonly inFlight: { id: string; number: number; end: Position; acked: boolean }[] = [];
  private dropped: number;
  private corrupt = 0;
  private depthCount = 0;
  private lastCursorWrite = 0;
  private cursorDirty = false;
  /** The newest records by id, as written: what a sender that keeps up takes next. */
  private readonly recent = new RecentRecords(RECENT_CACHE_BYTES);

  private constructor(private readonly options: DiskQueueOptions) {
    const segmentBytes = options.segmentBytes ?? Math.min(1024 * 1024, Math.floor(options.maxBytes / 4));
    if (!(options.maxBytes > 0) || segmentBytes < HEADER_BYTES + 1 || segmentBytes * 2 > options.maxBytes) {
      throw new Error(
        `maxBytes must hold at least two segments: got maxBytes ${options.maxBytes} and segmentBytes ${segmentBytes}`,
      );
    }
    this.segmentBytes = segmentBytes;
    mkdirSync(options.dir, { recursive: true });
    const cursor = readCursor(options.dir);
    this.watermark = { segment: cursor.segment, offset: cursor.offset };
    this.acknowledgedNext = cursor.next;
    this.dropped = cursor.dropped;
    const recovered = recoverSegments(options.dir, this.watermark.segment, options.onWarning);
    this.segments.push(...recovered.segments);
    this.corrupt = recovered.corrupt;
    const lastNumber = recovered.lastNumber;
    this.nextRecordNumber = Math.max(this.acknowledgedNext, lastNumber + 1);
    // A watermark at the end of a segment that was rolled away points at the next one that exists.
    const resume = this.segments.find((s) => s.number >= this.watermark.segment);
    if (resume && resume.number !== this.watermark.segment)
      this.watermark = { segment: resume.number, offset: 0 };
    this.readPosition = { ...this.watermark };
    const last = this.segments[this.segments.length - 1];
    // Appends always go to a fresh segment: a recovered segment may end in a torn record.
    const next = (last?.number ?? this.watermark.segment) + 1;
    this.segments.push({ number: next, bytes: 0, records: 0, thinned: 0 });
    this.writer = new SegmentWriter(options.dir, next, options.fsync ?? 'always', options.now ?? Date.now);
    if (this.segments.length === 1) this.readPosition = this.watermark = { segment: next, offset: 0 };
    this.depthCount = this.segments.reduce((sum, s) => sum + this.pendingIn(s), 0);
  }

  static open(options: DiskQueueOptions): DiskQueue {
    return new DiskQueue(options);
  }

  private writeCursor(): void {
    this.cursorDirty = false;
    this.lastCursorWrite = (this.options.now ?? Date.now)();
    writeCursor(this.options.dir, { ...this.watermark, next: this.acknowledgedNext, dropped: this.dropped });
  }

  /** Records of a segment at or after the watermark. */
  private pendingIn(segment: Segment): number {
    if (segment.number < this.watermark.segment) return 0;
    if (segment.number > this.watermark.segment || this.watermark.offset === 0) return segment.records;
    let count = 0;
    for (const _frame of framesOf(this.readSegment(segment), this.watermark.offset)) count += 1;
    return count;
  }

  private readSegment(segment: Segment): Buffer {
    return readFileSync(segmentFile(this.options.dir, segment.number)).subarray(0, segment.bytes);
  }

  get stats(): DiskQueueStats {
    return {
      depth: this.depthCount,
      bytes: this.totalBytes(),
      segments: this.segments.length,
      dropped: this.dropped,
      corrupt: this.corrupt,
    };
  }

  /** The number the next appended record gets. */
  get nextNumber(): number {
    return this.nextRecordNumber;
  }

  private totalBytes(): number {
    return this.segments.reduce((sum, s) => sum + s.bytes, 0);
  }

  /** Appends one record and returns its number; once this returns (with fsync 'always'), it survives a crash. */
  append(payload: Buffer): number {
    if (payload.length === 0 || payload.length > MAX_RECORD_BYTES) {
      throw new Error(`a record must hold 1 to ${MAX_RECORD_BYTES} bytes, got ${payload.length}`);
    }
    const number = this.nextRecordNumber;
    const frame = encodeFrame(number, payload);
    let current = this.segments[this.segments.length - 1];
    if (current && current.bytes > 0 && current.bytes + frame.length > this.segmentBytes)
      current = this.roll();
    this.makeRoom(frame.length);
    this.writer.append(frame);
    if (current) {
      this.recent.remember(idOf({ segment: current.number, offset: current.bytes }), {
        number,
        payload,
        end: current.bytes + frame.length,
      });
      current.bytes += frame.length;
      current.records += 1;
    }
    this.nextRecordNumber += 1;
    this.depthCount += 1;
    return number;
  }

  private roll(): Segment {
    const next = {
      number: (this.segments[this.segments.length - 1]?.number ?? 0) + 1,
      bytes: 0,
      records: 0,
      thinned: 0,
    };
    this.segments.push(next);
    this.writer.roll(next.number);
    return next;
  }

  private makeRoom(frameBytes: number): void {
    while (this.totalBytes() + frameBytes > this.options.maxBytes && this.segments.length > 1) {
      if (this.options.overflow === 'thin-oldest' && this.thinOneSegment()) continue;
      this.dropOldestSegment();
    }
  }

  /** Overflow: the oldest segment goes, and every record in it that was not acknowledged is counted as dropped. */
  private dropOldestSegment(): void {
    const oldest = this.segments[0];
    if (!oldest) return;
    this.recent.clear();
    const lost =
      this.pendingIn(oldest) -
      this.inFlight.filter((e) => e.acked && segmentOfId(e.id) === oldest.number).length;
    this.segments.shift();
    unlinkSync(segmentFile(this.options.dir, oldest.number));
    this.dropped += lost;
    this.depthCount -= lost;
    this.options.onWarning?.(
      `disk limit of ${this.options.maxBytes} bytes reached: dropped ${lost} oldest records`,
    );
    const next = { segment: this.segments[0]?.number ?? oldest.number + 1, offset: 0 };
    if (this.watermark.segment <= oldest.number) this.watermark = next;
    if (this.readPosition.segment <= oldest.number) this.readPosition = { ...next };
    // Records of the dropped segment still in flight no longer exist; their acks are ignored.
    for (let i = this.inFlight.length - 1; i >= 0; i--) {
      const entry = this.inFlight[i];
      if (entry && segmentOfId(entry.id) <= oldest.number) this.inFlight.splice(i, 1);
    }
    this.writeCursor();
  }

  /**
   * Overflow by thinning: rewrites the least-thinned of the oldest segments with every other
   * pending record. Segments with records in flight are left alone (their ids are positions).
   * Returns false when no segment can be thinned.
   */
  private thinOneSegment(): boolean {
    this.recent.clear();
    const busy = new Set(this.inFlight.map((e) => segmentOfId(e.id)));
    const candidates = this.segments
      .slice(0, -1)
      .filter((s) => !busy.has(s.number) && this.pendingIn(s) >= 2);
    const least = Math.min(...candidates.map((s) => s.thinned));
    const segment = candidates.find((s) => s.thinned === least);
    if (!segment) return false;
    const from = segment.number === this.watermark.segment ? this.watermark.offset : 0;
    const { kept, records, pending } = everyOtherFrame(this.readSegment(segment), from);
    const lost = pending - records;
    if (from > 0) {
      // Point the watermark at the start first: a crash before the rename then only repeats acked records.
      this.watermark = { segment: segment.number, offset: 0 };
      this.writeCursor();
    }
    if (this.readPosition.segment === segment.number)
      this.readPosition = { segment: segment.number, offset: 0 };
    rewriteSegment(segmentFile(this.options.dir, segment.number), kept);
    segment.bytes = kept.length;
    segment.records = records;
    segment.thinned += 1;
    this.dropped += lost;
    this.depthCount -= lost;
    this.writeCursor();
    this.options.onWarning?.(
      `disk limit of ${this.options.maxBytes} bytes reached: thinned segment ${segment.number} to every other record, dropped ${lost} of ${pending}`,
    );
    return true;
  }

  /**
   * Hands out up to `max` records after the ones already handed out, oldest first, stopping before
   * the first record `fits` refuses (how a sender fills a message up to a byte budget).
   */
  take(max: number, fits: (payload: Buffer) => boolean = () => true): QueuedRecord[] {
    const out: QueuedRecord[] = [];
    while (out.length < max) {
      const segment = this.segments.find((s) => s.number >= this.readPosition.segment);
      if (!segment) break;
      if (segment.number !== this.readPosition.segment)
        this.readPosition = { segment: segment.number, offset: 0 };
      if (this.readPosition.offset >= segment.bytes) {
        const next = this.segments.find((s) => s.number > segment.number);
        if (!next) break;
        this.readPosition = { segment: next.number, offset: 0 };
        continue;
      }
      let fd: number | undefined;
      try {
        while (out.length < max && this.readPosition.offset + HEADER_BYTES <= segment.bytes) {
          const id = idOf(this.readPosition);
          let frame = this.recent.get(id);
          if (!frame) {
            fd ??= openSync(segmentFile(this.options.dir, segment.number), 'r');
            frame = readFrameAt(fd, this.readPosition.offset);
          }
          const { number, payload, end } = frame;
          if (!fits(payload)) return out;
          this.readPosition = { segment: segment.number, offset: end };
          this.inFlight.push({ id, number, end: { ...this.readPosition }, acked: false });
          out.push({ id, number, payload });
        }
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    }
    return out;
  }

  /**
   * Takes back the last `count` records handed out and not acknowledged, to hand them out again
   * next (a sender that chose to wait for more).
   */
  untake(count: number): void {
    if (count <= 0) return;
    const returned = this.inFlight.slice(-count);
    const [first] = returned;
    if (returned.length !== count || !first || returned.some((entry) => entry.acked))
      throw new Error(`cannot take back ${count} records: only unacknowledged last-taken ones come back`);
    this.inFlight.length -= count;
    const [segment, offset] = first.id.split(':').map(Number);
    this.readPosition = { segment: segment ?? 0, offset: offset ?? 0 };
  }

  /** Acknowledges a record handed out by `take`; the watermark moves past every leading acknowledged record. */
  ack(id: string): void {
    const entry = this.inFlight.find((e) => e.id === id);
    if (!entry || entry.acked) return;
    entry.acked = true;
    this.depthCount -= 1;
    this.recent.forget(id);
    let moved = false;
    while (this.inFlight[0]?.acked) {
      const done = this.inFlight.shift();
      if (done) {
        this.watermark = done.end;
        this.acknowledgedNext = done.number + 1;
      }
      moved = true;
    }
    if (!moved) return;
    this.cursorDirty = true;
    const finished = (this.segments[0]?.number ?? Infinity) < this.watermark.segment;
    if (
      finished ||
      (this.options.now ?? Date.now)() - this.lastCursorWrite >= (this.options.cursorIntervalMs ?? 1000)
    )
      this.writeCursor();
    // Segments wholly below the watermark are done.
    while (this.segments.length > 1 && (this.segments[0]?.number ?? Infinity) < this.watermark.segment) {
      const done = this.segments.shift();
      if (done) unlinkSync(segmentFile(this.options.dir, done.number));
    }
  }

  /** Hands the unacknowledged in-flight records out again (after a reconnect), oldest first. */
  rewind(): void {
    const first = this.inFlight[0];
    if (!first) return;
    const [segment, offset] = first.id.split(':').map(Number);
    this.readPosition = { segment: segment ?? 0, offset: offset ?? 0 };
    // Records acknowledged out of order after `first` are handed out again (at least once): count them back.
    this.depthCount += this.inFlight.filter((entry) => entry.acked).length;
    this.inFlight.length = 0;
  }

  /** The oldest unacknowledged record, without handing it out (for its age). */
  peekOldest(): QueuedRecord | undefined {
    for (const segment of this.segments) {
      if (segment.number < this.watermark.segment) continue;
      const from = segment.number === this.watermark.segment ? this.watermark.offset : 0;
      if (from >= segment.bytes) continue;
      const fd = openSync(segmentFile(this.options.dir, segment.number), 'r');
      try {
        const { number, payload } = readFrameAt(fd, from);
        return { id: idOf({ segment: segment.number, offset: from }), number, payload };
      } finally {
        closeSync(fd);
      }
    }
    return undefined;
  }

  /** Records handed out and not yet acknowledged. */
  get inFlightCount(): number {
    return this.inFlight.filter((e) => !e.acked).length;
  }

  close(): void {
    if (this.cursorDirty) this.writeCursor();
    this.writer.close();
  }
}
