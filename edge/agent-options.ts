import type { MqttClient } from 'mqtt';
import type { DataContract } from '../core/contracts/contract.ts';
import type { DeviceIdentity } from '../core/edge/preprocessor.ts';
import type { ResolvedEdgeSettings } from '../core/edge/settings.ts';
import type { FsyncPolicy, OverflowPolicy } from './disk-queue.ts';

export interface EdgeConnection {
  /** `mqtts://host:8883` */
  readonly url: string;
  /** PEM of the CA that signed the broker's certificate (Amazon Root CA 1 for IoT Core). */
  readonly ca: string | Buffer;
  /** PEM of the device certificate; its thing name is the client id. */
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** The topic telemetry is published to (the Basic Ingest form on AWS). */
  readonly topic: string;
  /** Where health messages go; none are sent when absent. */
  readonly healthTopic?: string;
}

/**
 * Renewing the device certificate over the agent's own connection before it expires (IoT Core
 * lets a thing connect only as itself, so a second connection would push the first off).
 */
export interface CertificateRenewal {
  /** When the current certificate is due for renewal (ms since the epoch). */
  dueAt(): number;
  /** Asks for a new certificate over the connection and keeps it; resolves with it. */
  renew(client: MqttClient): Promise<{ cert: string; key: string }>;
  /** What to publish once connected with a renewed certificate; undefined when nothing waits. */
  pendingConfirmation(): { topic: string; payload: string } | undefined;
  /** The broker acknowledged the confirmation. */
  confirmed(): void;
}

export interface EdgeAgentOptions {
  readonly identity: DeviceIdentity;
  readonly contract: DataContract;
  readonly settings: ResolvedEdgeSettings;
  readonly connection: EdgeConnection;
  /** Renews the certificate before it expires. @default - none: the certificate is used as it is */
  readonly renewal?: CertificateRenewal;
  /** How often a long-running agent checks whether its certificate is due. @default 1 hour */
  readonly renewalCheckMs?: number;
  /** Folder for the queue and the reject file. */
  readonly dataDir: string;
  /** Disk the backlog may use. @default 256 MiB */
  readonly maxQueueBytes?: number;
  /** @default 'drop-oldest' */
  readonly overflow?: OverflowPolicy;
  /** @default { everyMs: 1000 }: at most a second of readings at risk on power loss, none on a process crash */
  readonly fsync?: FsyncPolicy;
  /** Messages published and not yet acknowledged. @default 100 */
  readonly maxInFlight?: number;
  /**
   * Largest message readings are packed into (the packed form of the contract): IoT Core meters
   * messages and rule actions in 5 KB units, so a full unit costs what one reading alone does, and
   * a replay at the publish limit carries thousands of readings a second. A reading bigger than
   * this still goes, alone. 0 sends every reading alone. @default IOT_METERING_UNIT_BYTES (5 KB)
   */
  readonly maxPackBytes?: number;
  /**
   * How long a reading may wait for others to fill its message: the latency packing costs. A
   * backlog (after an outage or a restart) goes at once, in full messages. @default DEFAULT_PACK_WAIT_MS (5 s)
   */
  readonly packWaitMs?: number;
  /**
   * The share of `packWaitMs` the first pack after a start may wait. Agents switched on together
   * (a site after a power cut) would otherwise send every pack at the same moment, every
   * `packWaitMs`, for as long as they run; a random first wait spreads them once and for all.
   * @default drawn at random from [0, 1)
   */
  readonly firstPackWaitShare?: number;
  /**
   * Upper bound on messages per second, so a fleet coming back online does not stampede the cloud,
   * under IoT Core's 100 publishes a second per connection. @default DEFAULT_MAX_SEND_RATE (90)
   */
  readonly maxSendRate?: number;
  /**
   * A publish not acknowledged within this is taken as throttled or lost: the agent reconnects and
   * sends what is unacknowledged again (IoT Core gives a throttled publish no PUBACK). @default 15 s
   */
  readonly ackTimeoutMs?: number;
  /** Reconnect delay bounds; each delay is drawn at random up to an exponentially growing cap. @default 1 s and 60 s */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Period of health messages. @default 60 s */
  readonly healthIntervalMs?: number;
  /** The reject file rotates past this size, keeping one previous file. @default 10 MiB */
  readonly maxRejectFileBytes?: number;
  readonly onLog?: (level: 'info' | 'warn', message: string) => void;
  /** A reading refused here, with every reason; it is also kept in the reject file (`rejectFile`). */
  readonly onReject?: (reasons: readonly string[]) => void;
}

export interface EdgeAgentStatus {
  readonly thing: string;
  readonly connected: boolean;
  /** Readings waiting on disk, in flight included. */
  readonly queueDepth: number;
  readonly queueBytes: number;
  /** Age of the oldest reading not yet acknowledged by the broker. */
  readonly oldestAgeSeconds: number;
  readonly inFlight: number;
  /** Readings acknowledged by the broker since start. */
  readonly sent: number;
  /** Messages acknowledged by the broker since start: fewer than readings when packed. */
  readonly published: number;
  readonly readings: number;
  readonly filtered: number;
  readonly rejected: number;
  readonly spikes: Readonly<Record<string, number>>;
  readonly aggregated: number;
  /** Lost to the disk limit since the queue was created. */
  readonly dropped: number;
  /** Torn writes found at start. */
  readonly corrupt: number;
  readonly reconnects: number;
  readonly lastError?: string;
}

/** Messages a second the agent sends at most by default: under IoT Core's 100 per connection. */
export const DEFAULT_MAX_SEND_RATE = 90;
/** How long a live reading may wait by default for others to fill its message. */
export const DEFAULT_PACK_WAIT_MS = 5000;

/** Refuses settings an agent cannot run with, naming the setting and the value. */
export function checkAgentOptions(options: EdgeAgentOptions): void {
  for (const [name, value] of [
    ['maxInFlight', options.maxInFlight],
    ['maxSendRate', options.maxSendRate],
    ['healthIntervalMs', options.healthIntervalMs],
    ['renewalCheckMs', options.renewalCheckMs],
  ] as const) {
    if (value !== undefined && !(value > 0)) throw new Error(`${name} must be above 0, got ${value}`);
  }
  for (const [name, value] of [
    ['maxPackBytes', options.maxPackBytes],
    ['packWaitMs', options.packWaitMs],
  ] as const) {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0))
      throw new Error(`${name} must be 0 or more, got ${value}`);
  }
  const share = options.firstPackWaitShare;
  if (share !== undefined && !(share >= 0 && share <= 1))
    throw new Error(`firstPackWaitShare must be from 0 to 1, got ${share}`);
}
