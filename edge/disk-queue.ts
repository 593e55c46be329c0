import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';

/** When appended records reach the disk: after every append, at most every N ms, or when the OS decides. */
export type FsyncPolicy = 'always' | 'never' | { readonly everyMs: number };

export interface DiskQueueOptions {
  readonly dir: string;
  /** Bound on the bytes of all segments; past it the overflow policy applies. */
  readonly maxBytes: number;
  /** Size at which a new segment starts. @default min(1 MiB, maxBytes / 4) */
  readonly segmentBytes?: number;
  /** @default 'always' */
  readonly fsync?: FsyncPolicy;
  /** Told about every record lost to a torn write or to overflow. */
  readonly onWarning?: (message: string) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface QueuedRecord {
  /** Position of the record: `<segment>:<offset>`. */
  readonly id: string;
  readonly payload: Buffer;
}

export interface DiskQueueStats {
  /** Records appended and not yet acknowledged (in flight included). */
  readonly depth: number;
  readonly bytes: number;
  readonly segments: number;
  /** Records lost to overflow since open. */
  readonly dropped: number;
  /** Records skipped at open because their checksum or length was wrong (torn writes). */
  readonly corrupt: number;
}

const HEADER_BYTES = 8;
const SEGMENT_SUFFIX = '.seg';
const CURSOR_FILE = 'cursor.json';
const MAX_RECORD_BYTES = 16 * 1024 * 1024;

interface Position {
  segment: number;
  offset: number;
}

interface Segment {
  readonly number: number;
  bytes: number;
  records: number;
}

function segmentFile(dir: string, number: number): string {
  return path.join(dir, `${String(number).padStart(12, '0')}${SEGMENT_SUFFIX}`);
}

function idOf(position: Position): string {
  return `${position.segment}:${position.offset}`;
}

/**
 * A disk-backed FIFO for store-and-forward: append-only segment files, each record framed by its
 * length and a CRC32, so a write torn by a crash or power loss is detected and skipped at the next
 * open. Records leave the disk only when acknowledged (after the broker's PUBACK): acks move a
 * watermark, persisted atomically, and segments wholly below it are deleted. After a crash the
 * records after the last persisted watermark are read again (at least once). Memory holds only
 * the records handed out and not yet acknowledged, never the backlog.
 */
export class DiskQueue {
  private readonly segments: Segment[] = [];
  private writeFd: number;
  private readonly segmentBytes: number;
  private readPosition: Position;
  private watermark: Position;
  private readonly inFlight: { id: string; end: Position; acked: boolean }[] = [];
  private dropped = 0;
  private corrupt = 0;
  private depthCount = 0;
  private lastSync = 0;
  private dirty = false;

  private constructor(private readonly options: DiskQueueOptions) {
    const segmentBytes = options.segmentBytes ?? Math.min(1024 * 1024, Math.floor(options.maxBytes / 4));
    if (!(options.maxBytes > 0) || segmentBytes < HEADER_BYTES + 1 || segmentBytes * 2 > options.maxBytes) {
      throw new Error(
        `maxBytes must hold at least two segments: got maxBytes ${options.maxBytes} and segmentBytes ${segmentBytes}`,
      );
    }
    this.segmentBytes = segmentBytes;
    mkdirSync(options.dir, { recursive: true });
    this.watermark = this.readCursor();
    this.recoverSegments();
    // A watermark at the end of a segment that was rolled away points at the next one that exists.
    const resume = this.segments.find((s) => s.number >= this.watermark.segment);
    if (resume && resume.number !== this.watermark.segment)
      this.watermark = { segment: resume.number, offset: 0 };
    this.readPosition = { ...this.watermark };
    const last = this.segments[this.segments.length - 1];
    // Appends always go to a fresh segment: a recovered segment may end in a torn record.
    const next = (last?.number ?? this.watermark.segment) + 1;
    this.segments.push({ number: next, bytes: 0, records: 0 });
    this.writeFd = openSync(segmentFile(options.dir, next), 'a');
    if (this.segments.length === 1) this.readPosition = this.watermark = { segment: next, offset: 0 };
    this.depthCount = this.countFrom(this.watermark);
  }

