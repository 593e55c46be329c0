import * as path from 'node:path';
import { Command } from 'commander';
import { SimulatedFleet } from '../../local/fleet.ts';
import { LocalRuntime, localRuleName } from '../../local/runtime.ts';
import { StatusLine, type StatusSource } from '../../local/status-line.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { startConsoleServer } from '../../local/console-server.ts';
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
    .option('--devices <n>', 'simulated pumps (0 for none)', integer('--devices', 0, 10_000), 10)
    .option('--rate <hz>', 'readings per second per pump', positiveNumber('--rate', 1000), 1)
    .option(
      '--duration <seconds>',
      'stop by itself after this long',
      positiveNumber('--duration', 31_536_000),
    )
    .option(
      '--mqtt-port <port>',
      'MQTT over TLS port (0: any free port)',
      integer('--mqtt-port', 0, 65_535),
      8883,
    )
    .option(
      '--api-port <port>',
      'query API port on 127.0.0.1 (0: any free port)',
      integer('--api-port', 0, 65_535),
      8884,
    )
    .option('--batch-size <n>', 'messages per ingest batch', integer('--batch-size', 1, 10_000), 100)
    .option(
      '--model-port <port>',
      'local model server port (0: any free port)',
      integer('--model-port', 0, 65_535),
      8885,
    )
    .option('--no-model', 'ingest only: no anomaly scoring')
    .option(
      '--console-port <port>',
      'operator console port on 127.0.0.1 (0: any free port)',
      integer('--console-port', 0, 65_535),
      8886,
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
  let consoleServer: Awaited<ReturnType<typeof startConsoleServer>> | undefined;
  if (options.console) {
    try {
      consoleServer = await startConsoleServer({
        files: await buildConsole(),
        apiPort: runtime.apiPort,
        actor: actorOf(options),
        port: options.consolePort,
      });
    } catch (error) {
      await runtime.stop();
      throw error;
    }
  }
  const startedAt = Date.now();
  const status = new StatusLine(() => statusOf(runtime));
  const pipeline: { fleet?: SimulatedFleet } = {};
  const fleetBacklog = () => pipeline.fleet?.statuses.reduce((sum, s) => sum + s.queueDepth, 0) ?? 0;
  let requestStop: (why: string) => void = () => undefined;
  const stopRequested = new Promise<string>((resolve) => {
    requestStop = resolve;
  });
  // Installed before anything is announced, so an early Ctrl-C also stops cleanly.
  const signals = new ShutdownSignals({
    stop: requestStop,
    atRisk: () =>
      `Quitting now loses nothing that was acknowledged: the ingest queue's ${runtime.queue.depth} messages stay in its journal and are ingested at the next start, the pumps' ${fleetBacklog()} buffered readings stay on their disks; scores of readings in flight would be missing.`,
  });
  signals.install();
  printBanner(runtime, useCases, options, consoleServer?.url);
  const primary = useCases[0];
  if (primary) pipeline.fleet = await startFleet(runtime, primary, options);
  status.start();
  const timer = options.duration
    ? setTimeout(() => {
        requestStop(`--duration ${options.duration}`);
      }, options.duration * 1000)
    : undefined;
  const why = await stopRequested;
  clearTimeout(timer);
  status.stop();
  console.log(`stopping (${why}): the pumps send what they buffered, then the queue is ingested...`);
  const progress = setInterval(() => {
    console.log(
      `  draining: ${fleetBacklog()} readings buffered on the pumps, ${runtime.queue.depth} messages in the ingest queue`,
    );
  }, 1000);
  try {
    await pipeline.fleet?.stop();
    await consoleServer?.close();
    await runtime.stop();
  } finally {
    clearInterval(progress);
    signals.uninstall();
  }
  printSummary(runtime, (Date.now() - startedAt) / 1000, pipeline.fleet?.publishedCount);
}

function statusOf(runtime: LocalRuntime): StatusSource {
  return {
    counters: runtime.counters,
    queueDepth: runtime.queue.depth,
    deadLetters: runtime.queue.deadLetterCount,
    devices: runtime.connectedDevices,
    scoring: runtime.scoring && {
      ...runtime.scoring.scoring.counters,
      latency: runtime.scoring.scoring.latency(),
    },
  };
}

function startFleet(
  runtime: LocalRuntime,
  useCase: UseCaseManifest,
  options: StartOptions,
): Promise<SimulatedFleet> {
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
  const primary = useCases[0];
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
  if (primary)
    console.log(
      `  topics dt/${primary.id}/<thing>/telemetry or $aws/rules/${localRuleName(primary.id)}/dt/${primary.id}/<thing>/telemetry`,
    );
  console.log(
    `  store ${rel(runtime.store.file)}   query: npm run aiot -- query "SELECT count(*) FROM telemetry"${dataDirFlag(options.dataDir)}`,
  );
  if (runtime.queue.recovered > 0)
    console.log(
      `  ingest queue: ${runtime.queue.recovered} messages accepted before the last stop, ingesting them first`,
    );
  if (runtime.scoring) {
    const { model, trained, server, useCase } = runtime.scoring;
    console.log(
      `  model ${model.modelVersion} (${trained ? 'trained now on simulated normal operation' : 'loaded'}) for ${useCase}, served on http://127.0.0.1:${server.port}; scores ${model.tracked.map((t) => t.sensor).join(', ')}`,
    );
  }
  console.log(
    `  ${options.devices} simulated pumps at ${options.rate} Hz${options.duration ? `, for ${options.duration} s` : ''}; Ctrl-C stops cleanly`,
  );
}

/** `acknowledged`: readings the broker acknowledged to the simulated pumps (packed, several a message). */
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
        scored: runtime.scoring?.scoring.counters.scored ?? '-',
        anomalies: runtime.scoring?.scoring.counters.anomalies ?? '-',
      },
    ],
  );
}
