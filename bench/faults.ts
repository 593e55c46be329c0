/**
 * Does a use case's model catch the faults its simulated devices can have (the manifest's
 * `simulation.faults`, or the pump simulator's)? Trains the local model as `npm start` does, then
 * runs simulated devices through the use case's edge settings for three days, one fault starting
 * on the second day at 10:00 site time, and scores every reading against the model's fleet-wide
 * normal. For each fault it reports the
 * share of readings flagged before the fault (false alarms) and from an hour after it (caught),
 * and the sensors the model blames.
 *
 *   npm run bench:faults -- --use-case hvac-energy [--devices 3]
 *   npm run bench:faults -- --use-case pump-maintenance --hours 8 --fault-at-hour 2
 *   npm run bench:faults -- --use-case my-case --contracts <dir> --use-cases <dir>
 *
 * Before it, how the model's settings were chosen and a `warning:` line for each fault caught in
 * less than half its readings (saying when it changes only signals the model does not score) and
 * for normal running flagged 2 % or more. The last line is one JSON object: useCase, devices,
 * normalFlaggedShare, faults (id -> caught share), alertsPerUnitWeek (alerts a unit opens in a week of
 * normal running, through the manifest's alert policy as the runtime scores), faultsAlerted (id ->
 * share of units alerted after onset).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { scoreReadings } from '../core/model/anomaly-model.ts';
import { faultWarnings } from '../core/model/selection.ts';
import { deviceSimulator } from '../core/simulation/device-simulator.ts';
import { faultTouches, simulatedRun, simulationCycleHours } from '../core/simulation/simulated-readings.ts';
import type { InferenceRecord } from '../core/inference/inference-records.ts';
import { replayPolicy } from '../core/alerts/replay.ts';
import { alertInferenceOf } from '../core/usecase/manifest.ts';
import { runtimeRecords } from './fault-alerts.ts';
import { ensureLocalModel } from '../local/scoring/model-bootstrap.ts';
import type { UseCaseManifest } from '../core/usecase/manifest.ts';
import { loadCatalog, useCaseById } from '../usecases/catalog.ts';

const { values } = parseArgs({
  options: {
    'use-case': { type: 'string', default: 'hvac-energy' },
    devices: { type: 'string', default: '3' },
    // Monday 00:00 site time onwards; the default fault starts on the Tuesday at 10:00.
    hours: { type: 'string', default: '72' },
    'fault-at-hour': { type: 'string', default: '34' },
    // A use case outside the repository (a new one from its files): its folders.
    contracts: { type: 'string' },
    'use-cases': { type: 'string' },
  },
});
const devices = Number(values.devices);
if (!Number.isInteger(devices) || devices < 1 || devices > 200)
  throw new Error(`--devices must be a whole number from 1 to 200, got "${values.devices}"`);

const hours = Number(values.hours);
const faultAtHour = Number(values['fault-at-hour']);
if (!(faultAtHour > 0 && hours >= faultAtHour + 2))
  throw new Error(
    `--fault-at-hour must be above 0 and --hours at least 2 more (an hour to settle, an hour to score), got ${faultAtHour} and ${hours}`,
  );

const { useCases, contracts } = loadCatalog({
  ...(values.contracts ? { contractsDir: values.contracts } : {}),
  ...(values['use-cases'] ? { useCasesDir: values['use-cases'] } : {}),
});
const manifest: UseCaseManifest = useCaseById(useCases, values['use-case']);
const contract = contracts.get(manifest.contract);
const faults = deviceSimulator(manifest, contract, 0).faultIds;
if (faults.length === 0) throw new Error(`${manifest.id} declares no faults in its simulation section`);

const modelDir = mkdtempSync(path.join(tmpdir(), 'aiot-bench-faults-'));
const started = performance.now();
const { model } = ensureLocalModel(manifest, contract, modelDir);
console.log(
  `${manifest.id}: model ${model.modelVersion} trained in ${((performance.now() - started) / 1000).toFixed(1)} s on the simulation; threshold ${model.threshold.toFixed(2)}`,
);

const HOUR = 3600_000;
const offsetHours = manifest.simulation?.utcOffsetHours ?? 0;
// A Monday 00:00 at the site, months after the model's training week.
const start = Date.UTC(2026, 2, 2) - offsetHours * HOUR;
const faultAt = start + faultAtHour * HOUR;

interface Outcome {
  before: number;
  beforeFlagged: number;
  after: number;
  afterFlagged: number;
  blamed: Map<string, number>;
}

function run(fault: string | undefined, seed: number): Outcome {
  const simulated = simulatedRun(manifest, contract, {
    sensors: model.sensors,
    seed,
    start,
    hours,
    ...(fault ? { fault: { id: fault, at: faultAt } } : {}),
  });
  const { rows, times } = simulated;
  if (fault)
    faultRecords
      .get(fault)
      ?.set(`bench-${seed}`, runtimeRecords(model, manifest.alerts, manifest.id, `bench-${seed}`, simulated));
  const scored = scoreReadings(model, { sensors: model.sensors, rows });
  const outcome: Outcome = { before: 0, beforeFlagged: 0, after: 0, afterFlagged: 0, blamed: new Map() };
  scored.forEach((result, index) => {
    const time = times[index] ?? 0;
    if (time < faultAt) {
      outcome.before += 1;
      if (result.anomalous) outcome.beforeFlagged += 1;
    } else if (time >= faultAt + HOUR) {
      outcome.after += 1;
      if (!result.anomalous) return;
      outcome.afterFlagged += 1;
      const top = result.contributors[0]?.sensor;
      if (top) outcome.blamed.set(top, (outcome.blamed.get(top) ?? 0) + 1);
    }
  });
  return outcome;
}

/** The goals a use case is held to here: faults flagged from an hour after onset, normal running quiet. */
const CAUGHT_GOAL = 0.5;
const NORMAL_GOAL = 0.02;

