import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
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

/**
 * The disk queue's files: segments of framed records, and the cursor of what was acknowledged.
 * A frame is its payload's length, a CRC32 and the record's number ahead of the payload, so a write
 * torn by a crash or power loss fails its check at the next open.
 */

// length u32 | crc32 of the rest u32 | record number, low and high u32 | payload
export const HEADER_BYTES = 16;
export const SEGMENT_SUFFIX = '.seg';
const CURSOR_FILE = 'cursor.json';
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
const TWO_32 = 2 ** 32;

export interface Position {
  segment: number;
  offset: number;
}

export interface Cursor extends Position {
  /** Number of the record after the last acknowledged one. */
  next: number;
  dropped: number;
}

export interface Segment {
  readonly number: number;
  bytes: number;
  records: number;
  /** How many times thinning halved this segment. */
  thinned: number;
}

export interface Frame {
  readonly offset: number;
  readonly end: number;
  readonly number: number;
}

export function segmentFile(dir: string, number: number): string {
  return path.join(dir, `${String(number).padStart(12, '0')}${SEGMENT_SUFFIX}`);
}

export function idOf(position: Position): string {
  return `${position.segment}:${position.offset}`;
}

export function segmentOfId(id: string): number {
  return Number(id.slice(0, id.indexOf(':')));
}

export function encodeFrame(number: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(number % TWO_32, 8);
  frame.writeUInt32LE(Math.floor(number / TWO_32), 12);
  payload.copy(frame, HEADER_BYTES);
  frame.writeUInt32LE(crc32(frame.subarray(8)), 4);
  return frame;
}

/** The valid frames of a segment from `from`, stopping at the first one that fails its length or checksum. */
export function* framesOf(data: Buffer, from = 0): Generator<Frame> {
  let offset = from;
  while (offset + HEADER_BYTES <= data.length) {
    const length = data.readUInt32LE(offset);
    const end = offset + HEADER_BYTES + length;
    if (length > MAX_RECORD_BYTES || end > data.length) return;
    if (crc32(data.subarray(offset + 8, end)) !== data.readUInt32LE(offset + 4)) return;
    yield {
      offset,
      end,
      number: data.readUInt32LE(offset + 8) + data.readUInt32LE(offset + 12) * TWO_32,
    };
    offset = end;
  }
}

/** Reads the frame at `offset` of an open segment (already validated at open or written by us). */
export function readFrameAt(fd: number, offset: number): { number: number; payload: Buffer; end: number } {
  const header = Buffer.alloc(HEADER_BYTES);
  readSync(fd, header, 0, HEADER_BYTES, offset);
  const payload = Buffer.alloc(header.readUInt32LE(0));
  readSync(fd, payload, 0, payload.length, offset + HEADER_BYTES);
  return {
    number: header.readUInt32LE(8) + header.readUInt32LE(12) * TWO_32,
    payload,
    end: offset + HEADER_BYTES + payload.length,
  };
}

/** The acknowledged watermark of a queue folder, or the start of an empty one. */
export function readCursor(dir: string): Cursor {
  const file = path.join(dir, CURSOR_FILE);
  if (!existsSync(file)) return { segment: 0, offset: 0, next: 0, dropped: 0 };
  const cursor = JSON.parse(readFileSync(file, 'utf8')) as Partial<Cursor>;
  return {
    segment: cursor.segment ?? 0,
    offset: cursor.offset ?? 0,
    next: cursor.next ?? 0,
    dropped: cursor.dropped ?? 0,
  };
}

/** Writes the cursor atomically: a crash leaves the old one or the new one, never half of either. */
export function writeCursor(dir: string, cursor: Cursor): void {
  const file = path.join(dir, CURSOR_FILE);
  writeFileSync(`${file}.tmp`, JSON.stringify(cursor));
  renameSync(`${file}.tmp`, file);
}

/** Replaces a segment's content atomically and durably (fsync before the rename). */
export function rewriteSegment(file: string, content: Buffer): void {
  const fd = openSync(`${file}.tmp`, 'w');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(`${file}.tmp`, file);
}

/**
 * The segments of a queue folder at open, each record validated: a torn tail is truncated (and
 * counted), segments wholly below the watermark (acknowledged before a crash) and a thinning's
 * leftover are deleted. Answers the segments in order and the last record number (-1 for none).
 */
export function recoverSegments(
  dir: string,
  watermarkSegment: number,
  onWarning: ((message: string) => void) | undefined,
): { segments: Segment[]; lastNumber: number; corrupt: number } {
  const names = readdirSync(dir);
  for (const name of names.filter((n) => n.endsWith(`${SEGMENT_SUFFIX}.tmp`)))
    unlinkSync(path.join(dir, name)); // a thinning interrupted before its rename
  const numbers = names
    .filter((name) => name.endsWith(SEGMENT_SUFFIX))
    .map((name) => Number(name.slice(0, -SEGMENT_SUFFIX.length)))
    .sort((a, b) => a - b);
  const segments: Segment[] = [];
  let lastNumber = -1;
  let corrupt = 0;
  for (const number of numbers) {
    const file = segmentFile(dir, number);
    if (number < watermarkSegment) {
      unlinkSync(file); // acknowledged before the crash, deletion interrupted
      continue;
    }
    const data = readFileSync(file);
    let validEnd = 0;
    let records = 0;
    for (const frame of framesOf(data)) {
      validEnd = frame.end;
      records += 1;
      lastNumber = Math.max(lastNumber, frame.number);
    }
    if (validEnd < data.length) {
      corrupt += 1;
      onWarning?.(
        `segment ${path.basename(file)}: ${data.length - validEnd} bytes after offset ${validEnd} fail their checksum (torn write); skipped`,
      );
      const fd = openSync(file, 'r+');
      ftruncateSync(fd, validEnd);
      closeSync(fd);
    }
    segments.push({ number, bytes: validEnd, records, thinned: 0 });
  }
  return { segments, lastNumber, corrupt };
}

/** Every other frame of a segment from `from`: what thinning keeps, and how many there were. */
export function everyOtherFrame(
  data: Buffer,
  from: number,
): { kept: Buffer; records: number; pending: number } {
  const kept: Buffer[] = [];
  let pending = 0;
  for (const frame of framesOf(data, from)) {
    if (pending % 2 === 0) kept.push(data.subarray(frame.offset, frame.end));
    pending += 1;
  }
  return { kept: Buffer.concat(kept), records: kept.length, pending };
}

export interface QueuedRecord {
  /** Position of the record: `<segment>:<offset>`. */
  readonly id: string;
  /** Number the queue gave the record at append: increasing by one per append, across restarts. */
  readonly number: number;
  readonly payload: Buffer;
}

export interface DiskQueueStats {
  /** Records appended and not yet acknowledged (in flight included). */
  readonly depth: number;
  readonly bytes: number;
  readonly segments: number;
  /** Records lost to overflow since the queue was created (kept across restarts). */
  readonly dropped: number;
  /** Torn writes found at open (each one is a record whose append never returned). */
  readonly corrupt: number;
}
