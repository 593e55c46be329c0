import * as path from 'node:path';
import { simulatedThingPrefix } from '../../core/simulation/device-simulator.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import type { SimulatedFleet } from '../../local/fleet/fleet.ts';
import { roughDuration } from '../../local/runtime/calibration-progress.ts';
import { localRuleName, type LocalRuntime } from '../../local/runtime/runtime.ts';
import type { ScoringCounters } from '../../local/scoring/scoring.ts';
import { dataDirFlag } from './options.ts';
import { printTable } from './output.ts';

export interface StartSettings {
  readonly devices: number;
  readonly rate: number;
  readonly duration?: number;
  readonly user: string;
  readonly role: string;
  readonly dataDir: string;
}

/** One simulated device per use case that will develop a fault, for the banner. */
export interface PlannedDemo {
  readonly useCase: string;
  readonly thing: string;
  readonly faultId: string;
}

/** Where everything is, printed once at start. */
export function printBanner(
  runtime: LocalRuntime,
  useCases: readonly UseCaseManifest[],
  settings: StartSettings,
): void {
  const rel = (file: string) => path.relative(process.cwd(), file);
  console.log(`aiot local pipeline: use cases ${useCases.map((u) => u.id).join(', ')}`);
  if (runtime.consoleUrl)
    console.log(
      `  operator console ${runtime.consoleUrl}   acting as ${settings.user} (${settings.role}); --user and --role change that`,
    );
  console.log(`  MQTT (mutual TLS) ${runtime.mqttUrl}   CA ${rel(runtime.ca.caCertFile)}`);
  console.log(
    `  device certificates ${rel(path.join(runtime.dataDir, 'certs', 'devices'))}/<thing>.crt|.key  (new ones: aiot certs device <thing>${dataDirFlag(settings.dataDir)})`,
  );
  console.log(
    `  topics dt/<use case>/<thing>/telemetry or $aws/rules/<use_case>_ingest/dt/<use case>/<thing>/telemetry (${useCases.map((useCase) => localRuleName(useCase.id)).join(', ')})`,
  );
  console.log(
    `  store ${rel(runtime.store.file)}   query: npm run aiot -- query "SELECT count(*) FROM telemetry"${dataDirFlag(settings.dataDir)}`,
  );
  if (runtime.queue.recovered > 0)
    console.log(
      `  ingest queue: ${runtime.queue.recovered} messages accepted before the last stop, ingesting them first`,
    );
  for (const { model, trained, server, useCase } of runtime.scorings.values()) {
    console.log(
      `  model ${model.modelVersion} (${trained ? 'trained now on simulated normal operation' : 'loaded'}) for ${useCase}, served on http://127.0.0.1:${server.port}; scores ${model.tracked.map((t) => t.sensor).join(', ')}`,
    );
    // What the settings' choice found: a declared fault the model misses is the author's to know.
    for (const warning of model.selection?.warnings ?? []) console.log(`  warning (${useCase}): ${warning}`);
  }
  console.log(
    `  ${settings.devices} simulated devices per use case (${useCases.map((useCase) => `${simulatedThingPrefix(useCase)}-001…`).join(', ')}), sensors read at ${settings.rate} Hz${settings.duration ? `, for ${settings.duration} s` : ''}; Ctrl-C stops cleanly`,
  );
}

/**
 * What a newcomer should expect and when: the history that calibrates new devices, and the demo
 * faults with the alerts they raise.
 */
export function printExpectations(
  runtime: LocalRuntime,
  fleets: readonly SimulatedFleet[],
  demos: readonly PlannedDemo[],
  demoAfterMinutes: number,
): void {
  for (const fleet of fleets) {
    if (fleet.history.things.length === 0) continue;
    console.log(
      `  ${fleet.history.things.length} new devices of ${fleet.useCase} first send their last ${roughDuration(fleet.history.seconds).replace('about ', '')} of readings (as after an outage), so they calibrate within a minute or two; --no-history calibrates them live`,
    );
  }
  if (runtime.scorings.size > 0 && demos.length > 0) {
    console.log(
      `  demo: ${demos.map((d) => `${d.thing} develops ${d.faultId}`).join(', ')} ${demoAfterMinutes} min after its calibration (simulated faults; --no-demo-fault: none). Watch for ALERT lines, then answer them in the console or with "npm run aiot -- alerts list"`,
    );
  }
}

/** Scoring counters summed over the use cases, with the slowest use case's latency. */
export function scoringTotals(
  runtime: LocalRuntime,
): (ScoringCounters & { latency: { p50: number; p99: number } | undefined }) | undefined {
  const setups = [...runtime.scorings.values()];
  if (setups.length === 0) return undefined;
  const latencies = setups.flatMap((setup) => setup.scoring.latency() ?? []);
  const sum = (key: 'scored' | 'skipped' | 'calibrating' | 'anomalies') =>
    setups.reduce((total, setup) => total + setup.scoring.counters[key], 0);
  return {
    scored: sum('scored'),
    skipped: sum('skipped'),
    calibrating: sum('calibrating'),
    anomalies: sum('anomalies'),
    latency: latencies.reduce<{ p50: number; p99: number } | undefined>(
      (worst, latency) => (worst && worst.p99 >= latency.p99 ? worst : latency),
      undefined,
    ),
  };
}

/**
 * The end-of-run table. Each column says what it counts on a second header line: MQTT messages
 * (a packed one holds several readings) or readings. `acknowledged` counts the simulated fleet's
 * readings only; `stored` also counts other clients' (mosquitto_pub, `aiot edge`).
 */
export function printSummary(runtime: LocalRuntime, seconds: number, acknowledged: number | undefined): void {
  const c = runtime.counters;
  const scoring = scoringTotals(runtime);
  const columns: [string, string, unknown][] = [
    ['messages', 'received', c.received],
    ['acknowledged', 'fleet readings', acknowledged ?? '-'],
    ['stored', 'readings', c.stored],
    ['duplicates', 'readings', c.duplicates],
    ['quarantined', 'readings', c.quarantined],
    ['scored', 'readings', scoring?.scored ?? '-'],
    // Stored but not scored (the model refused or timed out): the status line says why as it runs.
    ['unscored', 'readings', scoring?.skipped ?? '-'],
    ['anomalies', 'readings', scoring?.anomalies ?? '-'],
    ['refused', 'publishes', c.refused],
    ['dead-letter', 'messages', runtime.queue.deadLetterCount],
    ['stored/s', 'readings', (c.stored / seconds).toFixed(1)],
    ['seconds', '', seconds.toFixed(1)],
  ];
  const head = columns.map(([name, unit]) => (unit ? `${name}\n${unit}` : name));
  printTable(head, [
    Object.fromEntries(columns.map(([name, unit, value]) => [unit ? `${name}\n${unit}` : name, value])),
  ]);
}

/**
 * The end-of-run table read back, figures by column name (NaN for one it lacks): for the tests and
 * benches that check what a run reports against what the store holds.
 */
export function parseSummary(stdout: string): Record<string, number> {
  const lines = stdout.split('\n').filter((line) => line.startsWith('│'));
  const cells = (line: string | undefined) =>
    (line ?? '')
      .split('│')
      .slice(1, -1)
      .map((cell) => cell.trim());
  // Names, then what each counts, then the figures.
  const [names, figures] = [cells(lines.at(-3)), cells(lines.at(-1))];
  return Object.fromEntries(names.map((name, index) => [name, Number(figures[index] ?? NaN)]));
}
