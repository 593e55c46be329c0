import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf, type AuditEvent } from '../../core/audit/audit-event.ts';
import { FileAuditLog } from '../../local/files/audit-log.ts';

let dir: string;
let log: FileAuditLog;

function event(n: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    kind: 'silence-set',
    actor: { name: 'dana', role: 'reliability-engineer' },
    at: 1_768_465_800_000 + n * 1000,
    useCase: 'pump-maintenance',
    subject: `device pump-00${n}`,
    before: null,
    after: digestOf({ n }),
    reason: `planned maintenance ${n}`,
    details: { until: '2026-01-16T06:00:00Z' },
    ...overrides,
  };
}

const lines = () => readFileSync(log.file, 'utf8').trimEnd().split('\n');
const rewrite = (next: string[]) => {
  writeFileSync(log.file, `${next.join('\n')}\n`);
};

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiot-audit-'));
  log = FileAuditLog.inDataDir(dir);
  for (let n = 1; n <= 5; n++) await log.record(event(n));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the local audit log', () => {
  it('GIVEN five recorded changes THEN the chain is intact and each entry is bound to the one before', () => {
    expect(log.verify()).toMatchObject({ intact: true, entries: 5 });
    const entries = log.entries();
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[1]?.prevHash).toBe(entries[0]?.hash);
    expect(entries[0]?.prevHash).toBe('0'.repeat(64));
  });

  it('GIVEN an entry edited in place THEN verify names it', () => {
    rewrite(lines().map((l, i) => (i === 2 ? l.replace('planned maintenance 3', 'nothing to see') : l)));
    expect(log.verify()).toMatchObject({ intact: false, problem: 'edited', seq: 3, line: 3 });
  });

  it('GIVEN an entry edited and its hash recomputed THEN the next entry gives it away', async () => {
    // An editor who knows the scheme can rehash the entry, but not the chain after it.
    const other = FileAuditLog.inDataDir(mkdtempSync(path.join(tmpdir(), 'aiot-audit-forge-')));
    for (let n = 1; n <= 2; n++) await other.record(event(n));
    await other.record(event(3, { reason: 'nothing to see' }));
    const forged = readFileSync(other.file, 'utf8').trimEnd().split('\n')[2] ?? '';
    rewrite(lines().map((l, i) => (i === 2 ? forged : l)));
    expect(log.verify()).toMatchObject({ intact: false, problem: 'edited', seq: 3, line: 3 });
    expect(log.verify()).toHaveProperty(
      'message',
      'entry 3 (line 3) was replaced: entry 4 was chained to another',
    );
    rmSync(other.dir, { recursive: true, force: true });
  });

  it('GIVEN an entry deleted THEN verify names the one that went missing', () => {
    rewrite(lines().filter((_, i) => i !== 1));
    expect(log.verify()).toMatchObject({
      intact: false,
      problem: 'removed',
      seq: 3,
      message: 'entry 2 was removed before entry 3 (line 2)',
    });
  });

  it('GIVEN two entries swapped THEN verify says they were reordered', () => {
    const [a, b, c, d, e] = lines();
    rewrite([a, c, b, d, e].map(String));
    expect(log.verify()).toMatchObject({ intact: false, problem: 'reordered', line: 2, seq: 3 });
  });

  it('GIVEN entries cut off the end THEN verify says so, and nothing more is appended to hide it', async () => {
    rewrite(lines().slice(0, 3));
    expect(log.verify()).toMatchObject({
      intact: false,
      problem: 'truncated',
      message: 'the log was cut short: it ends at entry 3, its head records entry 5',
    });
    await expect(log.record(event(6))).rejects.toThrow(/it was cut short\. Nothing was recorded/);
    expect(lines()).toHaveLength(3);
  });

  it('GIVEN a line that is not an entry THEN verify names its line', () => {
    rewrite(lines().map((l, i) => (i === 3 ? '{"kind":"silence-set"}' : l)));
    expect(log.verify()).toMatchObject({ intact: false, problem: 'edited', line: 4 });
  });

  it('GIVEN a write cut short by a crash THEN the half line (never acknowledged) is dropped and the chain goes on', async () => {
    appendFileSync(log.file, '{"kind":"silence-set","actor":');
    await log.record(event(6));
    expect(log.verify()).toMatchObject({ intact: true, entries: 6 });
  });

  it('GIVEN two writers at once THEN every event is kept once, in one chain', async () => {
    const second = FileAuditLog.inDataDir(dir);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? log : second).record(event(10 + i))),
    );
    expect(log.verify()).toMatchObject({ intact: true, entries: 25 });
  });

  it('GIVEN an event that is not one THEN it is refused and nothing is written', async () => {
    await expect(log.record({ ...event(7), reason: 'x'.repeat(2000) })).rejects.toThrow(
      /not an audit event: reason/,
    );
    expect(lines()).toHaveLength(5);
  });
});
