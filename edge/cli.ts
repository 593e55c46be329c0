import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { resolveEdgeSettings } from '../core/edge/settings.ts';
import { basicIngestTopic, healthTopic, telemetryTopic } from '../core/ingest/topics.ts';
import { deviceSimulator } from '../core/simulation/device-simulator.ts';
import type { DataContract, ReadingOrigin } from '../core/contracts/contract.ts';
import type { UseCaseManifest } from '../core/usecase/manifest.ts';
import { EdgeAgent, type EdgeAgentStatus } from './agent.ts';
import { agentOptions, parseColumns, type EdgeRunOptions } from './cli-options.ts';
import { checkSource, deviceIdentity, manifestAndContract, readCredential } from './device-setup.ts';
import { IdentityRenewal } from './provisioning.ts';
import { RefusalReporter } from './refusal-reporter.ts';
import { csvSource, jsonLinesSource, simulatorSource, type ReadingSource } from './sources.ts';

export type { EdgeRunOptions } from './cli-options.ts';

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatStatus(status: EdgeAgentStatus): string {
  const spikes = Object.values(status.spikes).reduce((sum, n) => sum + n, 0);
  return [
    `${status.thing} ${status.connected ? 'online ' : 'OFFLINE'}`,
    `queue ${status.queueDepth} (disk ${formatBytes(status.queueBytes)}, oldest ${status.oldestAgeSeconds.toFixed(0)} s)`,
    `sent ${status.sent} in ${status.published} messages`,
    `readings ${status.readings}`,
    `filtered ${status.filtered}`,
    `rejected ${status.rejected}`,
    `spikes ${spikes}`,
    `dropped ${status.dropped}`,
    ...(status.lastError && !status.connected ? [`last error: ${status.lastError}`] : []),
  ].join('  ');
}

/** The readings of the chosen source. */
function sourceOf(
  options: EdgeRunOptions,
  thing: string,
  manifest: UseCaseManifest,
  contract: DataContract,
  signal: AbortSignal,
): ReadingSource {
  if (options.source === 'csv') {
    if (!options.csv) throw new InvalidArgumentError('--source csv needs --csv <file>');
    return csvSource({
      file: options.csv,
      columns: parseColumns(options.columns),
      rate: options.rate,
      time: options.time,
      signal,
    });
  }
  if (options.source === 'stdin') return jsonLinesSource(process.stdin);
  return simulatorSource({
    thing,
    rate: options.rate,
    // The use case's own simulator (its manifest's simulation section; the pump's built in).
    simulator: deviceSimulator(manifest, contract, options.seed),
    signal,
    ...(options.count === undefined ? {} : { count: options.count }),
  });
}

interface Device {
  readonly thing: string;
  readonly origin: ReadingOrigin;
  readonly manifest: UseCaseManifest;
  readonly contract: DataContract;
  readonly credentials: { ca: Buffer; cert: Buffer | string; key: Buffer | string };
  readonly identityDir?: string;
}

/** The agent for the device, as the command line sets it up. */
function startAgent(options: EdgeRunOptions, device: Device, refusals: RefusalReporter): EdgeAgent {
  const { thing, manifest, identityDir } = device;
  return EdgeAgent.start({
    identity: {
      thing,
      firmware: options.firmware,
      hardwareGeneration: options.hardwareGeneration,
      origin: device.origin,
    },
    contract: device.contract,
    settings: resolveEdgeSettings(manifest.edge, thing),
    connection: {
      url: options.endpoint,
      ...device.credentials,
      topic: options.ruleName
        ? basicIngestTopic(options.ruleName, manifest.id, thing)
        : telemetryTopic(manifest.id, thing),
      ...(options.health ? { healthTopic: healthTopic(manifest.id, thing) } : {}),
    },
    ...(identityDir !== undefined && options.template !== undefined
      ? {
          renewal: new IdentityRenewal({
            dir: identityDir,
            templateName: options.template,
            useCase: manifest.id,
            renewBeforeMs: options.renewBeforeDays * 86_400_000,
          }),
        }
      : {}),
    dataDir: options.dataDir ?? path.join('.aiot', 'edge', thing),
    maxQueueBytes: options.maxQueueMb * 1024 * 1024,
    overflow: options.overflow,
    fsync: options.fsync,
    maxSendRate: options.maxSendRate,
    maxInFlight: options.maxInFlight,
    maxPackBytes: options.packBytes,
    packWaitMs: options.packWait * 1000,
    healthIntervalMs: options.healthInterval * 1000,
    onLog: (level, message) => {
      console.error(`${new Date().toISOString()} ${level} ${message}`);
    },
    onReject: (reasons) => {
      refusals.say(reasons);
    },
  });
}

/** Runs the agent until the source ends (then drains) or a signal arrives. */
export async function runEdgeAgent(options: EdgeRunOptions): Promise<EdgeAgentStatus> {
  const origin = checkSource(options);
  const { manifest, contract } = manifestAndContract(options);
  const ca = readCredential(
    options.ca ?? path.join(options.certsDir, 'ca.crt'),
    'CA certificate',
    '--ca',
    options.certsDir,
  );
  const { thing, credentials, identityDir } = await deviceIdentity(options, ca);
  const refusals = new RefusalReporter();
  const abort = new AbortController();
  const source = sourceOf(options, thing, manifest, contract, abort.signal);
  const device = {
    thing,
    origin,
    manifest,
    contract,
    credentials,
    ...(identityDir === undefined ? {} : { identityDir }),
  };
  const agent = startAgent(options, device, refusals);
  refusals.file = agent.rejectFile;
  const report = () => {
    refusals.flush();
    if (options.status === 'json')
      console.log(JSON.stringify({ timestamp: new Date().toISOString(), ...agent.status }));
    else if (options.status === 'text') console.log(formatStatus(agent.status));
  };
  const statusTimer =
    options.status === 'off' ? undefined : setInterval(report, options.statusInterval * 1000);
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    abort.abort();
    if (options.source === 'stdin') process.stdin.destroy();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await agent.run(source);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  // The source ended or was interrupted: what is not acknowledged within --drain stays on disk.
  const status = await agent.stop(options.drain * 1000, { waitForConnection: !interrupted });
  clearInterval(statusTimer);
  if (options.status !== 'off') report();
  refusals.flush();
  return status;
}

/** The agent's command line, as `aiot-edge` on a device and as `aiot edge` in the repository. */
export function edgeCommand(
  name: string,
  prepare?: (options: EdgeRunOptions, command: Command) => Promise<void>,
): Command {
  return agentOptions(
    new Command(name).description(
      'run the edge agent: read sensors, filter, buffer on disk, publish over MQTT/TLS',
    ),
  ).action(async (options: EdgeRunOptions, command: Command) => {
    checkSource(options);
    if (prepare) await prepare(options, command);
    await runEdgeAgent(options);
  });
}
