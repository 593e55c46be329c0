import { beforeEach, describe, expect, it } from 'vitest';
import { ingestBatch, type IngestDependencies } from '../../core/ingest/ingest-batch.ts';
import { replayQuarantine } from '../../core/ingest/quarantine-replay.ts';
import { pumpTelemetryV1, pumpTelemetryV2 } from '../support/contracts.ts';
import { MemoryLedger, MemoryQuarantine, MemoryStore } from '../support/memory-ports.ts';
import { inbound, pack, reading } from '../support/messages.ts';

const NOW = 1_768_465_900_000;
let store: MemoryStore;
let quarantine: MemoryQuarantine;
let ledger: MemoryLedger;
/** The use case before the fix: it accepts version 1 only. */
let before: IngestDependencies;
/** After the fix: version 2 is accepted too. */
let after: Omit<IngestDependencies, 'quarantine'>;

const v2 = (seq: number, extra: Record<string, unknown> = {}) => ({
  ...reading({ seq, timestamp: new Date(Date.parse('2026-01-15T08:30:00.000Z') + seq * 1000).toISOString() }),
  version: 2,
  measures: { ...reading().measures, bearingTemperature: 48, ...extra },
});

beforeEach(() => {
  store = new MemoryStore();
  quarantine = new MemoryQuarantine();
  ledger = new MemoryLedger(quarantine);
  const clock = { now: () => NOW };
  before = { useCases: new Map([['pump-maintenance', [pumpTelemetryV1]]]), store, quarantine, clock };
  after = { useCases: new Map([['pump-maintenance', [pumpTelemetryV2, pumpTelemetryV1]]]), store, clock };
});

