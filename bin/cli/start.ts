import * as path from 'node:path';
import { Command } from 'commander';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { DemoFaults } from '../../local/fleet/demo-faults.ts';
import { SimulatedFleet } from '../../local/fleet/fleet.ts';
import { CalibrationProgress } from '../../local/runtime/calibration-progress.ts';
import { LISTENERS } from '../../local/runtime/ports.ts';
import { LocalRuntime, type LocalRuntimeOptions } from '../../local/runtime/runtime.ts';
import { StatusLine, type StatusSource } from '../../local/runtime/status-line.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { buildConsole } from '../../tools/console-bundle.ts';
import { actorOf, actorOptions, dataDirOption, integer, positiveNumber } from './options.ts';
import { ShutdownSignals } from './shutdown.ts';
import {
  printBanner,
  printExpectations,
  printSummary,
  scoringTotals,
  type PlannedDemo,
  type StartSettings,
} from './start-output.ts';

interface StartOptions extends StartSettings {
  mqttPort: number;
  apiPort: number;
  batchSize: number;
  modelPort: number;
  model: boolean;
  consolePort: number;
  console: boolean;
  history: boolean;
  demoFault: boolean;
  demoFaultAfter: number;
}

const port = (flag: string) => integer(flag, 0, 65_535);

export function startCommand(): Command {
  const command = new Command('start')
    .description(
      'start the local pipeline: MQTT broker with mutual TLS, ingest, DuckDB store, scoring, alerts, console and a simulated fleet',
    )
    .option(
      '--devices <n>',
      'simulated devices per use case (0 for none)',
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
    .option('--no-history', 'new simulated devices calibrate live instead of sending their past first')
    .option(
      '--demo-fault-after <minutes>',
      'one simulated device per use case develops a fault this long after its calibration',
      integer('--demo-fault-after', 0, 10_080),
      1,
    )
    .option('--no-demo-fault', 'no simulated device develops a fault')
    .option(
      '--mqtt-port <port>',
      'MQTT over TLS port (0: any free port)',
      port('--mqtt-port'),
      LISTENERS.mqtt.default,
    )
    .option(
      '--api-port <port>',
      'query API port on 127.0.0.1 (0: any free port)',
      port('--api-port'),
      LISTENERS.api.default,
    )
    .option('--batch-size <n>', 'messages per ingest batch', integer('--batch-size', 1, 10_000), 100)
    .option(
      '--model-port <port>',
      'first model server port, the next use case gets the next one (default: free ports, printed)',
      port('--model-port'),
      LISTENERS.model.default,
    )
    .option('--no-model', 'ingest only: no anomaly scoring')
    .option(
      '--console-port <port>',
      'operator console port on 127.0.0.1 (0: any free port)',
      port('--console-port'),
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
    ...announcements(),
  });
  const startedAt = Date.now();
  const fleets: SimulatedFleet[] = [];
  let requestStop: (why: string) => void = () => undefined;
  const stopRequested = new Promise<string>((resolve) => {
    requestStop = resolve;
  });
  const fleetBacklog = () =>
    fleets.reduce((sum, fleet) => sum + fleet.statuses.reduce((total, s) => total + s.queueDepth, 0), 0);
  // Installed before anything is announced, so an early Ctrl-C also stops cleanly.
  const signals = new ShutdownSignals({
    stop: requestStop,
    atRisk: () =>
      `Quitting now loses nothing that was acknowledged: the ingest queue's ${runtime.queue.depth} messages stay in its journal and are ingested at the next start, the devices' ${fleetBacklog()} buffered readings stay on their disks; scores of readings in flight would be missing.`,
  });
  signals.install();
  printBanner(runtime, useCases, options);
  for (const useCase of useCases) {
    const fleet = await startFleet(runtime, useCase, options);
    if (fleet) fleets.push(fleet);
  }
  const watch = watchTheFleet(runtime, fleets, options);
  const timer = options.duration
    ? setTimeout(() => {
        requestStop(`--duration ${options.duration}`);
      }, options.duration * 1000)
    : undefined;
  const why = await stopRequested;
  clearTimeout(timer);
  watch.stop();
  console.log(`stopping (${why}): the devices send what they buffered, then the queue is ingested...`);
  const progress = setInterval(() => {
    console.log(
      `  draining: ${fleetBacklog()} readings buffered on the devices, ${runtime.queue.depth} messages in the ingest queue`,
    );
  }, 1000);
  try {
    await Promise.all(fleets.map((fleet) => fleet.stop()));
    await runtime.stop();
  } finally {
    clearInterval(progress);
    signals.uninstall();
  }
  const acknowledged = fleets.length === 0 ? undefined : fleets.reduce((sum, f) => sum + f.publishedCount, 0);
  printSummary(runtime, (Date.now() - startedAt) / 1000, acknowledged);
}

