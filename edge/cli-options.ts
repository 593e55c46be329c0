import { InvalidArgumentError, Option, type Command } from 'commander';
import { IOT_METERING_UNIT_BYTES } from '../core/contracts/pack.ts';
import { MAX_PUBLISHES_PER_CONNECTION_PER_SECOND } from '../core/ingest/topics.ts';
import { DEFAULT_MAX_SEND_RATE } from './agent-options.ts';
import type { FsyncPolicy, OverflowPolicy } from './disk-queue.ts';
import { DEFAULT_RENEW_BEFORE_DAYS } from './provisioning.ts';
import { SKAB_COLUMNS } from './sources.ts';

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

export function number(name: string, min: number, max: number, whole = false) {
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

/** Who the device is: a thing and its certificate, or a claim to provision one. */
function identityOptions(command: Command): Command {
  return command
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
    .option('--certs-dir <dir>', 'folder with ca.crt and devices/<thing>.crt|.key', '.aiot/certs')
    .option('--ca <file>', 'CA certificate of the broker (default: <certs-dir>/ca.crt)')
    .option('--cert <file>', 'device certificate (default: <certs-dir>/devices/<thing>.crt)')
    .option('--key <file>', 'device private key (default: <certs-dir>/devices/<thing>.key)');
}

/** Where it sends, and what it sends: the broker, the manifest and contract, the topic. */
function connectionOptions(command: Command): Command {
  return command
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
    .option('--rule-name <name>', 'publish through IoT Core Basic Ingest to this rule (the stack output)')
    .option('--firmware <version>', 'firmware version tag of every message', '1.0.0')
    .option('--hardware-generation <gen>', 'hardware generation tag of every message', 'gen2');
}

/** Where readings come from. */
function sourceOptions(command: Command): Command {
  return command
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
    .option('--seed <n>', 'simulator seed', number('--seed', 0, 2 ** 31, true), 1);
}

/** The disk queue and the sender: store and forward. */
function queueOptions(command: Command): Command {
  return command
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
    .option(
      '--drain <s>',
      'seconds to wait for the queue to empty when stopping',
      number('--drain', 0, 86_400),
      10,
    );
}

/** What the agent reports: health messages to the cloud, status lines on stdout. */
function reportingOptions(command: Command): Command {
  return command
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
    );
}

/** Every option of the agent's command line, in groups. */
export function agentOptions(command: Command): Command {
  return reportingOptions(queueOptions(sourceOptions(connectionOptions(identityOptions(command)))));
}
