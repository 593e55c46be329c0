/**
 * Ten times the devices, no more work: a fleet of simulated pumps that provision themselves from
 * one claim certificate (fleet provisioning by claim, through the local runtime), then run the real
 * edge agent, with ingest, scoring and alerting in the runtime. For each fleet size it reports the
 * work and the health per device, so growth shows as a number that moves.
 *
 *   npm run bench:fleet -- --sizes 100,1000 --seconds 60
 *
 * Devices, broker, ingest, store and model server share this machine, so the largest size is what
 * two cores carry, not what the cloud does (docs/scale.md). The last line is one JSON object, the
 * figures of each size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { resolveEdgeSettings } from '../core/edge/settings.ts';
import { healthTopic, telemetryTopic } from '../core/ingest/topics.ts';
import { LOCAL_PROVISIONING_TEMPLATE } from '../core/provisioning/claim.ts';
import { EdgeAgent } from '../edge/agent.ts';
import { provisionByClaim } from '../edge/provisioning.ts';
import { simulatorSource } from '../edge/sources.ts';
import { LocalProvisioning } from '../local/provisioning.ts';
import { LocalRuntime } from '../local/runtime.ts';
import { loadCatalog } from '../usecases/catalog.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000' },
    seconds: { type: 'string', default: '60' },
    // Readings per second per device: a pump's 1 Hz.
    rate: { type: 'string', default: '1' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const seconds = Number(values.seconds);
const rate = Number(values.rate);
for (const [name, value] of [
  ['seconds', seconds],
  ['rate', rate],
  ...sizes.map((s) => ['sizes', s] as const),
] as const) {
  if (!(Number.isFinite(value) && value > 0)) throw new Error(`--${name} must be above 0, got ${value}`);
}

const catalog = loadCatalog();
const manifest = catalog.useCases.find((useCase) => useCase.id === 'pump-maintenance');
if (!manifest) throw new Error('the pump-maintenance manifest is missing');

/** Runs `work` over `items`, `limit` at a time. */
async function inBatches<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += limit)
    results.push(...(await Promise.all(items.slice(i, i + limit).map(work))));
  return results;
}

interface SizeResult {
  devices: number;
  operatorSteps: number;
  manualStepsPerDevice: number;
  provisionedIn: number;
  readingsPerDevicePerSecond: number;
  alertsPerDeviceDay: number;
  quarantinedShare: number;
  backlogPerDevice: number;
  inferenceP99Ms: number | null;
}