/** How the settings were chosen, and what the use case's author should look at. */
function benchWarnings(normalFlaggedShare: number): string[] {
  const selection = model.selection;
  console.log(
    selection
      ? `settings chosen on the ${selection.source}: ${JSON.stringify(selection.chosen)}${selection.pinned.length > 0 ? `; set by the manifest: ${selection.pinned.join(', ')}` : ''}`
      : 'settings: the model defaults (measured on SKAB pump recordings), not chosen per use case',
  );
  const baselines = selection?.deviceBaselines;
  if (baselines)
    console.log(
      `device baselines: ${baselines.used ? 'used' : 'off'}; calibrated at eight times of the check week they flag ${(100 * baselines.normalFlaggedShare).toFixed(1)}% of normal running, the fleet normal ${(100 * baselines.fleetNormalFlaggedShare).toFixed(1)}%`,
    );
  const outcomes = faults.map((id) => ({ id, touches: faultTouches(manifest, id), caught: caught[id] ?? 0 }));
  return [
    ...(normalFlaggedShare >= NORMAL_GOAL
      ? [
          `${(100 * normalFlaggedShare).toFixed(1)}% of normal running flagged (less than ${100 * NORMAL_GOAL}% wanted)`,
        ]
      : []),
    ...faultWarnings(
      outcomes,
      model.tracked.map((t) => t.sensor),
      CAUGHT_GOAL,
    ),
  ];
}

/** Each fault's runs as the runtime scores them, per device, for the alert policy. */
const faultRecords = new Map(faults.map((fault) => [fault, new Map<string, InferenceRecord[]>()]));