  static open(options: DiskQueueOptions): DiskQueue {
    return new DiskQueue(options);
  }

  private readCursor(): Position {
    const file = path.join(this.options.dir, CURSOR_FILE);
    if (!existsSync(file)) return { segment: 0, offset: 0 };
    const cursor = JSON.parse(readFileSync(file, 'utf8')) as Position;
    return { segment: cursor.segment, offset: cursor.offset };
  }

  private writeCursor(): void {
    const file = path.join(this.options.dir, CURSOR_FILE);
    writeFileSync(`${file}.tmp`, JSON.stringify(this.watermark));
    renameSync(`${file}.tmp`, file);
  }

  /** Validates every record of the existing segments, truncating a torn tail. */
  private recoverSegments(): void {
    const numbers = readdirSync(this.options.dir)
      .filter((name) => name.endsWith(SEGMENT_SUFFIX))
      .map((name) => Number(name.slice(0, -SEGMENT_SUFFIX.length)))
      .sort((a, b) => a - b);
    for (const number of numbers) {
      const file = segmentFile(this.options.dir, number);
      if (number < this.watermark.segment) {
        unlinkSync(file); // acknowledged before the crash, deletion interrupted
        continue;
      }
      const data = readFileSync(file);
      let offset = 0;
      let records = 0;
      while (offset + HEADER_BYTES <= data.length) {
        const length = data.readUInt32LE(offset);
        const checksum = data.readUInt32LE(offset + 4);
        const end = offset + HEADER_BYTES + length;
        if (
          length > MAX_RECORD_BYTES ||
          end > data.length ||
          crc32(data.subarray(offset + HEADER_BYTES, end)) !== checksum
        )
          break;
        offset = end;
        records += 1;
      }
      if (offset < data.length) {
        this.corrupt += 1;
        this.options.onWarning?.(
          `segment ${path.basename(file)}: ${data.length - offset} bytes after offset ${offset} fail their checksum (torn write); skipped`,
        );
        const fd = openSync(file, 'r+');
        ftruncateSync(fd, offset);
        closeSync(fd);
      }
      this.segments.push({ number, bytes: offset, records });
    }
  }

  /** Records from `from` to the end of the queue (used once, at open). */
  private countFrom(from: Position): number {
    let count = 0;
    for (const segment of this.segments) {
      if (segment.number < from.segment) continue;
      if (segment.number > from.segment || from.offset === 0) {
        count += segment.records;
        continue;
      }
      const data = readFileSync(segmentFile(this.options.dir, segment.number));
      for (
        let offset = from.offset;
        offset + HEADER_BYTES <= segment.bytes;
        offset += HEADER_BYTES + data.readUInt32LE(offset)
      )
        count += 1;
    }
    return count;
  }

  get stats(): DiskQueueStats {
    return {
      depth: this.depthCount,
      bytes: this.segments.reduce((sum, s) => sum + s.bytes, 0),
      segments: this.segments.length,
      dropped: this.dropped,
      corrupt: this.corrupt,
    };
  }

  /** Appends one record; once this returns (with fsync 'always'), it survives a crash. */
  append(payload: Buffer): void {
    if (payload.length === 0 || payload.length > MAX_RECORD_BYTES) {
      throw new Error(`a record must hold 1 to ${MAX_RECORD_BYTES} bytes, got ${payload.length}`);
    }
    const frame = Buffer.alloc(HEADER_BYTES + payload.length);
    frame.writeUInt32LE(payload.length, 0);
    frame.writeUInt32LE(crc32(payload), 4);
    payload.copy(frame, HEADER_BYTES);
    let current = this.segments[this.segments.length - 1];
    if (current && current.bytes > 0 && current.bytes + frame.length > this.segmentBytes)
      current = this.roll();
    while (this.stats.bytes + frame.length > this.options.maxBytes && this.segments.length > 1)
      this.dropOldestSegment();
    writeSync(this.writeFd, frame);
    if (current) {
      current.bytes += frame.length;
      current.records += 1;
    }
    this.depthCount += 1;
    this.sync();
  }

