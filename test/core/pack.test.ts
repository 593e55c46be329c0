import { describe, expect, it } from 'vitest';
import { IOT_METERING_UNIT_BYTES, PackBuilder } from '../../core/contracts/pack.ts';
import { ingestBatch } from '../../core/ingest/ingest-batch.ts';
import { pumpTelemetryV1 } from '../support/contracts.ts';
import { MemoryQuarantine, MemoryStore } from '../support/memory-ports.ts';
import { inbound, pack, reading } from '../support/messages.ts';

const at = (i: number) => new Date(Date.parse('2026-01-15T08:30:00.000Z') + i * 1000).toISOString();
const texts = (n: number, overrides: Parameters<typeof reading>[0] = {}) =>
  Array.from({ length: n }, (_, i) => JSON.stringify(reading({ seq: i, timestamp: at(i), ...overrides })));

describe('PackBuilder', () => {
  it('GIVEN more readings than a 5 KB unit holds THEN it packs while the pack stays within the unit, and the pack is what a hand-written one says', () => {
    const builder = new PackBuilder(IOT_METERING_UNIT_BYTES);
    const all = texts(40);
    let taken = 0;
    while (taken < all.length && builder.add(all[taken] ?? '')) taken += 1;

    const built = builder.build();
    expect(taken).toBeGreaterThan(5);
    expect(taken).toBeLessThan(40);
    expect(new TextEncoder().encode(built).length).toBeLessThanOrEqual(IOT_METERING_UNIT_BYTES);
    expect(JSON.parse(built)).toEqual(
      pack(all.slice(0, taken).map((t) => JSON.parse(t) as Record<string, unknown>)),
    );
    // One more would not have fitted.
    const oneMore = new PackBuilder(Number.MAX_SAFE_INTEGER);
    for (const text of all.slice(0, taken + 1)) oneMore.add(text);
    expect(new TextEncoder().encode(oneMore.build()).length).toBeGreaterThan(IOT_METERING_UNIT_BYTES);
  });

  it('GIVEN one reading THEN the single message goes as it was queued', () => {
    const [only] = texts(1);
    const builder = new PackBuilder(IOT_METERING_UNIT_BYTES);
    expect(builder.add(only ?? '')).toBe(true);
    expect(builder.build()).toBe(only);
  });

  it('GIVEN a firmware change in the backlog THEN the pack ends before the first reading of the new firmware', () => {
    const builder = new PackBuilder(IOT_METERING_UNIT_BYTES);
    const [a, b] = texts(2);
    const [updated] = texts(1, { firmware: '1.5.0', seq: 2, timestamp: at(2) });
    expect([builder.add(a ?? ''), builder.add(b ?? ''), builder.add(updated ?? '')]).toEqual([
      true,
      true,
      false,
    ]);
    expect(builder.count).toBe(2);
  });

  it('GIVEN a reading bigger than the budget THEN it still goes, alone', () => {
    const builder = new PackBuilder(10);
    const [a, b] = texts(2);
    expect([builder.add(a ?? ''), builder.add(b ?? '')]).toEqual([true, false]);
  });

  it('GIVEN a reading count limit THEN the pack stops there', () => {
    const builder = new PackBuilder(IOT_METERING_UNIT_BYTES, 3);
    expect(texts(5).map((t) => builder.add(t))).toEqual([true, true, true, false, false]);
    expect(() => new PackBuilder(1000, 0)).toThrow('maxReadings must be 1..500, got 0');
  });

  it('GIVEN a built pack WHEN ingested THEN every reading is stored as if it came alone', async () => {
    const builder = new PackBuilder(IOT_METERING_UNIT_BYTES);
    const all = texts(10);
    for (const text of all) expect(builder.add(text)).toBe(true);
    const store = new MemoryStore();
    const summary = await ingestBatch([inbound(JSON.parse(builder.build()))], {
      useCases: new Map([['pump-maintenance', [pumpTelemetryV1]]]),
      store,
      quarantine: new MemoryQuarantine(),
      clock: { now: () => 1_768_465_900_000 },
    });
    expect(summary).toMatchObject({ stored: 10, quarantined: 0 });
    const alone = new MemoryStore();
    await ingestBatch(
      all.map((t) => inbound(JSON.parse(t))),
      {
        useCases: new Map([['pump-maintenance', [pumpTelemetryV1]]]),
        store: alone,
        quarantine: new MemoryQuarantine(),
        clock: { now: () => 1_768_465_900_000 },
      },
    );
    expect([...store.rows.values()]).toEqual([...alone.rows.values()]);
  });
});
