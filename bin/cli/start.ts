import * as path from 'node:path';
import { Command } from 'commander';
import { SimulatedFleet } from '../../local/fleet/fleet.ts';
import { LocalRuntime, localRuleName } from '../../local/runtime/runtime.ts';
import { StatusLine, type StatusSource } from '../../local/runtime/status-line.ts';
import type { ScoringCounters } from '../../local/scoring/scoring.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { simulatedThingPrefix } from '../../core/simulation/device-simulator.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { LISTENERS } from '../../local/runtime/ports.ts';
import { buildConsole } from '../../tools/console-bundle.ts';
import { actorOf, actorOptions, dataDirFlag, dataDirOption, integer, positiveNumber } from './options.ts';
import { printTable } from './output.ts';
import { ShutdownSignals } from './shutdown.ts';

interface StartOptions {
  devices: number;
  rate: number;
  duration?: number;
  mqttPort: number;
  apiPort: number;
  batchSize: number;
  modelPort: number;
  model: boolean;
  consolePort: number;
  console: boolean;
  user: string;
  role: string;
  dataDir: string;
}

export function startCommand(): Command {
  const command = new Command('start')
    .description(
      'start the local pipeline: MQTT broker with mutual TLS, ingest, DuckDB store and a simulated fleet',
    )
    .option(
      '--devices <n>',
      'simulated devices per use case (pumps, air handling units; 0 for none)',
      integer('--devices', 0, 10_000),
      10,
    )
    .option(
      '--rate <hz>',
      'sensor readings per second per device (the edge may send fewer: aggregation, deadband)',
      positiveNumber('--rate', 1000),
      1,
    )
    .option(
      '--duration <seconds>',
      'stop by itself after this long',
      positiveNumber('--duration', 31_536_000),
    )
    .option(
      '--mqtt-port <port>',
      'MQTT over TLS port (0: any free port)',
      integer('--mqtt-port', 0, 65_535),
      LISTENERS.mqtt.default,
    )
    .option(
      '--api-port <port>',
      'query API port on 127.0.0.1 (0: any free port)',
      integer('--api-port', 0, 65_535),
      LISTENERS.api.default,
    )
    .option('--batch-size <n>', 'messages per ingest batch', integer('--batch-size', 1, 10_000), 100)
    .option(
      '--model-port <port>',
      'first model server port, the next use case gets the next one (default: free ports, printed)',
      integer('--model-port', 0, 65_535),
      LISTENERS.model.default,
    )
    .option('--no-model', 'ingest only: no anomaly scoring')
    .option(
      '--console-port <port>',
      'operator console port on 127.0.0.1 (0: any free port)',
      integer('--console-port', 0, 65_535),
      LISTENERS.console.default,
    )
    .option('--no-console', 'no operator console')
    .addOption(dataDirOption());
  return actorOptions(command).action(runLocalPipeline);
}

async function runLocalPipeline(options: StartOptions): Promise<void> {
  const { useCases, contracts } = loadCatalog();
  const runtime = await LocalRuntime.start({
    useCases,
    contracts,
    actor: actorOf(options),
    dataDir: options.dataDir,
    mqttPort: options.mqttPort,
    apiPort: options.apiPort,
    batchSize: options.batchSize,
    modelPort: options.model ? options.modelPort : false,
    ...(options.console
      ? { console: { files: await buildConsole(), actor: actorOf(options), port: options.consolePort } }
      : {}),
    onError: (error) => {
      console.error('\ningest or scoring failed:', error);
    },
    onWarning: (message) => {
      console.error(`\n${message}`);
    },
    onModelChange: (useCase, modelVersion) => {
      console.log(
        `\nMODEL ${useCase} now scores with ${modelVersion} (approved or rolled back in the registry)`,
      );
    },
    // What the cloud publishes as Sensor Unhealthy and Drift Detected events.
    onDrift: (report) => {
      for (const f of report.findings) {
        console.log(
          `\nDRIFT ${report.useCase} ${f.check} ${f.deviceId ?? 'model'}${f.sensor ? `/${f.sensor}` : ''}: ${f.summary}; ${f.action}`,
        );
      }
    },
    // What SNS would send to the people subscribed to the use case's topic.
    onNotification: (notification) => {
      const devices = notification.alerts
        .map((a) => `${a.deviceId} (${a.severity}, ${a.contributors[0]?.sensor ?? '-'})`)
        .join(', ');
      console.log(
        `\nALERT ${notification.useCase}/${notification.group}: ${notification.alerts.length} new: ${devices}; aiot alerts list --status open`,
      );
    },
  });
  const startedAt = Date.now();
  const status = new StatusLine(() => statusOf(runtime));
  const pipeline: { fleets: SimulatedFleet[] } = { fleets: [] };
  const fleetBacklog = () =>
    pipeline.fleets.reduce(
      (sum, fleet) => sum + fleet.statuses.reduce((total, status) => total + status.queueDepth, 0),
      0,
    );
  let requestStop: (why: string) => void = () => undefined;
  const stopRequested = new Promise<string>((resolve) => {
    requestStop = resolve;
  });
  // Installed before anything is announced, so an early Ctrl-C also stops cleanly.
  const signals = new ShutdownSignals({
    stop: requestStop,
    atRisk: () =>
      `Quitting now loses nothing that was acknowledged: the ingest queue's ${runtime.queue.depth} messages stay in its journal and are ingested at the next start, the devices' ${fleetBacklog()} buffered readings stay on their disks; scores of readings in flight would be missing.`,
  });
  signals.install();
  printBanner(runtime, useCases, options, runtime.consoleUrl);
  for (const useCase of useCases) {
    const fleet = await startFleet(runtime, useCase, options);
    if (fleet) pipeline.fleets.push(fleet);
  }
  status.start();
  const timer = options.duration
    ? setTimeout(() => {
        requestStop(`--duration ${options.duration}`);
      }, options.duration * 1000)
    : undefined;
  const why = await stopRequested;
  clearTimeout(timer);
  status.stop();
  console.log(`stopping (${why}): the devices send what they buffered, then the queue is ingested...`);
  const progress = setInterval(() => {
    console.log(
      `  draining: ${fleetBacklog()} readings buffered on the devices, ${runtime.queue.depth} messages in the ingest queue`,
    );
  }, 1000);
  try {
    await Promise.all(pipeline.fleets.map((fleet) => fleet.stop()));
    await runtime.stop();
  } finally {
    clearInterval(progress);
    signals.uninstall();
  }
  printSummary(
    runtime,
    (Date.now() - startedAt) / 1000,
    pipeline.fleets.length === 0
      ? undefined
      : pipeline.fleets.reduce((sum, fleet) => sum + fleet.publishedCount, 0),
  );
}