/** What the runtime says as it runs: alerts, drift, model changes, failures. */
function announcements(): Partial<LocalRuntimeOptions> {
  return {
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
        `\nALERT ${notification.useCase}/${notification.group}: ${notification.alerts.length} new: ${devices}; answer it in the console or: npm run aiot -- alerts list --status open`,
      );
    },
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
    history: options.history,
    onLog: (level, message) => {
      if (level === 'warn') console.error(`\n${message}`);
    },
  });
}

/**
 * The status line with each use case's calibration, the lines that say when a use case is
 * calibrated, and the demo faults. Stopped before the summary.
 */
function watchTheFleet(runtime: LocalRuntime, fleets: readonly SimulatedFleet[], options: StartOptions) {
  const baselines = runtime.baselines;
  const calibration = baselines
    ? new CalibrationProgress(
        baselines,
        new Map(
          [...runtime.scorings].map(([useCase, setup]) => [
            useCase,
            { readings: setup.calibrationReadings, idleMs: 2 * setup.heartbeatMs },
          ]),
        ),
      )
    : undefined;
  const demos = baselines && options.demoFault ? demoFaults(fleets) : [];
  printExpectations(runtime, fleets, demos, options.demoFaultAfter);
  const demo =
    baselines && demos.length > 0
      ? new DemoFaults({
          baselines,
          afterMs: options.demoFaultAfter * 60_000,
          faults: demos.map((d) => ({
            ...d,
            inject: () => {
              fleets.find((fleet) => fleet.useCase === d.useCase)?.inject(d.thing, d.faultId);
            },
          })),
          onInjected: (d) => {
            console.log(
              `\nDEMO ${d.useCase} ${d.thing} develops ${d.faultId} now (a simulated fault): an ALERT should follow`,
            );
          },
          onError: (error) => {
            console.error('\ndemo fault failed:', error);
          },
        })
      : undefined;
  const calibrated = new Set<string>();
  const refresh = setInterval(() => {
    void calibration?.refresh().then((summaries) => {
      for (const s of summaries) {
        if (s.devices === 0 || s.calibrated < s.devices || calibrated.has(s.useCase)) continue;
        calibrated.add(s.useCase);
        console.log(
          `\nCALIBRATED ${s.useCase}: all ${s.devices} devices have their own baseline; alerts may open from now on`,
        );
      }
    });
  }, 5000);
  refresh.unref();
  const status = new StatusLine(() => statusOf(runtime, calibration));
  status.start();
  return {
    stop: () => {
      clearInterval(refresh);
      demo?.stop();
      status.stop();
    },
  };
}

/** The last simulated device of each fleet, with the fault its simulator shows best. */
function demoFaults(fleets: readonly SimulatedFleet[]): PlannedDemo[] {
  return fleets.flatMap((fleet) => {
    const thing = fleet.things.at(-1);
    const faultId = thing === undefined ? undefined : fleet.demoFaultOf(thing);
    return thing === undefined || faultId === undefined ? [] : [{ useCase: fleet.useCase, thing, faultId }];
  });
}

function statusOf(runtime: LocalRuntime, calibration: CalibrationProgress | undefined): StatusSource {
  return {
    counters: runtime.counters,
    queueDepth: runtime.queue.depth,
    deadLetters: runtime.queue.deadLetterCount,
    devices: runtime.connectedDevices,
    scoring: scoringTotals(runtime),
    calibration: calibration?.text() ?? '',
  };
}
