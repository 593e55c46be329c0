/**
 * Ten times the devices, no more work: a fleet of simulated pumps that provision themselves from
 * one claim certificate (fleet provisioning by claim, through the local runtime), then run the real
 * edge agent, with ingest, scoring and alerting in the runtime. For each fleet size it reports the
 * work and the health per device, so growth shows as a number that moves.
 *
 *   npm run bench:fleet -- --sizes 100,1000 --seconds 60
 *   npm run bench:fleet -- --sizes 100 --seconds 600 --speedup 10 --faulty 0.1
 *
 * Alert load needs hours of each pump's time past its calibration (its first readings, the
 * manifest's `alerts.calibrationReadings`, raise nothing): `--speedup` runs each device that many
 * times faster than real time, every reading still one device-second after the last, and
 * `--faulty` gives that share of the devices one of
 * the pump faults (bearing wear, cavitation, a clogging inlet) `--fault-after-minutes` after its
 * calibration. Alerts on healthy devices, and on faulty ones before their fault, are the false
 * alert load; alerts after a fault, how many faults were caught and how soon.
 *
 * Devices, broker, ingest, store and model server share this machine, so the largest size is what
 * two cores carry, not what the cloud does (docs/scale.md). The last line is one JSON object, the
 * figures of each size.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
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
import { LocalRuntime } from '../local/runtime/runtime.ts';
import { loadCatalog } from '../usecases/catalog.ts';
import { admitFleetThroughCli } from './fleet-operator.ts';
import { deviceSimulator } from '../core/simulation/device-simulator.ts';
import { median } from '../core/model/statistics.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000' },
    seconds: { type: 'string', default: '60' },
    // Readings per second per device: a pump's 1 Hz.
    rate: { type: 'string', default: '1' },
    speedup: { type: 'string', default: '1' },
    faulty: { type: 'string', default: '0' },
    'fault-after-minutes': { type: 'string', default: '15' },
    // Spread the devices' first readings over this long (the agent's default pack wait): 0 starts all at once.
    'stagger-ms': { type: 'string', default: '5000' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const speedup = Number(values.speedup);
const faultyShare = Number(values.faulty);
const faultAfterMinutes = Number(values['fault-after-minutes']);
const staggerMs = Number(values['stagger-ms']);
if (!(staggerMs >= 0)) throw new Error(`--stagger-ms must be 0 or more, got ${values['stagger-ms']}`);
for (const [name, value] of [
  ['seconds', seconds],
  ['rate', rate],
  ['speedup', speedup],
  ...sizes.map((s) => ['sizes', s] as const),
] as const) {
  if (!(Number.isFinite(value) && value > 0)) throw new Error(`--${name} must be above 0, got ${value}`);
}
if (!(faultyShare >= 0 && faultyShare <= 1))
  throw new Error(`--faulty must be from 0 to 1, got ${values.faulty}`);
if (!(faultAfterMinutes >= 0))
  throw new Error(`--fault-after-minutes must be 0 or more, got ${values['fault-after-minutes']}`);

const catalog = loadCatalog();
const manifest = (() => {
  const found = catalog.useCases.find((useCase) => useCase.id === 'pump-maintenance');
  if (!found) throw new Error('the pump-maintenance manifest is missing');
  return found;
})();
const contract = catalog.contracts.get(manifest.contract);
const FAULTS = deviceSimulator(manifest, contract, 0).faultIds;
// A pump's baseline takes its first readings; the alerts it could raise start after them.
const calibrationMs = (manifest.alerts.calibrationReadings / rate) * 1000;
const faultAfterMs = faultAfterMinutes * 60_000;

/** One device's simulated sensors, with the device time they covered and its fault, if any. */
interface TrackedDevice {
  readonly simulator: ReturnType<typeof deviceSimulator>;
  readonly fault: string | undefined;
  firstTime: number | undefined;
  lastTime: number | undefined;
  faultAt: number | undefined;
}