const table = new Table({
  head: ['fault', 'flagged before (false alarms)', 'flagged from 1 h after', 'blamed most'],
});
const caught: Record<string, number> = {};
let normalBefore = 0;
let normalFlagged = 0;
for (const fault of [undefined, ...faults]) {
  const totals: Outcome = { before: 0, beforeFlagged: 0, after: 0, afterFlagged: 0, blamed: new Map() };
  for (let device = 0; device < devices; device++) {
    const outcome = run(fault, 100 + device);
    totals.before += outcome.before;
    totals.beforeFlagged += outcome.beforeFlagged;
    totals.after += outcome.after;
    totals.afterFlagged += outcome.afterFlagged;
    for (const [sensor, count] of outcome.blamed)
      totals.blamed.set(sensor, (totals.blamed.get(sensor) ?? 0) + count);
  }
  normalBefore += totals.before;
  normalFlagged += totals.beforeFlagged;
  const share = (flagged: number, of: number) => (of === 0 ? 0 : flagged / of);
  if (fault) caught[fault] = Number(share(totals.afterFlagged, totals.after).toFixed(3));
  const blamed = [...totals.blamed].sort((a, b) => b[1] - a[1]).slice(0, 2);
  table.push([
    fault ?? 'none (normal operation)',
    `${(100 * share(totals.beforeFlagged, totals.before)).toFixed(1)}% of ${totals.before}`,
    `${(100 * share(totals.afterFlagged, totals.after)).toFixed(1)}% of ${totals.after}`,
    blamed.map(([sensor]) => sensor).join(', ') || '-',
  ]);
  console.log(`  ${fault ?? 'normal'}: ${devices} devices done`);
}
console.log(table.toString());
const alerts = await alertTable();
rmSync(modelDir, { recursive: true, force: true });
const normalFlaggedShare = normalBefore === 0 ? 0 : normalFlagged / normalBefore;
for (const warning of benchWarnings(normalFlaggedShare)) console.log(`warning: ${warning}`);
console.log(
  JSON.stringify({
    useCase: manifest.id,
    devices,
    normalFlaggedShare: Number(normalFlaggedShare.toFixed(4)),
    faults: caught,
    ...alerts,
  }),
);

/**
 * Through the use case's alert policy, as the runtime scores: alerts a unit opens in a week of
 * normal running, and for each fault the units alerted after onset and how long it took.
 */
async function alertTable(): Promise<{ alertsPerUnitWeek: number; faultsAlerted: Record<string, number> }> {
  const inference = alertInferenceOf(manifest);
  // A whole cycle of normal running (a week with a weekly schedule), at least as long as a fault run.
  const normalHours = Math.max(hours, simulationCycleHours(manifest));
  const week = new Map<string, InferenceRecord[]>();
  for (let device = 0; device < devices; device++) {
    const id = `bench-week-${device}`;
    const simulated = simulatedRun(manifest, contract, {
      sensors: model.sensors,
      seed: 200 + device,
      start,
      hours: normalHours,
    });
    week.set(id, runtimeRecords(model, manifest.alerts, manifest.id, id, simulated));
  }
  const normal = await replayPolicy({
    useCase: manifest.id,
    inference,
    policy: manifest.alerts,
    devices: week,
  });
  const alertTable = new Table({
    head: ['through the alert policy', 'units alerted', 'alerts before onset', 'median hours to alert'],
  });
  alertTable.push([
    `${normalHours} h of normal running`,
    `${normal.alerts} alert${normal.alerts === 1 ? '' : 's'} on ${devices} units`,
    '-',
    '-',
  ]);
  const faultsAlerted: Record<string, number> = {};
  for (const [fault, records] of faultRecords) {
    const ids = [...records.keys()];
    const replay = await replayPolicy({
      useCase: manifest.id,
      inference,
      policy: manifest.alerts,
      devices: records,
      anomalies: ids.map((deviceId) => ({ deviceId, from: faultAt, to: start + hours * HOUR })),
      normal: ids.map((deviceId) => ({ deviceId, from: start, to: faultAt - 1 })),
    });
    faultsAlerted[fault] = Number((replay.eventsCaught / Math.max(1, replay.events)).toFixed(3));
    alertTable.push([
      fault,
      `${replay.eventsCaught} of ${replay.events}`,
      String(replay.alertsOnNormal),
      replay.medianDelaySeconds === null ? '-' : (replay.medianDelaySeconds / 3600).toFixed(1),
    ]);
  }
  console.log(alertTable.toString());
  return {
    alertsPerUnitWeek: Number(((normal.alerts / devices) * (168 / normalHours)).toFixed(2)),
    faultsAlerted,
  };
}
