/**
 * What a reading takes on an InfluxDB disk, measured on a real influxd (Debian's, the same TSM
 * storage engine and series index as InfluxDB 2): each use case's simulated devices write a day
 * at one reading per second as the ingest function writes them, and the bench measures the disk
 * right after the writes (log and level-1 files) and once the shard is fully compacted.
 *
 *   npm run bench:influx-storage
 *   npm run bench:influx-storage -- --devices 20 --hours 24
 *
 * core/stores/influx-disk.ts sizes the InfluxDB disk with figures at or above these; the test
 * test/lambdas/influx-disk.test.ts measures a smaller run and fails if they are below it.
 * The last line is one JSON object: per use case, bytes per reading fresh and compacted.
 */
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { INFLUX_BYTES_PER_READING } from '../core/stores/influx-disk.ts';
import { startInfluxServer } from '../test/support/influxdb.ts';
import { measureInfluxStorage } from '../test/support/influx-storage.ts';
import { loadCatalog } from '../usecases/catalog.ts';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '10' },
    hours: { type: 'string', default: '24' },
  },
});
const positive = (name: string, text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`--${name} must be a whole number above 0, got "${text}"`);
  return value;
};
const devices = positive('devices', values.devices);
const hours = positive('hours', values.hours);

const { useCases, contracts } = loadCatalog();
const results: Record<string, { freshBytesPerReading: number; compactedBytesPerReading: number }> = {};
const table = new Table({
  head: ['use case', 'readings', 'fresh B/reading', 'compacted B/reading', 'index MB', 'sizing assumes'],
});
for (const manifest of useCases) {
  const server = await startInfluxServer({ compactAfterSeconds: 1 });
  try {
    const started = Date.now();
    const measured = await measureInfluxStorage(server, {
      manifest,
      contract: contracts.get(manifest.contract),
      devices,
      hours,
      rate: 1,
      onDevice: (written) =>
        process.stderr.write(
          `\r${manifest.id}: ${written}/${devices} devices written (${Math.round((Date.now() - started) / 1000)} s)`,
        ),
    });
    process.stderr.write(
      `\r${manifest.id}: compacted after ${Math.round((Date.now() - started) / 1000)} s\n`,
    );
    const fresh = measured.freshBytes / measured.readings;
    const compacted = measured.compactedBytes / measured.readings;
    results[manifest.id] = { freshBytesPerReading: round(fresh), compactedBytesPerReading: round(compacted) };
    table.push([
      manifest.id,
      measured.readings.toLocaleString('en-US'),
      fresh.toFixed(1),
      compacted.toFixed(2),
      (measured.indexBytes / 1e6).toFixed(1),
      INFLUX_BYTES_PER_READING,
    ]);
  } finally {
    await server.stop();
  }
}
console.log(`${devices} devices per use case, ${hours} h at 1 reading/s each, influxd with TSI index`);
console.log(table.toString());
console.log(JSON.stringify({ devices, hours, ...results }));

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