function trackedDevice(seed: number, fault: string | undefined): TrackedDevice {
  return {
    simulator: deviceSimulator(manifest, contract, seed),
    fault,
    firstTime: undefined,
    lastTime: undefined,
    faultAt: undefined,
  };
}

/** The device's readings; its fault starts `faultAfterMs` after its calibration, in device time. */
function sensorsOf(device: TrackedDevice) {
  return {
    next(time: number, dtSeconds: number) {
      device.firstTime ??= time;
      device.lastTime = time;
      if (
        device.fault &&
        device.faultAt === undefined &&
        time >= device.firstTime + calibrationMs + faultAfterMs
      ) {
        device.simulator.inject(device.fault, time);
        device.faultAt = time;
      }
      return device.simulator.next(time, dtSeconds);
    },
  };
}

/** Device time, in ms, past calibration and before any fault: where an alert is a false one. */
function healthyScoredMs(device: TrackedDevice): number {
  if (device.firstTime === undefined || device.lastTime === undefined) return 0;
  const end = Math.min(device.lastTime, device.faultAt ?? Number.POSITIVE_INFINITY);
  return Math.max(0, end - (device.firstTime + calibrationMs));
}

function roundedTenth(value: number | null): number | null {
  return value === null ? null : Math.round(value * 10) / 10;
}

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
  /** Device-hours past calibration, without a fault: what the false-alert rate is measured over. */
  healthyDeviceHours: number;
  /** False alerts per device-day; null when no device got past its calibration. */
  alertsPerDeviceDay: number | null;
  faultyDevices: number;
  /** Faulty devices with an alert opened after their fault started. */
  faultsCaught: number;
  /** Median device-minutes from a fault's start to its alert. */
  medianMinutesToDetect: number | null;
  /** The same, fault by fault. */
  byFault: Record<string, { devices: number; caught: number; medianMinutesToDetect: number | null }>;
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
  const { claim, serials, steps } = await admitFleetThroughCli(dir, runtimeDir, manifest.id, devices);

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
  // One stop signal for every device's source: listeners by design, not a leak.
  setMaxListeners(devices + 10, abort.signal);
  const agents = identities.map((identity) =>
    EdgeAgent.start({
      identity: { thing: identity.thing, firmware: '1.4.2', hardwareGeneration: 'gen2', origin: 'simulated' },
      contract,
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
  const faultyCount = Math.round(faultyShare * devices);
  // The faulty ones spread over the fleet (and so over its sites), the faults in turn.
  const faultOf = new Map(
    Array.from({ length: faultyCount }, (_, k) => [
      Math.floor((k * devices) / faultyCount),
      FAULTS[k % FAULTS.length],
    ]),
  );
  const tracked = identities.map((_, index) => trackedDevice(index + 1, faultOf.get(index)));
  // In a time-lapse every reading is still one device-second apart, stamped so the last is about now.
  const readingsPerDevice = Math.floor(seconds * rate * speedup);
  const started = {
    at: Date.now(),
    stored: runtime.counters.stored,
    quarantined: runtime.counters.quarantined,
  };
  const runs = agents.map(async (agent, index) => {
    // Devices switched on over a few seconds, not in the same millisecond: otherwise every pack of
    // the fleet falls due at once, every pack-wait, for as long as the run lasts.
    const switchedOn = await sleep((staggerMs * index) / devices, true, { signal: abort.signal }).catch(
      () => false,
    );
    if (!switchedOn) return;
    await agent.run(
      simulatorSource({
        thing: identities[index]?.thing ?? '',
        rate: rate * speedup,
        ...(speedup > 1 ? { stepMs: 1000 / rate, count: readingsPerDevice } : {}),
        simulator: sensorsOf(tracked[index] ?? trackedDevice(index + 1, undefined)),
        signal: abort.signal,
      }),
    );
  });
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
  const scoring = runtime.scoringOf(manifest.id)?.scoring;
  const latency = scoring?.latency();
  abort.abort();
  await Promise.all(runs);
  await Promise.all(agents.map((agent) => agent.stop(10_000)));
  // Everything sent is scored before the alerts are counted.
  await runtime.queue.drain();
  await scoring?.drain();
  const { rows, truncated } = await runtime.store.query(
    `SELECT device_id, epoch_ms(opened_at)::DOUBLE AS opened FROM alerts WHERE use_case = '${manifest.id}'`,
    { maxRows: 1_000_000 },
  );
  if (truncated) throw new Error('more than a million alerts: the count would be wrong');
  await runtime.stop();
  const byThing = new Map(identities.map((identity, index) => [identity.thing, tracked[index]]));
  let falseAlerts = 0;
  const detectedAfter = new Map<string, number>();
  for (const row of rows) {
    const thing = String(row.device_id);
    const opened = Number(row.opened);
    const device = byThing.get(thing);
    if (device?.faultAt !== undefined && opened >= device.faultAt) {
      const minutes = (opened - device.faultAt) / 60_000;
      detectedAfter.set(thing, Math.min(minutes, detectedAfter.get(thing) ?? Number.POSITIVE_INFINITY));
    } else falseAlerts += 1;
  }
  const healthyMs = tracked.reduce((sum, device) => sum + healthyScoredMs(device), 0);
  const faultyDevices = tracked.filter((device) => device.faultAt !== undefined).length;
  const byFault: SizeResult['byFault'] = {};
  for (const fault of FAULTS) {
    const withFault = identities.flatMap(({ thing }, index) => {
      const device = tracked[index];
      return device?.fault === fault && device.faultAt !== undefined ? [thing] : [];
    });
    if (withFault.length === 0) continue;
    const minutes = withFault.flatMap((thing) => detectedAfter.get(thing) ?? []);
    byFault[fault] = {
      devices: withFault.length,
      caught: minutes.length,
      medianMinutesToDetect: roundedTenth(median(minutes)),
    };
  }
  rmSync(dir, { recursive: true, force: true });
  results.push({
    devices,
    operatorSteps: steps.commands,
    manualStepsPerDevice: steps.perDevice / devices,
    provisionedIn: Math.round(provisionedIn * 10) / 10,
    readingsPerDevicePerSecond: Math.round((stored / devices / window) * 100) / 100,
    healthyDeviceHours: Math.round((healthyMs / 3600_000) * 10) / 10,
    alertsPerDeviceDay:
      healthyMs === 0 ? null : Math.round((falseAlerts / (healthyMs / 86_400_000)) * 100) / 100,
    faultyDevices,
    faultsCaught: detectedAfter.size,
    medianMinutesToDetect: roundedTenth(median([...detectedAfter.values()])),
    byFault,
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
    'healthy device-hours scored',
    'false alerts per device-day',
    'faults caught',
    'median minutes to detect',
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
    r.healthyDeviceHours,
    r.alertsPerDeviceDay ?? 'not measured (within calibration)',
    r.faultyDevices === 0 ? '-' : `${r.faultsCaught} of ${r.faultyDevices}`,
    r.medianMinutesToDetect ?? '-',
    r.quarantinedShare.toFixed(4),
    r.backlogPerDevice,
    r.inferenceP99Ms ?? '-',
  ]);
const faultTable = new Table({
  head: ['devices', 'fault', 'faulty devices', 'caught', 'median device-minutes to detect'],
  style: { head: [], border: [] },
});
for (const r of results)
  for (const [fault, figures] of Object.entries(r.byFault))
    faultTable.push([
      r.devices,
      fault,
      figures.devices,
      figures.caught,
      figures.medianMinutesToDetect ?? '-',
    ]);
if (faultTable.length > 0)
  console.log(
    `\nfaults started ${faultAfterMinutes} device-minutes after each pump's calibration\n${faultTable.toString()}`,
  );
console.log(
  `\nsimulated pumps at ${rate} Hz${speedup > 1 ? `, ${speedup} times real time` : ''} for ${seconds} s each, provisioned by claim through the local runtime\n${table.toString()}`,
);
console.log(JSON.stringify({ rate, seconds, speedup, faulty: faultyShare, sizes: results }));
