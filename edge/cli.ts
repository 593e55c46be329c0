import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { DataContract, ReadingOrigin } from '../core/contracts/contract.ts';
import { contractFileName, parseContractFile } from '../core/contracts/document.ts';
import { ContractRegistry } from '../core/contracts/registry.ts';
import { resolveEdgeSettings } from '../core/edge/settings.ts';
import {
  basicIngestTopic,
  healthTopic,
  MAX_PUBLISHES_PER_CONNECTION_PER_SECOND,
  telemetryTopic,
} from '../core/ingest/topics.ts';
import { acceptedContractRefs, parseManifest, type UseCaseManifest } from '../core/usecase/manifest.ts';
import { IOT_METERING_UNIT_BYTES } from '../core/contracts/pack.ts';
import { DEFAULT_RENEW_BEFORE_DAYS, IdentityRenewal, provisionByClaim } from './provisioning.ts';
import { deviceSimulator } from '../core/simulation/device-simulator.ts';
import { DEFAULT_MAX_SEND_RATE, EdgeAgent, type EdgeAgentStatus } from './agent.ts';
import type { FsyncPolicy, OverflowPolicy } from './disk-queue.ts';
import { csvSource, jsonLinesSource, SKAB_COLUMNS, simulatorSource, type ReadingSource } from './sources.ts';
import { RefusalReporter } from './refusal-reporter.ts';

export interface EdgeRunOptions {
  /** The device's thing name; with a claim certificate, the one provisioning gives it. */
  thing?: string;
  /** Fleet provisioning by claim: the claim certificate and key, the serial number and the template. */
  claimCert?: string;
  claimKey?: string;
  serial?: string;
  template?: string;
  /** Where a provisioned identity is kept. @default .aiot/identity/<serial> */
  identityDir?: string;
  /** A provisioned identity's certificate is renewed this many days before it expires. */
  renewBeforeDays: number;
  endpoint: string;
  manifest: string;
  contractsDir: string;
  /** The contract version this device sends. @default the manifest's current one */
  contract?: string;
  certsDir: string;
  ca?: string;
  cert?: string;
  key?: string;
  ruleName?: string;
  source: 'simulator' | 'csv' | 'stdin';
  allowSimulator?: boolean;
  csv?: string;
  columns: string;
  time: 'now' | 'file' | 'shift';
  rate: number;
  count?: number;
  seed: number;
  firmware: string;
  hardwareGeneration: string;
  dataDir?: string;
  maxQueueMb: number;
  overflow: OverflowPolicy;
  fsync: FsyncPolicy;
  maxSendRate: number;
  maxInFlight: number;
  packBytes: number;
  packWait: number;
  health: boolean;
  healthInterval: number;
  status: 'text' | 'json' | 'off';
  statusInterval: number;
  drain: number;
}

function number(name: string, min: number, max: number, whole = false) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < min || parsed > max || (whole && !Number.isInteger(parsed)))
      throw new InvalidArgumentError(
        `${name} must be ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}, got "${value}"`,
      );
    return parsed;
  };
}

function fsyncPolicy(value: string): FsyncPolicy {
  if (value === 'always' || value === 'never') return value;
  const everyMs = Number(value);
  if (!Number.isInteger(everyMs) || everyMs < 1)
    throw new InvalidArgumentError(
      `--fsync must be "always", "never" or milliseconds between syncs, got "${value}"`,
    );
  return { everyMs };
}

/** `skab`, or `measure=column,...` */
export function parseColumns(value: string): Record<string, string> {
  if (value === 'skab') return { ...SKAB_COLUMNS };
  const pairs = value.split(',').map((pair) => pair.split('='));
  if (pairs.some((pair) => pair.length !== 2 || !pair[0] || !pair[1]))
    throw new InvalidArgumentError(`--columns must be "skab" or "measure=column,...", got "${value}"`);
  return Object.fromEntries(pairs.map(([measure, column]) => [measure?.trim() ?? '', column?.trim() ?? '']));
}

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

