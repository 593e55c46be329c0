import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INFLUX_BYTES_PER_READING } from '../../core/stores/influx-disk.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { startInfluxServer, type InfluxServer } from '../support/influxdb.ts';
import { measureInfluxStorage } from '../support/influx-storage.ts';

/**
 * The referee of the InfluxDB disk sizing: what a reading of each use case takes on a real
 * influxd once compacted must not exceed what core/stores/influx-disk.ts plans for. (The full
 * measurement is `npm run bench:influx-storage`.)
 */
const { useCases, contracts } = loadCatalog();
let server: InfluxServer;

beforeAll(async () => {
  server = await startInfluxServer({ compactAfterSeconds: 1 });
});

afterAll(async () => {
  await server.stop();
});

describe('InfluxDB disk per reading', () => {
  it.each(useCases.map((u) => [u.id, u] as const))(
    'GIVEN %s readings written as the ingest function writes them THEN compacted they take no more than the sizing assumes',
    async (_id, manifest) => {
      const measured = await measureInfluxStorage(server, {
        manifest,
        contract: contracts.get(manifest.contract),
        devices: 2,
        hours: 6,
        rate: 1,
      });

      expect(measured.readings).toBe(43_200);
      // Compression works: far below the line protocol sent (hundreds of bytes a reading).
      expect(measured.compactedBytes / measured.readings).toBeGreaterThan(5);
      expect(measured.compactedBytes / measured.readings).toBeLessThanOrEqual(INFLUX_BYTES_PER_READING);
    },
    360_000,
  );
});