describe('quarantine replay', () => {
  it('GIVEN version 2 messages quarantined before the use case accepted them WHEN replayed THEN each is stored once, and a second replay finds nothing to do', async () => {
    await ingestBatch([inbound(v2(1)), inbound(v2(2)), inbound(reading({ seq: 3, firmware: '' }))], before);
    expect(quarantine.entries.size).toBe(3);

    const first = await replayQuarantine(ledger, after, {});
    expect(first).toMatchObject({ examined: 3, stored: 2, alreadyStored: 0, stillQuarantined: 1, retry: 0 });
    expect([...store.rows.values()].map((r) => r.dimensions.contract)).toEqual([
      'pump.telemetry@2',
      'pump.telemetry@2',
    ]);
    // The stored ones left the quarantine; the invalid one stays, with today's reasons.
    expect([...quarantine.entries.values()].map((e) => e.reasons.map((r) => r.path))).toEqual([['firmware']]);
    expect(first.stillRefusedBy).toEqual([{ code: 'too_small', count: 1 }]);

    const second = await replayQuarantine(ledger, after, {});
    expect(second).toMatchObject({ examined: 1, stored: 0, alreadyStored: 0, stillQuarantined: 1 });
    expect(store.rows.size).toBe(2);
  });

  it('GIVEN a pack of version 2 readings quarantined reading by reading WHEN replayed after the fix THEN each is stored, and a reading still bad stays alone', async () => {
    await ingestBatch([inbound(pack([v2(1), v2(2), v2(3, { flowRate: -1 })]), { id: 'p1' })], before);
    expect([...quarantine.entries.keys()]).toEqual(['p1.0', 'p1.1', 'p1.2']);

    const report = await replayQuarantine(ledger, after, {});
    expect(report).toMatchObject({ examined: 3, stored: 2, stillQuarantined: 1 });
    expect([...store.rows.values()].map((r) => r.seq)).toEqual([1, 2]);
    expect([...quarantine.entries.values()].map((e) => [e.id, e.reasons.map((r) => r.path)])).toEqual([
      ['p1.2', ['readings[0].measures.flowRate']],
    ]);
  });

  it('GIVEN a replay that stopped after storing but before moving the entry THEN the next replay calls it already stored, not a second row', async () => {
    await ingestBatch([inbound(v2(1))], before);
    ledger.failNextResolve = true;
    await expect(replayQuarantine(ledger, after, {})).rejects.toThrow('crashed before the move');
    expect(store.rows.size).toBe(1);
    expect(quarantine.entries.size).toBe(1);

    const again = await replayQuarantine(ledger, after, {});
    expect(again).toMatchObject({ examined: 1, stored: 0, alreadyStored: 1 });
    expect(store.rows.size).toBe(1);
    expect([...ledger.resolved.values()].map((r) => r.outcome)).toEqual(['duplicate']);
  });

  it('GIVEN filters THEN only entries of that time and reason are replayed', async () => {
    await ingestBatch([inbound(v2(1))], { ...before, clock: { now: () => NOW - 3_600_000 } });
    await ingestBatch([inbound(v2(2)), inbound(reading({ seq: 3, firmware: '' }))], before);

    const recent = await replayQuarantine(ledger, after, { since: NOW - 60_000, reason: 'NOT ACCEPTED' });
    // The version refusal says the version is not accepted; the empty firmware's does not.
    expect(recent).toMatchObject({ examined: 1, stored: 1 });
    expect(await replayQuarantine(ledger, after, { useCase: 'other' })).toMatchObject({ examined: 0 });
    expect(await replayQuarantine(ledger, after, { reason: 'unaccepted_contract' })).toMatchObject({
      examined: 1,
      stored: 1,
    });
  });

  it('GIVEN more entries than a page THEN every one is taken once, also those that stay refused', async () => {
    const messages = Array.from({ length: 7 }, (_, i) =>
      inbound(i % 2 === 0 ? v2(i) : reading({ seq: i, firmware: '' })),
    );
    await ingestBatch(messages, before);
    const progress: number[] = [];
    const report = await replayQuarantine(
      ledger,
      after,
      {},
      { pageSize: 2, onProgress: (r) => progress.push(r.examined) },
    );
    expect(report).toMatchObject({ examined: 7, stored: 4, stillQuarantined: 3 });
    expect(progress).toEqual([2, 4, 6, 7]);
  });

  it('GIVEN the time is up THEN the replay stops before the next page and says it is not complete', async () => {
    await ingestBatch([inbound(v2(1)), inbound(v2(2)), inbound(v2(3))], before);
    let pages = 0;
    const report = await replayQuarantine(
      ledger,
      after,
      {},
      { pageSize: 2, shouldContinue: () => pages++ < 1 },
    );
    expect(report).toMatchObject({ examined: 2, stored: 2, complete: false });
    expect(await replayQuarantine(ledger, after, {})).toMatchObject({
      examined: 1,
      stored: 1,
      complete: true,
    });
  });

  it('GIVEN the store is busy THEN the entry stays as it was for the next replay', async () => {
    await ingestBatch([inbound(v2(1))], before);
    store.failNext = { status: 'retry', reason: 'throttled' };
    expect(await replayQuarantine(ledger, after, {})).toMatchObject({ examined: 1, retry: 1, stored: 0 });
    expect(quarantine.entries.size).toBe(1);
  });

  it('GIVEN a quarantined edge health report THEN it is not replayed as telemetry', async () => {
    await quarantine.put({
      id: 'health-1',
      stage: 'health',
      useCase: 'pump-maintenance',
      deviceId: 'pump-001',
      topic: 'dt/pump-maintenance/pump-001/health',
      clientId: 'pump-001',
      receivedAt: NOW,
      quarantinedAt: NOW,
      reasons: [{ path: 'queueDepth', code: 'invalid_type', message: 'expected number' }],
      payloadBase64: btoa('{}'),
    });
    expect(await replayQuarantine(ledger, after, {})).toMatchObject({ examined: 0 });
    expect(quarantine.entries.has('health-1')).toBe(true);
  });
});
