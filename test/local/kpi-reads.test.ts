import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toTelemetryRecord } from '../../core/ingest/records.ts';
import { DuckDbStore } from '../../local/store/duckdb-store.ts';
import { StoreKpiReads } from '../../local/store/kpi-reads.ts';
import { pumpTelemetryV1, repoContracts } from '../support/contracts.ts';
import { reading } from '../support/messages.ts';

const HOUR = Date.UTC(2026, 10, 30, 8);
const M = 60_000;
let store: DuckDbStore;

/** Three pumps, each heard of in three minutes of the hour: nine device-minutes. */
beforeAll(async () => {
  store = await DuckDbStore.open(':memory:', {
    measureColumns: repoContracts.measureColumns().map((m) => m.column),
  });
  const records = ['pump-001', 'pump-002', 'pump-003'].flatMap((deviceId, d) =>
    [0, 20, 40].map((minute, seq) =>
      toTelemetryRecord(
        'pump-maintenance',
        pumpTelemetryV1,
        reading({
          deviceId,
          seq: d * 10 + seq,
          timestamp: new Date(HOUR + minute * M).toISOString(),
        }) as Parameters<typeof toTelemetryRecord>[2],
      ),
    ),
  );
  await store.write(records);
});

afterAll(async () => {
  await store.close();
});

/** The readings as the reads answer them, when one answer may hold at most `maxRows` rows. */
async function minutesRead(maxRows: number): Promise<string[]> {
  const reads = new StoreKpiReads((sql) => store.query(sql, { maxRows }), pumpTelemetryV1);
  const readings = await reads.readings('pump-maintenance', [], HOUR, HOUR + 60 * M);
  return readings.map((r) => `${r.deviceId}@${(r.time - HOUR) / M}`).sort();
}

describe('local KPI reads', () => {
  it('GIVEN an hour whose device-minutes do not fit one answer THEN it reads it in parts and misses none', async () => {
    const all = await minutesRead(10_000);
    expect(all).toHaveLength(9);
    expect(await minutesRead(3)).toEqual(all);
  });

  it('GIVEN one minute of more devices than an answer holds THEN it says so instead of reading part of the fleet', async () => {
    await expect(minutesRead(2)).rejects.toThrow(
      'the pump-maintenance readings of one minute do not fit one query answer (more than 2 rows): too many devices for the local KPI reads',
    );
  });
});
