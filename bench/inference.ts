/**
 * Latency and throughput of POST /invocations on this machine, with 1x and 5x concurrent device
 * streams, and the model's own compute time per reading. The server is the container's code on a
 * local port; each stream sends the sliding window of its device (history + new readings), one
 * request at a time, as the pipeline does.
 *
 *   npm run bench:inference -- --streams 20 --seconds 10                     # saturation
 *   npm run bench:inference -- --streams 20 --seconds 10 --interval-ms 200   # paced streams
 */
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { scoreReadings, trainAnomalyModel } from '../core/model/anomaly-model.ts';
import { PumpSimulator } from '../core/simulation/pump-simulator.ts';
import { startModelServer } from '../model/serve.ts';

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '10' },
    history: { type: 'string', default: '60' },
    batch: { type: 'string', default: '10' },
    'interval-ms': { type: 'string', default: '0' },
  },
});
const baseStreams = Number(values.streams);
const seconds = Number(values.seconds);
const history = Number(values.history);
const batch = Number(values.batch);
// 0: each stream sends its next window as soon as the last is answered (saturation).
const intervalMs = Number(values['interval-ms']);

function readingsOf(thing: string, count: number, seed: number): number[][] {
  const pump = new PumpSimulator({ thing, seed });
  return Array.from({ length: count }, (_, i) => Object.values(pump.next(i * 1000).measures));
}
const sensors = Object.keys(new PumpSimulator({ thing: 'x', seed: 1 }).next(0).measures);
const model = trainAnomalyModel(
  { sensors, rows: [1, 2, 3].flatMap((seed) => readingsOf(`train-${seed}`, 600, seed)) },
  { modelVersion: 'bench' },
);
const server = await startModelServer(model, { port: 0, host: '127.0.0.1' });
const url = `http://127.0.0.1:${server.port}/invocations`;

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function run(streams: number, duration = seconds) {
  const latencies: number[] = [];
  let readingsScored = 0;
  const deadline = performance.now() + duration * 1000;
  await Promise.all(
    Array.from({ length: streams }, async (_, s) => {
      const rows = readingsOf(`pump-${s}`, history + batch * 200, 100 + s);
      // Devices are not synchronized: spread the streams' first requests over one interval.
      if (intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, (intervalMs * s) / streams));
      for (let offset = 0; performance.now() < deadline; offset = (offset + batch) % (batch * 200)) {
        const window = rows.slice(offset, offset + history + batch);
        const started = performance.now();
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sensors, rows: window, scoreFrom: history }),
        });
        await response.json();
        const latency = performance.now() - started;
        latencies.push(latency);
        readingsScored += batch;
        if (intervalMs > latency) await new Promise((resolve) => setTimeout(resolve, intervalMs - latency));
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return {
    streams,
    requests: latencies.length,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    requestsPerSecond: latencies.length / duration,
    readingsPerSecond: readingsScored / duration,
  };
}

const table = new Table({
  head: ['streams', 'requests', 'p50 ms', 'p99 ms', 'requests/s', 'readings/s'],
  style: { head: [], border: [] },
});
// A served model is warm: JIT and first-request costs are not what a device sees.
await run(baseStreams, 2);
for (const streams of [baseStreams, baseStreams * 5]) {
  process.stderr.write(`${streams} concurrent streams for ${seconds} s...\n`);
  const r = await run(streams);
  table.push([
    r.streams,
    r.requests,
    r.p50.toFixed(1),
    r.p99.toFixed(1),
    r.requestsPerSecond.toFixed(0),
    r.readingsPerSecond.toFixed(0),
  ]);
}
await server.close();

// The model alone, in process: the same windows, no HTTP.
const windowRows = readingsOf('compute', history + batch, 7);
const repeats = 2000;
const started = performance.now();
for (let i = 0; i < repeats; i++) scoreReadings(model, { sensors, rows: windowRows });
const perWindow = (performance.now() - started) / repeats;
console.log(
  `windows of ${history} history + ${batch} new readings, ${sensors.length} sensors, ${intervalMs > 0 ? `one window per stream every ${intervalMs} ms` : 'streams back to back (saturation)'}\n${table.toString()}`,
);
console.log(
  `model compute: ${(perWindow * 1000).toFixed(0)} µs per window, ${((perWindow * 1000) / (history + batch)).toFixed(1)} µs per reading`,
);
