import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pumpTelemetryV1, repoContracts } from '../support/contracts.ts';
import type { QuarantineEntry } from '../../core/ingest/ports.ts';
import { toTelemetryRecord } from '../../core/ingest/records.ts';
import { ROW_GROUP_ROWS } from '../../local/store/duckdb-open.ts';
import { DuckDbStore } from '../../local/store/duckdb-store.ts';
import { reading } from '../support/messages.ts';

let store: DuckDbStore;
const measureColumns = repoContracts.measureColumns().map((m) => m.column);
const record = (overrides: Parameters<typeof reading>[0] = {}) =>
  toTelemetryRecord(
    'pump-maintenance',
    pumpTelemetryV1,
    reading(overrides) as Parameters<typeof toTelemetryRecord>[2],
  );

beforeEach(async () => {
  store = await DuckDbStore.open(':memory:', { measureColumns });
});

afterEach(async () => {
  await store.close();
});

describe('DuckDbStore', () => {
  it('keeps the telemetry table shaped like the Timestream one', async () => {
    const { columns } = await store.query('SELECT * FROM telemetry LIMIT 0');
    expect(columns).toEqual(
      expect.arrayContaining([
        'use_case',
        'device_id',
        'firmware',
        'hardware_generation',
        'measure_name',
        'time',
        'seq',
        'motor_current',
        'flow_rate',
      ]),
    );
  });

  it('GIVEN a checkpoint threshold THEN the store checkpoints at it, and a size DuckDB would not take is refused by name', async () => {
    const tuned = await DuckDbStore.open(':memory:', { measureColumns, checkpointThreshold: '256MiB' });
    try {
      const { rows } = await tuned.query("SELECT current_setting('checkpoint_threshold') AS threshold");
      expect(rows).toEqual([{ threshold: '256.0 MiB' }]);
    } finally {
      await tuned.close();
    }
    await expect(DuckDbStore.open(':memory:', { checkpointThreshold: '256; DROP TABLE x' })).rejects.toThrow(
      'checkpointThreshold must be a size like "16MiB" or "1GB", got "256; DROP TABLE x"',
    );
  });

  it('GIVEN more readings than a row group holds WHEN the store checkpoints THEN they are in small row groups, so a checkpoint rewrites little', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aiot-rowgroups-'));
    const file = path.join(dir, 'local.duckdb');
    try {
      const written = await DuckDbStore.open(file, { measureColumns });
      const rows = 3 * ROW_GROUP_ROWS;
      await written.write(
        Array.from({ length: rows }, (_, i) =>
          record({ seq: i, timestamp: new Date(Date.UTC(2026, 0, 15) + i * 1000).toISOString() }),
        ),
      );
      await written.withWriter((c) => c.run('CHECKPOINT'));
      const { rows: groups } = await written.query(
        "SELECT count(DISTINCT row_group_id)::INTEGER AS n FROM pragma_storage_info('telemetry')",
      );
      expect(groups).toEqual([{ n: 3 }]);
      await written.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('GIVEN a new contract file WHEN the store opens again THEN its measures are new columns and old rows keep theirs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aiot-columns-'));
    const file = path.join(dir, 'local.duckdb');
    try {
      const before = await DuckDbStore.open(file, { measureColumns });
      await before.write([record()]);
      await before.close();
      const after = await DuckDbStore.open(file, { measureColumns: [...measureColumns, 'fan_speed'] });
      expect((await after.query('SELECT motor_current, fan_speed FROM telemetry')).rows).toEqual([
        { motor_current: 1.35, fan_speed: null },
      ]);
      await after.close();
      // A reader, or a runtime whose contracts no longer name a column, still reads it.
      const reader = await DuckDbStore.open(file, { readOnly: true });
      expect(
        (await reader.readings('pump-maintenance', 'pump-001', { from: 0 }, 10, 'reader'))[0]?.measures,
      ).toMatchObject({
        motor_current: 1.35,
      });
      await reader.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('treats an identical rewrite as a duplicate and a changed value as a rejection, like Timestream', async () => {
    expect(await store.write([record(), record({ seq: 1, timestamp: '2026-01-15T08:30:01.000Z' })])).toEqual([
      { status: 'stored' },
      { status: 'stored' },
    ]);
    const changed = { ...record(), measures: { ...record().measures, motor_current: 9 } };
    const outcomes = await store.write([record(), changed]);
    expect(outcomes[0]).toEqual({ status: 'duplicate' });
    expect(outcomes[1]).toEqual({
      status: 'rejected',
      reason: 'a record for pump-001 at 2026-01-15T08:30:00.000Z already exists with different values',
    });
    const { rows } = await store.query(
      'SELECT count(*)::INTEGER AS n, max(motor_current) AS current FROM telemetry',
    );
    expect(rows).toEqual([{ n: 2, current: 1.35 }]);
  });

  it('keeps a quarantined message with its reasons and readable payload, once per id', async () => {
    const entry: QuarantineEntry = {
      id: 'abc',
      stage: 'validation',
      useCase: 'pump-maintenance',
      deviceId: 'pump-001',
      topic: 'dt/pump-maintenance/pump-001/telemetry',
      clientId: 'pump-001',
      receivedAt: 1_768_465_800_000,
      quarantinedAt: 1_768_465_800_100,
      reasons: [{ path: 'seq', code: 'too_small', message: 'Too small' }],
      payloadBase64: btoa('{"seq":-1}'),
    };
    expect(await store.put(entry)).toBe('kept');
    // A redelivery finds its entry and leaves it as it was.
    expect(await store.put({ ...entry, quarantinedAt: entry.quarantinedAt + 5000 })).toBe('already-kept');
    const { rows } = await store.query(
      'SELECT id, stage, device_id, payload, payload_base64, reasons, received_at FROM quarantine',
    );
    expect(rows).toEqual([
      {
        id: 'abc',
        stage: 'validation',
        device_id: 'pump-001',
        payload: '{"seq":-1}',
        // Kept once: the text is the payload.
        payload_base64: null,
        reasons: JSON.stringify(entry.reasons),
        received_at: '2026-01-15 08:30:00',
      },
    ]);
  });
});

describe('DuckDbStore queries', () => {
  it.each([
    ['DROP TABLE telemetry', 'DROP statements are refused'],
    ['DELETE FROM telemetry', 'DELETE statements are refused'],
    ["INSERT INTO dead_letter VALUES ('x', 'y', 1, 'z', now())", 'INSERT statements are refused'],
    ['SET threads = 1', 'SET statements are refused'],
    ['BEGIN', 'TRANSACTION statements are refused'],
    ["ATTACH 'elsewhere.duckdb'", 'ATTACH statements are refused'],
    ['CALL checkpoint()', 'CALL statements are refused'],
    ['SELECT 1; DROP TABLE telemetry', 'one statement at a time, got 2'],
  ])('refuses %s before it runs', async (sql, message) => {
    await expect(store.query(sql)).rejects.toThrow(message);
    // The table is still there and still empty.
    expect((await store.query('SELECT count(*)::INTEGER AS n FROM telemetry')).rows).toEqual([{ n: 0 }]);
  });

  it.each([
    ["COPY (SELECT 1) TO 'leak.csv'", 'file system operations are disabled'],
    ["SELECT * FROM read_text('/etc/hostname')", 'file system operations are disabled'],
    ["SELECT * FROM read_csv('/etc/passwd')", 'file system operations are disabled'],
    ["SELECT * FROM glob('/*')", 'file system operations are disabled'],
  ])('reads no file but its own: %s', async (sql, message) => {
    await expect(store.query(sql)).rejects.toThrow(message);
  });

  it('stops a query at its time limit, and the next one runs', async () => {
    const slow = 'SELECT count(*) FROM range(200000) a, range(200000) b WHERE (a.range * b.range) % 7 = 3';
    await expect(store.query(slow, { timeoutMs: 200 })).rejects.toThrow(
      'query stopped after 0.2 s, its time limit',
    );
    expect((await store.query('SELECT 42 AS answer')).rows).toEqual([{ answer: 42 }]);
  });

  it('cuts a large result at the row limit and says so', async () => {
    const result = await store.query('SELECT range AS n FROM range(1000000)', { maxRows: 5 });
    expect(result.rows).toHaveLength(5);
    expect(result.truncated).toBe(true);
  });

  it('keeps writing while a slow query runs on its own connection', async () => {
    const slow = store.query(
      'SELECT count(*) FROM range(200000) a, range(200000) b WHERE (a.range * b.range) % 7 = 3',
      {
        timeoutMs: 1500,
      },
    );
    // WHEN readings are written during the query
    const outcomes = await store.write([record()]);
    // THEN they are stored without waiting for it
    expect(outcomes).toEqual([{ status: 'stored' }]);
    await expect(slow).rejects.toThrow('time limit');
  });
});

describe('DuckDbStore query results', () => {
  it('gives counts and sums as numbers, and keeps integers beyond 2^53 exact as text', async () => {
    const { rows } = await store.query(
      'SELECT count(*) AS n, sum(42::INTEGER) AS total, 1.25::DECIMAL(5,2) AS price, 18446744073709551615::UBIGINT AS huge FROM range(3)',
    );
    expect(rows).toEqual([{ n: 3, total: 126, price: 1.25, huge: '18446744073709551615' }]);
  });
});

describe('DuckDbStore migrations', () => {
  it('opens a store made before the quarantine device column was renamed, keeping its rows', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aiot-migrate-'));
    const file = path.join(dir, 'old.duckdb');
    // GIVEN a store with the first quarantine schema and one row in it
    const old = await DuckDBInstance.create(file);
    const connection = await old.connect();
    await connection.run(`CREATE TABLE quarantine (id VARCHAR PRIMARY KEY, stage VARCHAR NOT NULL, use_case VARCHAR NOT NULL,
      thing VARCHAR NOT NULL, topic VARCHAR NOT NULL, client_id VARCHAR NOT NULL, received_at TIMESTAMP NOT NULL,
      quarantined_at TIMESTAMP NOT NULL, reasons JSON NOT NULL, payload VARCHAR, payload_base64 VARCHAR NOT NULL)`);
    await connection.run(
      `INSERT INTO quarantine VALUES ('a', 'validation', 'pump-maintenance', 'pump-001', 't', 'pump-001', now(), now(), '[]', 'x', 'eA==')`,
    );
    connection.closeSync();
    old.closeSync();
    // WHEN the store opens it
    const migrated = await DuckDbStore.open(file, { measureColumns });
    // THEN the row is there under the new column, and new rows keep the payload once
    expect((await migrated.query('SELECT id, device_id FROM quarantine')).rows).toEqual([
      { id: 'a', device_id: 'pump-001' },
    ]);
    await migrated.put({
      id: 'b',
      stage: 'validation',
      useCase: 'pump-maintenance',
      deviceId: 'pump-002',
      topic: 't',
      clientId: 'pump-002',
      receivedAt: 0,
      quarantinedAt: 0,
      reasons: [],
      payloadBase64: btoa('{}'),
    });
    expect(
      (await migrated.query("SELECT payload, payload_base64 FROM quarantine WHERE id = 'b'")).rows,
    ).toEqual([{ payload: '{}', payload_base64: null }]);
    await migrated.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('DuckDbStore quarantine writes', () => {
  it('writes the entries of one tick in one statement, one row per id, and says which were new', async () => {
    const entry = (id: string): QuarantineEntry => ({
      id,
      stage: 'validation',
      useCase: 'pump-maintenance',
      deviceId: 'pump-001',
      topic: 't',
      clientId: 'pump-001',
      receivedAt: 0,
      quarantinedAt: 0,
      reasons: [{ path: '', code: 'invalid_json', message: 'not JSON' }],
      payloadBase64: btoa('x'),
    });
    await store.put(entry('old'));
    const outcomes = await Promise.all(['a', 'b', 'old', 'a'].map((id) => store.put(entry(id))));
    expect(outcomes).toEqual(['kept', 'kept', 'already-kept', 'already-kept']);
    expect((await store.query('SELECT id FROM quarantine ORDER BY id')).rows).toEqual([
      { id: 'a' },
      { id: 'b' },
      { id: 'old' },
    ]);
  });
});
