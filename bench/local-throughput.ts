/**
 * Sustained ingest throughput of the local runtime: for each offered rate, a simulated fleet
 * publishes over mutual TLS for a fixed window; we report what was received and stored during the
 * window, the backlog left in the queue, how long the clean stop took to drain it, and whether
 * every received message ended up stored (it must). Fleet and runtime share the process, as in
 * `npm start`, so the figures include the publishers' CPU.
 *
 *   npm run bench:local -- --devices 50 --rates 200,500,1000,2000 --seconds 15
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { SimulatedFleet } from '../local/fleet.ts';
import { LocalRuntime } from '../local/runtime.ts';
import { loadCatalog, loadUseCases } from '../usecases/catalog.ts';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '50' },
    rates: { type: 'string', default: '250,500,1000,2000,4000' },
    seconds: { type: 'string', default: '15' },
  },
});
const devices = Number(values.devices);
const seconds = Number(values.seconds);
const rates = values.rates.split(',').map(Number);
const table = new Table({
  head: ['offered msg/s', 'received msg/s', 'stored msg/s', 'backlog at end', 'drain s', 'lost'],
  style: { head: [], border: [] },
});

const manifest = loadUseCases().find((useCase) => useCase.id === 'pump-maintenance');
if (!manifest) throw new Error('the pump-maintenance manifest is missing');

for (const offered of rates) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'aiot-bench-'));
  const runtime = await LocalRuntime.start({
    ...loadCatalog(),
    dataDir,
    mqttPort: 0,
    apiPort: 0,
    modelPort: false,
  });
  const fleet = await SimulatedFleet.start({
    url: runtime.mqttUrl,
    ca: runtime.ca,
    useCase: manifest,
    contract: runtime.contracts.get(manifest.contract),
    devices,
    rate: offered / devices,
    dataDir: path.join(dataDir, 'edge'),
  });
  const start = { at: Date.now(), received: runtime.counters.received, stored: runtime.counters.stored };
  for (let s = 1; s <= seconds; s++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    process.stderr.write(
      `\roffered ${offered}/s  ${s}/${seconds} s  received ${runtime.counters.received}  stored ${runtime.counters.stored}  queue ${runtime.queue.depth}   `,
    );
  }
  const window = (Date.now() - start.at) / 1000;
  const received = runtime.counters.received - start.received;
  const stored = runtime.counters.stored - start.stored;
  const backlog = runtime.queue.depth;
  const stopAt = Date.now();
  await fleet.stop();
  await runtime.stop();
  const drain = (Date.now() - stopAt) / 1000;
  const lost = runtime.counters.received - runtime.counters.stored - runtime.counters.quarantined;
  process.stderr.write('\n');
  table.push([
    offered,
    (received / window).toFixed(0),
    (stored / window).toFixed(0),
    backlog,
    drain.toFixed(1),
    lost,
  ]);
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(`\nlocal runtime, ${devices} devices, ${seconds} s per rate\n${table.toString()}`);
