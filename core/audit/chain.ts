import { z } from 'zod';
import { auditEventSchema, canonicalJson, sha256, type AuditEvent } from './audit-event.ts';

/** An event as the log keeps it: numbered, and bound to the entry before it by that entry's hash. */
export interface AuditEntry extends AuditEvent {
  /** 1, 2, 3, ... in the order the events were recorded. */
  readonly seq: number;
  /** The hash of the entry before; GENESIS for the first. */
  readonly prevHash: string;
  /** SHA-256 of this entry's content (everything but `hash`), which includes `prevHash`. */
  readonly hash: string;
}

/** Where a log's last entry is recorded apart from the log, so cutting entries off its end shows. */
export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

export const GENESIS = '0'.repeat(64);

function hashOf(entry: Omit<AuditEntry, 'hash'>): string {
  return sha256(canonicalJson(entry));
}

/** The entry that follows `previous` (or starts the log). */
export function chainEntry(previous: AuditHead | undefined, event: AuditEvent): AuditEntry {
  const content = { ...event, seq: (previous?.seq ?? 0) + 1, prevHash: previous?.hash ?? GENESIS };
  return { ...content, hash: hashOf(content) };
}

export const auditEntrySchema = auditEventSchema.extend({
  seq: z.int().min(1),
  prevHash: z.string().regex(/^[0-9a-f]{64}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});

export const auditHeadSchema = z.strictObject({ seq: z.int().min(0), hash: z.string() });

/** Reads one line of a log; anything that is not a whole entry is `unreadable`, with why. */
export function readLoggedLine(text: string, line: number): LoggedLine {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { line, unreadable: 'not JSON' };
  }
  const parsed = auditEntrySchema.safeParse(json);
  return parsed.success
    ? { line, entry: parsed.data }
    : { line, unreadable: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
}

/** One line of the log as read back: an entry, or text that is not one. */
export type LoggedLine =
  | { readonly line: number; readonly entry: AuditEntry }
  | { readonly line: number; readonly unreadable: string };

export type AuditVerdict =
  | { readonly intact: true; readonly entries: number; readonly head: AuditHead | undefined }
  | {
      readonly intact: false;
      readonly problem: 'edited' | 'removed' | 'reordered' | 'truncated';
      /** The first entry (by its line in the log) at which the chain breaks. */
      readonly line: number;
      readonly seq: number | null;
      readonly message: string;
    };

/**
 * Checks a log against itself and against its head: each entry's hash matches its content, each
 * follows the one before, and the log reaches the head. Names the first entry that was edited,
 * removed, reordered, or where the log was cut short.
 */
export function verifyChain(lines: readonly LoggedLine[], head: AuditHead | undefined): AuditVerdict {
  let previous: AuditEntry | undefined;
  for (const item of lines) {
    const broken = checkLine(item, previous, lines);
    if (broken) return broken;
    if ('entry' in item) previous = item.entry;
  }
  return (
    checkHead(head, previous, lines.length) ?? {
      intact: true,
      entries: previous?.seq ?? 0,
      head: previous && { seq: previous.seq, hash: previous.hash },
    }
  );
}

type Broken = Extract<AuditVerdict, { intact: false }>;

/** One line against its own content and the entry before it. */
function checkLine(
  item: LoggedLine,
  previous: AuditEntry | undefined,
  lines: readonly LoggedLine[],
): Broken | undefined {
  if ('unreadable' in item) {
    return {
      intact: false,
      problem: 'edited',
      line: item.line,
      seq: previous ? previous.seq + 1 : 1,
      message: `line ${item.line} is not an audit entry (edited): ${item.unreadable}`,
    };
  }
  const { entry, line } = item;
  const { hash, ...content } = entry;
  if (hashOf(content) !== hash) {
    return {
      intact: false,
      problem: 'edited',
      line,
      seq: entry.seq,
      message: `entry ${entry.seq} (line ${line}) was edited: its hash does not match its content`,
    };
  }
  const expected = (previous?.seq ?? 0) + 1;
  if (entry.seq > expected) return gapAt(entry, line, expected, lines);
  if (entry.seq < expected) {
    return {
      intact: false,
      problem: 'reordered',
      line,
      seq: entry.seq,
      message: `entry ${entry.seq} (line ${line}) is out of order: it comes after entry ${expected - 1}`,
    };
  }
  if (entry.prevHash !== (previous?.hash ?? GENESIS)) {
    // The entry is whole and in its place, so the one before it is not the one it was chained to.
    return {
      intact: false,
      problem: 'edited',
      line: line - 1,
      seq: previous?.seq ?? null,
      message: `entry ${previous?.seq ?? 0} (line ${line - 1}) was replaced: entry ${entry.seq} was chained to another`,
    };
  }
  return undefined;
}

/** Entries missing before this one: moved when they turn up later in the log, removed when not. */
function gapAt(entry: AuditEntry, line: number, expected: number, lines: readonly LoggedLine[]): Broken {
  const movedLater = lines.some(
    (other) => 'entry' in other && other.line > line && other.entry.seq === expected,
  );
  const gap =
    entry.seq - expected > 1 ? `entries ${expected} to ${entry.seq - 1} were` : `entry ${expected} was`;
  return {
    intact: false,
    problem: movedLater ? 'reordered' : 'removed',
    line,
    seq: entry.seq,
    message: movedLater
      ? `entry ${entry.seq} (line ${line}) is out of order: entry ${expected} should come here`
      : `${gap} removed before entry ${entry.seq} (line ${line})`,
  };
}

/** The log's last entry against the head kept apart from it: cut short, or its last entry replaced. */
function checkHead(
  head: AuditHead | undefined,
  last: AuditEntry | undefined,
  count: number,
): Broken | undefined {
  if (head && head.seq > (last?.seq ?? 0)) {
    return {
      intact: false,
      problem: 'truncated',
      line: count + 1,
      seq: (last?.seq ?? 0) + 1,
      message: `the log was cut short: it ends at entry ${last?.seq ?? 0}, its head records entry ${head.seq}`,
    };
  }
  if (head && last && head.seq === last.seq && head.hash !== last.hash) {
    return {
      intact: false,
      problem: 'edited',
      line: count,
      seq: last.seq,
      message: `entry ${last.seq} (line ${count}) is not the one its head records: it was replaced`,
    };
  }
  return undefined;
}
