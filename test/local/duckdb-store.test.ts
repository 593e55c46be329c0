import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pumpTelemetryV1 } from '../../core/contracts/pump-telemetry.ts';
import type { QuarantineEntry } from '../../core/ingest/ports.ts';
import { toTelemetryRecord } from '../../core/ingest/records.ts';
import { DuckDbStore } from '../../local/duckdb-store.ts';
import { reading } from '../support/messages.ts';

let store: DuckDbStore;
const record = (overrides: Parameters<typeof reading>[0] = {}) =>
  toTelemetryRecord(
    'pump-maintenance',
    pumpTelemetryV1,
    reading(overrides) as Parameters<typeof toTelemetryRecord>[2],
  );

beforeEach(async () => {
  store = await DuckDbStore.open(':memory:');
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
      thing: 'pump-001',
      topic: 'dt/pump-maintenance/pump-001/telemetry',
      clientId: 'pump-001',
      receivedAt: 1_768_465_800_000,
      quarantinedAt: 1_768_465_800_100,
      reasons: [{ path: 'seq', code: 'too_small', message: 'Too small' }],
      payloadBase64: btoa('{"seq":-1}'),
    };
    await store.put(entry);
    await store.put(entry);
    const { rows } = await store.query('SELECT id, stage, payload, reasons, received_at FROM quarantine');
    expect(rows).toEqual([
      {
        id: 'abc',
        stage: 'validation',
        payload: '{"seq":-1}',
        reasons: JSON.stringify(entry.reasons),
        received_at: '2026-01-15 08:30:00',
      },
    ]);
  });
});
