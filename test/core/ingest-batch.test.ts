import { beforeEach, describe, expect, it } from 'vitest';
import { pumpTelemetryV1, pumpTelemetryV2 } from '../support/contracts.ts';
import { ingestBatch, type IngestDependencies } from '../../core/ingest/ingest-batch.ts';
import { inbound, pack, reading } from '../support/messages.ts';
import { MAX_READINGS_PER_PACK } from '../../core/contracts/pack.ts';
import { MemoryQuarantine, MemoryStore } from '../support/memory-ports.ts';

let store: MemoryStore;
let quarantine: MemoryQuarantine;
let deps: IngestDependencies;

beforeEach(() => {
  store = new MemoryStore();
  quarantine = new MemoryQuarantine();
  deps = {
    useCases: new Map([['pump-maintenance', [pumpTelemetryV1]]]),
    store,
    quarantine,
    clock: { now: () => 1_768_465_900_000 },
  };
});

describe('ingestBatch', () => {
  it('stores a valid reading as one record with its dimensions and measure columns', async () => {
    const summary = await ingestBatch([inbound(reading())], deps);
    expect(summary).toMatchObject({ stored: 1, quarantined: 0, retried: 0 });
    const [record] = [...store.rows.values()];
    expect(record).toEqual({
      dimensions: {
        use_case: 'pump-maintenance',
        device_id: 'pump-001',
        firmware: '1.4.2',
        hardware_generation: 'gen2',
        contract: 'pump.telemetry@1',
      },
      time: Date.parse('2026-01-15T08:30:00.000Z'),
      seq: 0,
      // Without a tag, a reading comes from a real device.
      origin: 'device',
      measures: expect.objectContaining({
        motor_current: 1.35,
        vibration_rms_x: 0.027,
        flow_rate: 32,
      }) as unknown,
    });
  });

  it('quarantines an invalid reading with every reason and the raw payload, and stores the rest of the batch', async () => {
    const bad = {
      ...reading({ seq: 1 }),
      measures: { ...reading().measures, motorCurrent: -3, supplyVoltage: 'high' },
    };
    const summary = await ingestBatch(
      [inbound(bad), inbound(reading({ seq: 2, timestamp: '2026-01-15T08:30:01.000Z' }))],
      deps,
    );
    expect(summary).toMatchObject({ stored: 1, quarantined: 1, retried: 0 });
    const [entry] = [...quarantine.entries.values()];
    expect(entry?.stage).toBe('validation');
    expect(entry?.reasons.map((r) => r.path)).toEqual(['measures.motorCurrent', 'measures.supplyVoltage']);
    expect(JSON.parse(atob(entry?.payloadBase64 ?? ''))).toEqual(bad);
    expect(summary.results[0]).toMatchObject({ outcome: 'quarantined', thing: 'pump-001' });
  });

  it('quarantines a payload that is not JSON', async () => {
    const summary = await ingestBatch([inbound(undefined, { raw: 'temp=71.2;current=1.3' })], deps);
    expect(summary.quarantined).toBe(1);
    expect([...quarantine.entries.values()][0]?.reasons[0]?.message).toMatch(/^payload is not UTF-8 JSON/);
  });

  it('quarantines a reading that claims to come from another device than the certificate', async () => {
    await ingestBatch([inbound(reading({ deviceId: 'pump-002' }), { thing: 'pump-001' })], deps);
    expect([...quarantine.entries.values()][0]?.reasons).toEqual([
      {
        path: 'deviceId',
        code: 'identity_mismatch',
        message: '"pump-002" is not the publishing thing "pump-001"',
      },
    ]);
  });

  it('quarantines a queue message that did not come from the rule', async () => {
    const summary = await ingestBatch([{ id: 'x', body: '{"hello":1}' }], deps);
    expect(summary.quarantined).toBe(1);
    expect([...quarantine.entries.values()][0]?.reasons.map((r) => r.path)).toContain('(rule).payload');
  });

  it('stores a message delivered twice once, in the same batch and across batches', async () => {
    const message = reading();
    const first = await ingestBatch([inbound(message), inbound(message)], deps);
    const second = await ingestBatch([inbound(message)], deps);
    expect(store.rows.size).toBe(1);
    expect([first.stored, first.duplicates, second.duplicates]).toEqual([1, 1, 1]);
  });

  it('quarantines a different reading for the same device and time as a conflict', async () => {
    const summary = await ingestBatch([inbound(reading()), inbound(reading({ seq: 5 }))], deps);
    expect(summary).toMatchObject({ stored: 1, quarantined: 1 });
    expect([...quarantine.entries.values()][0]).toMatchObject({
      stage: 'store-rejected',
      reasons: [expect.objectContaining({ code: 'conflict' })],
    });
  });

  it('quarantines a record the store rejects, with the store reason', async () => {
    await ingestBatch([inbound(reading())], deps);
    const summary = await ingestBatch(
      [inbound({ ...reading(), measures: { ...reading().measures, flowRate: 99 } })],
      deps,
    );
    expect(summary.quarantined).toBe(1);
    expect([...quarantine.entries.values()][0]?.reasons[0]?.message).toBe(
      'different values for an existing record',
    );
  });

  it('asks for a retry of exactly the messages the store could not take', async () => {
    store.failNext = { status: 'retry', reason: 'ThrottlingException' };
    const summary = await ingestBatch([inbound(reading()), inbound({ nope: true })], deps);
    expect(summary.results.map((r) => r.outcome)).toEqual(['retry', 'quarantined']);
  });

  it('asks for a retry instead of losing an invalid message when the quarantine is down', async () => {
    quarantine.unavailable = true;
    const summary = await ingestBatch([inbound({ nope: true })], deps);
    expect(summary.results[0]).toMatchObject({
      outcome: 'retry',
      reasons: [expect.objectContaining({ message: 'quarantine unavailable: bucket unreachable' })],
    });
  });

  it('counts a redelivered invalid message as a duplicate of its quarantine entry, not a second one', async () => {
    const message = inbound({ nope: true });
    const first = await ingestBatch([message], deps);
    const again = await ingestBatch([message], deps);
    expect([...quarantine.entries.keys()]).toEqual([message.id]);
    expect([first.quarantined, again.quarantined, again.duplicates]).toEqual([1, 0, 1]);
  });

  it('stores a simulated reading with its tag, and treats a copy with another tag as a conflict', async () => {
    const simulated = inbound({ ...reading(), origin: 'simulated' });
    const asDevice = inbound(reading());
    const summary = await ingestBatch([simulated, asDevice], deps);
    expect(summary.results.map((r) => r.outcome)).toEqual(['stored', 'quarantined']);
    expect([...store.rows.values()].map((r) => r.origin)).toEqual(['simulated']);
  });

  it('quarantines a reading more than 15 minutes ahead of its arrival, or older than the store keeps', async () => {
    // The rule stamped these messages at 2026-01-15T08:30:00Z.
    const ahead = inbound(reading({ timestamp: '2026-01-15T08:45:00.001Z' }));
    const old = inbound(reading({ timestamp: '2025-01-15T08:29:59.999Z' }));
    const edge = inbound(reading({ timestamp: '2026-01-15T08:45:00.000Z' }));
    const summary = await ingestBatch([ahead, old, edge], deps);
    expect(summary.results.map((r) => r.outcome)).toEqual(['quarantined', 'quarantined', 'stored']);
    expect(summary.results[0]?.reasons).toEqual([
      {
        path: 'timestamp',
        code: 'time_out_of_bounds',
        message:
          '2026-01-15T08:45:00.001Z is more than 15 min after arrival at 2026-01-15T08:30:00.000Z (device clock ahead?)',
      },
    ]);
    expect(summary.results[1]?.reasons[0]?.message).toBe(
      '2025-01-15T08:29:59.999Z is older than the store keeps (365 days before arrival at 2026-01-15T08:30:00.000Z)',
    );
  });

  it('takes the time bounds of the use case when given', async () => {
    const bounds = new Map([['pump-maintenance', { maxAgeMs: 3600_000, maxAheadMs: 0 }]]);
    const summary = await ingestBatch(
      [
        inbound(reading({ timestamp: '2026-01-15T07:29:00.000Z' })),
        inbound(reading({ timestamp: '2026-01-15T08:30:00.001Z' })),
      ],
      { ...deps, timeBounds: bounds },
    );
    expect(summary.results.map((r) => r.reasons[0]?.code)).toEqual([
      'time_out_of_bounds',
      'time_out_of_bounds',
    ]);
  });

  it('keeps an entry for each of two messages with the same bytes', async () => {
    const first = inbound(undefined, { raw: '' });
    const second = inbound(undefined, { raw: '' });
    await ingestBatch([first, second], deps);
    expect([...quarantine.entries.keys()].sort()).toEqual([first.id, second.id].sort());
  });

  describe('GIVEN a use case in a migration window (accepts @2, still @1)', () => {
    beforeEach(() => {
      deps = { ...deps, useCases: new Map([['pump-maintenance', [pumpTelemetryV2, pumpTelemetryV1]]]) };
    });

    it('WHEN devices send either version THEN each is checked against its own and stored with it', async () => {
      const v2 = {
        ...reading({ seq: 1 }),
        version: 2,
        measures: { ...reading().measures, bearingTemperature: 48 },
      };
      const v1 = reading({ seq: 2, timestamp: '2026-01-15T08:30:01.000Z' });
      const summary = await ingestBatch([inbound(v2), inbound(v1)], deps);
      expect(summary).toMatchObject({ stored: 2, quarantined: 0 });
      expect(
        summary.storedRecords.map((r) => [r.dimensions.contract, r.measures.bearing_temperature]),
      ).toEqual([
        ['pump.telemetry@2', 48],
        ['pump.telemetry@1', undefined],
      ]);
    });

    it('WHEN a version 1 message carries a version 2 measure THEN it is quarantined: version 1 does not have it', async () => {
      const mixed = reading({ measures: { bearingTemperature: 48 } });
      const summary = await ingestBatch([inbound(mixed)], deps);
      expect(summary.quarantined).toBe(1);
      expect([...quarantine.entries.values()][0]?.reasons.map((r) => r.code)).toEqual(['unrecognized_keys']);
    });

    it('WHEN a device sends a version the use case does not accept THEN the reason names what it accepts', async () => {
      const summary = await ingestBatch([inbound({ ...reading(), version: 3 })], deps);
      expect(summary.quarantined).toBe(1);
      expect([...quarantine.entries.values()][0]?.reasons).toEqual([
        {
          path: 'version',
          code: 'unaccepted_contract',
          message:
            'pump.telemetry@3 is not accepted by use case "pump-maintenance" (accepts pump.telemetry@2, pump.telemetry@1)',
        },
      ]);
    });
  });

  describe('packed readings', () => {
    const readings = (n: number) =>
      Array.from({ length: n }, (_, i) =>
        reading({
          seq: i,
          timestamp: new Date(Date.parse('2026-01-15T08:30:00.000Z') + i * 1000).toISOString(),
        }),
      );

    it('GIVEN a pack of 5 readings with one bad reading WHEN ingested THEN 4 are stored and the bad one alone is quarantined, with its place in the pack', async () => {
      const five = readings(5);
      const bad = { ...five[2], measures: { ...five[2]?.measures, motorCurrent: -3 } };
      const message = inbound(pack([...five.slice(0, 2), bad, ...five.slice(3)]), { id: 'm1' });

      const summary = await ingestBatch([message], deps);

      expect(summary).toMatchObject({
        stored: 4,
        quarantined: 1,
        duplicates: 0,
        retried: 0,
        retryMessageIds: [],
      });
      expect([...store.rows.values()].map((r) => r.seq)).toEqual([0, 1, 3, 4]);
      expect(summary.results.map((r) => [r.id, r.messageId, r.outcome])).toEqual([
        ['m1.0', 'm1', 'stored'],
        ['m1.1', 'm1', 'stored'],
        ['m1.2', 'm1', 'quarantined'],
        ['m1.3', 'm1', 'stored'],
        ['m1.4', 'm1', 'stored'],
      ]);
      const entry = quarantine.entries.get('m1.2');
      expect(entry?.reasons).toEqual([
        expect.objectContaining({ path: 'readings[2].measures.motorCurrent', code: 'too_small' }),
      ]);
      // The quarantine keeps that reading alone, as a pack of one, with the fields it shared.
      expect(JSON.parse(atob(entry?.payloadBase64 ?? ''))).toEqual(pack([bad]));
      expect(quarantine.entries.size).toBe(1);
    });

    it('GIVEN a pack whose shared fields are wrong THEN every reading is quarantined on its own with that reason', async () => {
      const summary = await ingestBatch(
        [inbound(pack(readings(3), { deviceId: 'pump-999' }), { id: 'm2' })],
        deps,
      );
      expect(summary).toMatchObject({ stored: 0, quarantined: 3 });
      expect([...quarantine.entries.keys()]).toEqual(['m2.0', 'm2.1', 'm2.2']);
      for (const entry of quarantine.entries.values())
        expect(entry.reasons.map((r) => [r.path, r.code])).toEqual([['deviceId', 'identity_mismatch']]);
    });

    it('GIVEN a packed reading with a field of the pack or an unknown one THEN it is refused, not allowed to override the shared fields', async () => {
      const [first, second] = readings(2);
      const hostile = {
        ...pack([first ?? {}, second ?? {}]),
        readings: [
          { timestamp: first?.timestamp, seq: 0, measures: first?.measures, deviceId: 'pump-999', note: 'x' },
          { timestamp: second?.timestamp, seq: 1, measures: second?.measures },
        ],
      };
      const summary = await ingestBatch([inbound(hostile, { id: 'm3' })], deps);
      expect(summary).toMatchObject({ stored: 1, quarantined: 1 });
      expect(quarantine.entries.get('m3.0')?.reasons.map((r) => r.path)).toEqual([
        'readings[0].deviceId',
        'readings[0].note',
      ]);
      expect([...store.rows.values()][0]?.dimensions.device_id).toBe('pump-001');
    });

    it.each([
      ['no readings', []],
      ['more than the limit', Array.from({ length: MAX_READINGS_PER_PACK + 1 }, () => ({}))],
      ['readings that are not an array', { timestamp: 'x' }],
    ])('GIVEN a pack with %s THEN the message is quarantined whole with one reason', async (_, value) => {
      const summary = await ingestBatch(
        [inbound({ ...pack(readings(1)), readings: value }, { id: 'm4' })],
        deps,
      );
      expect(summary).toMatchObject({ stored: 0, quarantined: 1 });
      expect(summary.results.map((r) => r.id)).toEqual(['m4']);
      expect(quarantine.entries.get('m4')?.reasons.map((r) => [r.path, r.code])).toEqual([
        ['readings', 'invalid_pack'],
      ]);
    });

    it('GIVEN a packed reading that is not an object THEN that reading is refused and the others are stored', async () => {
      const [first] = readings(1);
      const summary = await ingestBatch(
        [inbound({ ...pack([first ?? {}]), readings: [pack([first ?? {}]).readings[0], 42] }, { id: 'm5' })],
        deps,
      );
      expect(summary).toMatchObject({ stored: 1, quarantined: 1 });
      expect(quarantine.entries.get('m5.1')?.reasons).toEqual([
        { path: 'readings[1]', code: 'invalid_type', message: 'a packed reading must be an object' },
      ]);
    });

    it('GIVEN the store fails part of a pack WHEN the message is redelivered THEN it is retried once as a message, and nothing is stored or quarantined twice', async () => {
      const five = readings(5);
      const bad = { ...five[4], measures: { ...five[4]?.measures, flowRate: -1 } };
      const message = inbound(pack([...five.slice(0, 4), bad]), { id: 'm6' });
      store.failNext = { status: 'retry', reason: 'throttled' };

      const first = await ingestBatch([message], deps);
      expect(first).toMatchObject({ stored: 0, quarantined: 1, retried: 4, retryMessageIds: ['m6'] });

      store.failNext = undefined;
      const second = await ingestBatch([message], deps);
      expect(second).toMatchObject({ stored: 4, quarantined: 0, duplicates: 1, retryMessageIds: [] });
      expect(quarantine.entries.size).toBe(1);
      expect(store.rows.size).toBe(4);
    });

    it('GIVEN two readings of one pack at the same time with different values THEN the second is a conflict', async () => {
      const [first] = readings(1);
      const twin = { ...first, seq: 9 };
      const summary = await ingestBatch([inbound(pack([first ?? {}, twin]), { id: 'm7' })], deps);
      expect(summary).toMatchObject({ stored: 1, quarantined: 1 });
      expect(quarantine.entries.get('m7.1')?.reasons[0]).toMatchObject({ code: 'conflict' });
      expect(quarantine.entries.get('m7.1')?.reasons[0]?.message).toContain('reading m7.0');
    });
  });
});