/** True for a broker on this machine: the local runtime, never a plant's cloud endpoint. */
export function isLocalEndpoint(endpoint: string): boolean {
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The simulator makes readings up: pointed at a real endpoint by mistake, it would feed a plant's
 * store with fiction. Against anything but a broker on this machine it needs --allow-simulator,
 * and its readings always say `origin: "simulated"`.
 */
export function checkSource(
  options: Pick<EdgeRunOptions, 'source' | 'endpoint' | 'allowSimulator'>,
): ReadingOrigin {
  if (options.source !== 'simulator') return 'device';
  if (!isLocalEndpoint(options.endpoint) && !options.allowSimulator)
    throw new InvalidArgumentError(
      `--source simulator publishes made-up readings; ${options.endpoint} is not the local runtime. Pass --allow-simulator to send them there anyway (each is tagged origin "simulated"), or choose --source csv|stdin`,
    );
  return 'simulated';
}

function readCredential(file: string, what: string, flag: string, certsDir: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new InvalidArgumentError(
      `cannot read the ${what} at ${file} (${reason}): pass ${flag}, or a --certs-dir holding ca.crt and devices/<thing>.crt|.key (now ${certsDir})`,
    );
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readContract(dir: string, ref: string): DataContract {
  const [id = '', version = ''] = ref.split('@');
  const file = path.join(dir, contractFileName(id, Number(version)));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new InvalidArgumentError(
      `cannot read contract ${ref} at ${file} (${reason}): pass --contracts-dir, the folder of the contract files`,
    );
  }
  return parseContractFile(text, file);
}

/**
 * The manifest and the contract version this device sends. A device reads only the contract
 * files its use case accepts, so a gateway carries a few small files, not the whole catalog.
 */
export function manifestAndContract(
  options: Pick<EdgeRunOptions, 'manifest' | 'contractsDir' | 'contract'>,
): { manifest: UseCaseManifest; contract: DataContract } {
  const text = readFileSync(options.manifest, 'utf8');
  // The manifest names its contracts; they are read first, so the manifest is checked against them.
  let named: unknown;
  try {
    named = parse(text);
  } catch {
    named = undefined; // parseManifest below reports the syntax error with its line
  }
  const refs = isRecord(named)
    ? [named.contract, ...(Array.isArray(named.alsoAccepts) ? (named.alsoAccepts as unknown[]) : [])].filter(
        (ref): ref is string => typeof ref === 'string' && /^[a-z][a-z0-9.-]*@\d+$/.test(ref),
      )
    : [];
  const contracts = new ContractRegistry(
    [...new Set(refs)].map((ref) => readContract(options.contractsDir, ref)),
  );
  const manifest = parseManifest(text, options.manifest, contracts);
  const ref = options.contract ?? manifest.contract;
  if (!acceptedContractRefs(manifest).includes(ref)) {
    throw new InvalidArgumentError(
      `--contract ${ref} is not accepted by ${manifest.id} (accepts ${acceptedContractRefs(manifest).join(', ')})`,
    );
  }
  return { manifest, contract: contracts.get(ref) };
}

/**
 * Who the device is: the thing and certificate it was given (`--thing`, `--cert`, `--key`), or,
 * with `--claim-cert`, the identity it provisions for itself on first start and keeps after.
 */
async function deviceIdentity(
  options: EdgeRunOptions,
  ca: Buffer,
): Promise<{
  thing: string;
  credentials: { ca: Buffer; cert: Buffer | string; key: Buffer | string };
  /** The identity folder of a device provisioned by claim: its certificate renews itself. */
  identityDir?: string;
}> {
  if (options.claimCert === undefined) {
    const thing = options.thing;
    if (thing === undefined)
      throw new InvalidArgumentError(
        'pass --thing, or --claim-cert with --serial to provision an identity first',
      );
    const credential = (flag: '--cert' | '--key', given: string | undefined, ext: string, what: string) =>
      readCredential(
        given ?? path.join(options.certsDir, 'devices', `${thing}.${ext}`),
        what,
        flag,
        options.certsDir,
      );
    return {
      thing,
      credentials: {
        ca,
        cert: credential('--cert', options.cert, 'crt', 'device certificate'),
        key: credential('--key', options.key, 'key', 'device key'),
      },
    };
  }
  const { serial, claimKey, template } = options;
  if (serial === undefined || claimKey === undefined || template === undefined)
    throw new InvalidArgumentError(
      '--claim-cert needs --claim-key, --serial and --template (the stack output ProvisioningTemplateName)',
    );
  const identityDir = options.identityDir ?? path.join('.aiot', 'identity', serial);
  const identity = await provisionByClaim({
    url: options.endpoint,
    ca,
    claimCert: readCredential(options.claimCert, 'claim certificate', '--claim-cert', options.certsDir),
    claimKey: readCredential(claimKey, 'claim key', '--claim-key', options.certsDir),
    templateName: template,
    serialNumber: serial,
    dir: identityDir,
  });
  if (options.thing !== undefined && options.thing !== identity.thing)
    throw new InvalidArgumentError(
      `--thing ${options.thing}, but this device was provisioned as ${identity.thing}`,
    );
  return { thing: identity.thing, credentials: { ca, cert: identity.cert, key: identity.key }, identityDir };
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
  const dataDir = options.dataDir ?? path.join('.aiot', 'edge', thing);
  const refusals = new RefusalReporter();
  const abort = new AbortController();
  const signal = abort.signal;
  let source: ReadingSource;
  if (options.source === 'csv') {
    if (!options.csv) throw new InvalidArgumentError('--source csv needs --csv <file>');
    source = csvSource({
      file: options.csv,
      columns: parseColumns(options.columns),
      rate: options.rate,
      time: options.time,
      signal,
    });
  } else if (options.source === 'stdin') {
    source = jsonLinesSource(process.stdin);
  } else {
    source = simulatorSource({
      thing,
      rate: options.rate,
      // The use case's own simulator (its manifest's simulation section; the pump's built in).
      simulator: deviceSimulator(manifest, contract, options.seed),
      signal,
      ...(options.count === undefined ? {} : { count: options.count }),
    });
  }
  const agent = EdgeAgent.start({
    identity: {
      thing,
      firmware: options.firmware,
      hardwareGeneration: options.hardwareGeneration,
      origin,
    },
    contract,
    settings: resolveEdgeSettings(manifest.edge, thing),
    connection: {
      url: options.endpoint,
      ...credentials,
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
    dataDir,
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
  return new Command(name)
    .description('run the edge agent: read sensors, filter, buffer on disk, publish over MQTT/TLS')
    .option('--thing <name>', 'thing name: the certificate common name and the MQTT client id')
    .option(
      '--claim-cert <file>',
      'provision an identity first from this claim certificate (fleet provisioning)',
    )
    .option('--claim-key <file>', "the claim certificate's private key")
    .option('--serial <number>', 'serial number to provision under (as on the allow-list)')
    .option(
      '--template <name>',
      'provisioning template (the stack output ProvisioningTemplateName; aiot-local locally)',
    )
    .option(
      '--identity-dir <dir>',
      'where the provisioned identity is kept (default: .aiot/identity/<serial>)',
    )
    .option(
      '--renew-before-days <days>',
      'a provisioned identity renews its certificate this many days before it expires',
      number('--renew-before-days', 0, 36_500),
      DEFAULT_RENEW_BEFORE_DAYS,
    )
    .option(
      '--endpoint <url>',
      'broker: the IoT Core ATS endpoint, or the local runtime',
      'mqtts://localhost:8883',
    )
    .option(
      '--manifest <file>',
      'use-case manifest (contract and edge settings)',
      'usecases/pump-maintenance.yaml',
    )
    .option('--contracts-dir <dir>', 'folder of the data contract files (<id>.v<version>.yaml)', 'contracts')
    .option(
      '--contract <ref>',
      "contract version this device sends, e.g. pump.telemetry@1 (default: the manifest's current one)",
    )
    .option('--certs-dir <dir>', 'folder with ca.crt and devices/<thing>.crt|.key', '.aiot/certs')
    .option('--ca <file>', 'CA certificate of the broker (default: <certs-dir>/ca.crt)')
    .option('--cert <file>', 'device certificate (default: <certs-dir>/devices/<thing>.crt)')
    .option('--key <file>', 'device private key (default: <certs-dir>/devices/<thing>.key)')
    .option('--rule-name <name>', 'publish through IoT Core Basic Ingest to this rule (the stack output)')
    .addOption(
      new Option('--source <kind>', 'where readings come from: csv, stdin, or simulator (made-up readings)')
        .choices(['simulator', 'csv', 'stdin'])
        .makeOptionMandatory(),
    )
    .option(
      '--allow-simulator',
      'let --source simulator publish to a broker that is not on this machine (readings are tagged "simulated")',
    )
    .option('--csv <file>', 'CSV to replay with --source csv')
    .option('--columns <map>', 'CSV columns: "skab" or "measure=column,..."', 'skab')
    .addOption(
      new Option(
        '--time <mode>',
        'CSV timestamps: replayed as now, kept from the file, or shifted so the last row is now (spacing kept)',
      )
        .choices(['now', 'file', 'shift'])
        .default('now'),
    )
    .option(
      '--rate <hz>',
      'readings per second from the simulator or the CSV',
      number('--rate', 0.001, 10_000),
      1,
    )
    .option(
      '--count <n>',
      'stop the simulator after this many readings',
      number('--count', 1, Number.MAX_SAFE_INTEGER, true),
    )
    .option('--seed <n>', 'simulator seed', number('--seed', 0, 2 ** 31, true), 1)
    .option('--firmware <version>', 'firmware version tag of every message', '1.0.0')
    .option('--hardware-generation <gen>', 'hardware generation tag of every message', 'gen2')
    .option('--data-dir <dir>', 'queue and reject file (default: .aiot/edge/<thing>)')
    .option('--max-queue-mb <n>', 'disk the backlog may use', number('--max-queue-mb', 1, 1_000_000), 256)
    .addOption(
      new Option('--overflow <policy>', 'when the disk limit is reached')
        .choices(['drop-oldest', 'thin-oldest'])
        .default('drop-oldest'),
    )
    .option('--fsync <policy>', '"always", "never", or milliseconds between syncs', fsyncPolicy, {
      everyMs: 1000,
    })
    .option(
      '--max-send-rate <n>',
      `messages per second at most (replay after an outage); IoT Core takes ${MAX_PUBLISHES_PER_CONNECTION_PER_SECOND} a second on a connection`,
      number('--max-send-rate', 1, MAX_PUBLISHES_PER_CONNECTION_PER_SECOND),
      DEFAULT_MAX_SEND_RATE,
    )
    .option(
      '--max-in-flight <n>',
      'messages awaiting PUBACK at most',
      number('--max-in-flight', 1, 65_535, true),
      100,
    )
    .option(
      '--pack-bytes <n>',
      `pack readings into messages of up to this many bytes; 0 sends each alone (IoT Core meters in ${IOT_METERING_UNIT_BYTES} B units)`,
      number('--pack-bytes', 0, 128 * 1024, true),
      IOT_METERING_UNIT_BYTES,
    )
    .option(
      '--pack-wait <s>',
      'seconds a reading may wait for others to fill its message',
      number('--pack-wait', 0, 3600),
      5,
    )
    .option('--no-health', 'send no health messages')
    .option(
      '--health-interval <s>',
      'seconds between health messages',
      number('--health-interval', 1, 86_400),
      60,
    )
    .addOption(
      new Option('--status <format>', 'status on stdout').choices(['text', 'json', 'off']).default('text'),
    )
    .option(
      '--status-interval <s>',
      'seconds between status lines',
      number('--status-interval', 0.1, 3600),
      5,
    )
    .option(
      '--drain <s>',
      'seconds to wait for the queue to empty when stopping',
      number('--drain', 0, 86_400),
      10,
    )
    .action(async (options: EdgeRunOptions, command: Command) => {
      checkSource(options);
      if (prepare) await prepare(options, command);
      await runEdgeAgent(options);
    });
}
