import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  truncateSync,
  writeSync,
  readSync,
} from 'node:fs';
import * as path from 'node:path';
import { fsyncPath, writeFileDurably } from './durable-file.ts';
import { withFileLock } from './file-lock.ts';
import { auditEventSchema, type AuditEvent, type AuditTrail } from '../../core/audit/audit-event.ts';
import {
  auditHeadSchema,
  chainEntry,
  readLoggedLine,
  verifyChain,
  type AuditEntry,
  type AuditHead,
  type AuditVerdict,
  type LoggedLine,
} from '../../core/audit/chain.ts';
import { issuesText } from '../../core/contracts/reasons.ts';

const LOG_FILE = 'audit.jsonl';
const HEAD_FILE = 'head.json';
const LOCK_FILE = 'audit.lock';

export class AuditLogTampered extends Error {
  override readonly name = 'AuditLogTampered';
}

/**
 * The local audit trail: an append-only JSON Lines file in which each entry carries the hash of
 * the one before (`<dataDir>/audit/audit.jsonl`), and a head file with the last entry's number and
 * hash, so an entry cut off the end shows. An event is recorded once both are on disk (fsync):
 * acknowledged means kept. The runtime and the CLI may both append: a lock file serialises them.
 */
export class FileAuditLog implements AuditTrail {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string) {}

  static inDataDir(dataDir: string): FileAuditLog {
    return new FileAuditLog(path.join(dataDir, 'audit'));
  }

  get file(): string {
    return path.join(this.dir, LOG_FILE);
  }

  record(event: AuditEvent): Promise<void> {
    const checked = auditEventSchema.safeParse(event);
    if (!checked.success) {
      return Promise.reject(new Error(`not an audit event: ${issuesText(checked.error.issues)}`));
    }
    const next = this.queue.then(() => this.append(checked.data));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async append(event: AuditEvent): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    await withFileLock(path.join(this.dir, LOCK_FILE), () => {
      const last = this.lastEntry();
      const head = this.head();
      // A head ahead of the log means entries were cut off its end: appending would hide that.
      if (head && head.seq > (last?.seq ?? 0)) {
        throw new AuditLogTampered(
          `the audit log ends at entry ${last?.seq ?? 0} but its head records entry ${head.seq}: it was cut short. Nothing was recorded; run "aiot audit verify"`,
        );
      }
      const entry = chainEntry(last && { seq: last.seq, hash: last.hash }, event);
      const fd = openSync(this.file, 'a');
      try {
        writeSync(fd, `${JSON.stringify(entry)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      const headFile = path.join(this.dir, HEAD_FILE);
      writeFileDurably(headFile, JSON.stringify({ seq: entry.seq, hash: entry.hash }));
      fsyncPath(this.dir);
    });
  }

  /**
   * The last whole entry. A line without its newline was being written when the process died:
   * it was never acknowledged, so it is cut off before the next append.
   */
  private lastEntry(): AuditEntry | undefined {
    if (!existsSync(this.file)) return undefined;
    const size = statSync(this.file).size;
    if (size === 0) return undefined;
    const length = Math.min(size, 1024 * 1024);
    const buffer = Buffer.alloc(length);
    const fd = openSync(this.file, 'r');
    try {
      readSync(fd, buffer, 0, length, size - length);
    } finally {
      closeSync(fd);
    }
    let text = buffer.toString('utf8');
    if (!text.endsWith('\n')) {
      const cut = text.lastIndexOf('\n');
      truncateSync(this.file, size - (length - (cut + 1)));
      text = text.slice(0, cut + 1);
    }
    const lastLine = text.trimEnd().split('\n').at(-1);
    if (!lastLine) return undefined;
    const read = readLoggedLine(lastLine, 0);
    if ('unreadable' in read) {
      throw new AuditLogTampered(
        `the audit log's last line is not an entry (${read.unreadable}): nothing was recorded; run "aiot audit verify"`,
      );
    }
    return read.entry;
  }

  private head(): AuditHead | undefined {
    const file = path.join(this.dir, HEAD_FILE);
    if (!existsSync(file)) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new AuditLogTampered(`${file} is not JSON: the audit log's head was edited`);
    }
    const parsed = auditHeadSchema.safeParse(json);
    if (!parsed.success) throw new AuditLogTampered(`${file} is not a head record: it was edited`);
    return parsed.data;
  }

  /** Every line of the log, read back as entries or as text that is not one. */
  lines(): LoggedLine[] {
    if (!existsSync(this.file)) return [];
    return readFileSync(this.file, 'utf8')
      .split('\n')
      .flatMap((text, index) => (text === '' ? [] : [readLoggedLine(text, index + 1)]));
  }

  entries(): AuditEntry[] {
    return this.lines().flatMap((l) => ('entry' in l ? [l.entry] : []));
  }

  verify(): AuditVerdict {
    let head: AuditHead | undefined;
    try {
      head = this.head();
    } catch (error) {
      return { intact: false, problem: 'edited', line: 0, seq: null, message: (error as Error).message };
    }
    return verifyChain(this.lines(), head);
  }
}