function statusOf(runtime: LocalRuntime): StatusSource {
  return {
    counters: runtime.counters,
    queueDepth: runtime.queue.depth,
    deadLetters: runtime.queue.deadLetterCount,
    devices: runtime.connectedDevices,
    scoring: scoringTotals(runtime),
  };
}

/** Scoring counters summed over the use cases, with the slowest use case's latency. */
function scoringTotals(
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

/** The use case's simulated fleet; none when it has no simulator (said once). */
async function startFleet(
  runtime: LocalRuntime,
  useCase: UseCaseManifest,
  options: StartOptions,
): Promise<SimulatedFleet | undefined> {
  if (options.devices === 0) return undefined;
  if (!useCase.simulation && !useCase.contract.startsWith('pump.telemetry@')) {
    console.log(`  ${useCase.id}: no simulation section in its manifest, so no simulated devices`);
    return undefined;
  }
  return SimulatedFleet.start({
    url: runtime.mqttUrl,
    ca: runtime.ca,
    useCase,
    contract: runtime.contracts.get(useCase.contract),
    devices: options.devices,
    rate: options.rate,
    dataDir: path.join(runtime.dataDir, 'edge'),
    onLog: (level, message) => {
      if (level === 'warn') console.error(`\n${message}`);
    },
  });
}

function printBanner(
  runtime: LocalRuntime,
  useCases: readonly UseCaseManifest[],
  options: StartOptions,
  consoleUrl: string | undefined,
): void {
  const rel = (file: string) => path.relative(process.cwd(), file);
  console.log(`aiot local pipeline: use cases ${useCases.map((u) => u.id).join(', ')}`);
  if (consoleUrl)
    console.log(
      `  operator console ${consoleUrl}   acting as ${options.user} (${options.role}); --user and --role change that`,
    );
  console.log(`  MQTT (mutual TLS) ${runtime.mqttUrl}   CA ${rel(runtime.ca.caCertFile)}`);
  console.log(
    `  device certificates ${rel(path.join(runtime.dataDir, 'certs', 'devices'))}/<thing>.crt|.key  (new ones: aiot certs device <thing>${dataDirFlag(options.dataDir)})`,
  );
  console.log(
    `  topics dt/<use case>/<thing>/telemetry or $aws/rules/<use_case>_ingest/dt/<use case>/<thing>/telemetry (${useCases.map((useCase) => localRuleName(useCase.id)).join(', ')})`,
  );
  console.log(
    `  store ${rel(runtime.store.file)}   query: npm run aiot -- query "SELECT count(*) FROM telemetry"${dataDirFlag(options.dataDir)}`,
  );
  if (runtime.queue.recovered > 0)
    console.log(
      `  ingest queue: ${runtime.queue.recovered} messages accepted before the last stop, ingesting them first`,
    );
  for (const { model, trained, server, useCase } of runtime.scorings.values()) {
    console.log(
      `  model ${model.modelVersion} (${trained ? 'trained now on simulated normal operation' : 'loaded'}) for ${useCase}, served on http://127.0.0.1:${server.port}; scores ${model.tracked.map((t) => t.sensor).join(', ')}`,
    );
  }
  console.log(
    `  ${options.devices} simulated devices per use case (${useCases.map((useCase) => `${simulatedThingPrefix(useCase)}-001…`).join(', ')}), sensors read at ${options.rate} Hz${options.duration ? `, for ${options.duration} s` : ''}; Ctrl-C stops cleanly`,
  );
}

/** `acknowledged`: readings the broker acknowledged to the simulated devices (packed, several a message). */
function printSummary(runtime: LocalRuntime, seconds: number, acknowledged: number | undefined): void {
  const c = runtime.counters;
  printTable(
    [
      'messages',
      'acknowledged',
      'stored',
      'duplicates',
      'quarantined',
      'refused',
      'dead-letter',
      'seconds',
      'stored/s',
      'scored',
      'anomalies',
    ],
    [
      {
        messages: c.received,
        acknowledged: acknowledged ?? '-',
        stored: c.stored,
        duplicates: c.duplicates,
        quarantined: c.quarantined,
        refused: c.refused,
        'dead-letter': runtime.queue.deadLetterCount,
        seconds: seconds.toFixed(1),
        'stored/s': (c.stored / seconds).toFixed(1),
        scored: scoringTotals(runtime)?.scored ?? '-',
        anomalies: scoringTotals(runtime)?.anomalies ?? '-',
      },
    ],
  );
}