const results: SizeResult[] = [];
for (const devices of sizes) {
  const dir = mkdtempSync(path.join(tmpdir(), 'aiot-bench-fleet-'));
  const runtimeDir = path.join(dir, 'runtime');
  const runtime = await LocalRuntime.start({
    ...catalog,
    dataDir: runtimeDir,
    mqttPort: 0,
    apiPort: 0,
    modelPort: 0,
  });
  // The operator's work for the whole fleet, whatever its size: one claim certificate, and the
  // serial numbers admitted from the factory's list in one step.
  const claim = await runtime.ca.claimPair('factory');
  const serials = Array.from({ length: devices }, (_, i) => `SN-${String(i + 1).padStart(6, '0')}`);
  for (const [i, serialNumber] of serials.entries())
    LocalProvisioning.admitTo(path.join(runtimeDir, 'provisioning'), {
      serialNumber,
      thingName: `pump-${String(i + 1).padStart(4, '0')}`,
      useCase: manifest.id,
      site: `plant-${(i % 4) + 1}`,
    });
  const operatorSteps = 2;

  const provisioningStarted = Date.now();
  let provisioned = 0;
  const identities = await inBatches(serials, 25, async (serialNumber) => {
    const identity = await provisionByClaim({
      url: runtime.mqttUrl,
      ca: runtime.ca.caPem,
      claimCert: claim.cert,
      claimKey: claim.key,
      templateName: LOCAL_PROVISIONING_TEMPLATE,
      serialNumber,
      dir: path.join(dir, 'identity', serialNumber),
    });
    provisioned += 1;
    if (provisioned % 100 === 0) process.stderr.write(`${devices} devices: ${provisioned} provisioned\n`);
    return identity;
  });
  const provisionedIn = (Date.now() - provisioningStarted) / 1000;

  const abort = new AbortController();
  const agents = identities.map((identity) =>
    EdgeAgent.start({
      identity: { thing: identity.thing, firmware: '1.4.2', hardwareGeneration: 'gen2', origin: 'simulated' },
      contract: catalog.contracts.get(manifest.contract),
      settings: resolveEdgeSettings(manifest.edge, identity.thing),
      connection: {
        url: runtime.mqttUrl,
        ca: runtime.ca.caPem,
        cert: identity.cert,
        key: identity.key,
        topic: telemetryTopic(manifest.id, identity.thing),
        healthTopic: healthTopic(manifest.id, identity.thing),
      },
      dataDir: path.join(dir, 'edge', identity.thing),
      fsync: { everyMs: 1000 },
    }),
  );
  const started = {
    at: Date.now(),
    stored: runtime.counters.stored,
    quarantined: runtime.counters.quarantined,
  };
  const runs = agents.map((agent, index) =>
    agent.run(
      simulatorSource({ thing: identities[index]?.thing ?? '', rate, seed: index + 1, signal: abort.signal }),
    ),
  );
  for (let s = 10; s <= seconds; s += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    process.stderr.write(
      `${devices} devices: ${s}/${seconds} s, stored ${runtime.counters.stored - started.stored}, queue ${runtime.queue.depth}\n`,
    );
  }
  const window = (Date.now() - started.at) / 1000;
  const stored = runtime.counters.stored - started.stored;
  const quarantined = runtime.counters.quarantined - started.quarantined;
  const backlog = agents.reduce((sum, agent) => sum + agent.status.queueDepth, 0);
  const latency = runtime.scoringOf('pump-maintenance')?.scoring.latency();
  const { rows } = await runtime.store.query('SELECT count(*)::INTEGER AS n FROM alerts');
  abort.abort();
  await Promise.all(runs);
  await Promise.all(agents.map((agent) => agent.stop(10_000)));
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
  results.push({
    devices,
    operatorSteps,
    manualStepsPerDevice: 0,
    provisionedIn: Math.round(provisionedIn * 10) / 10,
    readingsPerDevicePerSecond: Math.round((stored / devices / window) * 100) / 100,
    alertsPerDeviceDay: Math.round((Number(rows[0]?.n ?? 0) / devices / (window / 86_400)) * 100) / 100,
    quarantinedShare: stored + quarantined === 0 ? 0 : quarantined / (stored + quarantined),
    backlogPerDevice: Math.round((backlog / devices) * 10) / 10,
    inferenceP99Ms: latency ? Math.round(latency.p99 * 10) / 10 : null,
  });
}

const table = new Table({
  head: [
    'devices',
    'operator steps (fleet)',
    'manual steps per device',
    'provisioned in s',
    'stored readings per device per s',
    'alerts per device-day',
    'quarantined share',
    'backlog per device',
    'inference p99 ms',
  ],
  style: { head: [], border: [] },
});
for (const r of results)
  table.push([
    r.devices,
    r.operatorSteps,
    r.manualStepsPerDevice,
    r.provisionedIn,
    r.readingsPerDevicePerSecond,
    r.alertsPerDeviceDay,
    r.quarantinedShare.toFixed(4),
    r.backlogPerDevice,
    r.inferenceP99Ms ?? '-',
  ]);
console.log(
  `\nsimulated pumps at ${rate} Hz for ${seconds} s each, provisioned by claim through the local runtime\n${table.toString()}`,
);
console.log(JSON.stringify({ rate, seconds, sizes: results }));