  private sync(): void {
    const policy = this.options.fsync ?? 'always';
    if (policy === 'never') return;
    const now = (this.options.now ?? Date.now)();
    if (policy === 'always' || now - this.lastSync >= policy.everyMs) {
      fsyncSync(this.writeFd);
      this.lastSync = now;
      this.dirty = false;
    } else this.dirty = true;
  }

  private roll(): Segment {
    if (this.dirty) fsyncSync(this.writeFd);
    closeSync(this.writeFd);
    const next = { number: (this.segments[this.segments.length - 1]?.number ?? 0) + 1, bytes: 0, records: 0 };
    this.segments.push(next);
    this.writeFd = openSync(segmentFile(this.options.dir, next.number), 'a');
    return next;
  }

  /** Overflow: the oldest segment goes, and every record in it that was not acknowledged is counted as dropped. */
  private dropOldestSegment(): void {
    const oldest = this.segments.shift();
    if (!oldest) return;
    const ackedInside = this.inFlight.filter(
      (e) => e.acked && Number(e.id.split(':')[0]) === oldest.number,
    ).length;
    const lost =
      (oldest.number === this.watermark.segment
        ? this.countInSegmentFrom(oldest, this.watermark.offset)
        : oldest.records) - ackedInside;
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
      if (Number(this.inFlight[i]?.id.split(':')[0]) <= oldest.number) this.inFlight.splice(i, 1);
    }
    this.writeCursor();
  }

  private countInSegmentFrom(segment: Segment, from: number): number {
    if (from === 0) return segment.records;
    const data = readFileSync(segmentFile(this.options.dir, segment.number));
    let count = 0;
    for (
      let offset = from;
      offset + HEADER_BYTES <= segment.bytes;
      offset += HEADER_BYTES + data.readUInt32LE(offset)
    )
      count += 1;
    return count;
  }

  /** Hands out up to `max` records after the ones already handed out, oldest first. */
  take(max: number): QueuedRecord[] {
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
      const fd = openSync(segmentFile(this.options.dir, segment.number), 'r');
      try {
        while (out.length < max && this.readPosition.offset + HEADER_BYTES <= segment.bytes) {
          const header = Buffer.alloc(HEADER_BYTES);
          readSync(fd, header, 0, HEADER_BYTES, this.readPosition.offset);
          const length = header.readUInt32LE(0);
          const payload = Buffer.alloc(length);
          readSync(fd, payload, 0, length, this.readPosition.offset + HEADER_BYTES);
          const id = idOf(this.readPosition);
          this.readPosition = {
            segment: segment.number,
            offset: this.readPosition.offset + HEADER_BYTES + length,
          };
          this.inFlight.push({ id, end: { ...this.readPosition }, acked: false });
          out.push({ id, payload });
        }
      } finally {
        closeSync(fd);
      }
    }
    return out;
  }

  /** Acknowledges a record handed out by `take`; the watermark moves past every leading acknowledged record. */
  ack(id: string): void {
    const entry = this.inFlight.find((e) => e.id === id);
    if (!entry || entry.acked) return;
    entry.acked = true;
    this.depthCount -= 1;
    let moved = false;
    while (this.inFlight[0]?.acked) {
      const done = this.inFlight.shift();
      if (done) this.watermark = done.end;
      moved = true;
    }
    if (!moved) return;
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

  close(): void {
    if (this.dirty) fsyncSync(this.writeFd);
    closeSync(this.writeFd);
  }
}
