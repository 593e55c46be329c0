import type { HealthReport } from '../core/edge/health-report.ts';
import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import * as path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { DataContract } from '../core/contracts/contract.ts';
import { IOT_METERING_UNIT_BYTES, MAX_READINGS_PER_PACK, PackBuilder } from '../core/contracts/pack.ts';
import {
  buildTelemetryMessage,
  EdgePreprocessor,
  type DeviceIdentity,
  type SourceReading,
} from '../core/edge/preprocessor.ts';
import type { ResolvedEdgeSettings } from '../core/edge/settings.ts';
import { DiskQueue, type FsyncPolicy, type OverflowPolicy } from './disk-queue.ts';
import type { ReadingSource } from './sources.ts';

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

const MiB = 1024 * 1024;
/** Messages a second the agent sends at most by default: under IoT Core's 100 per connection. */
export const DEFAULT_MAX_SEND_RATE = 90;
/** How long a live reading may wait by default for others to fill its message. */
export const DEFAULT_PACK_WAIT_MS = 5000;

/**
 * The device side of data continuity: every reading is checked and filtered, then appended to
 * a crash-safe disk queue before anything is sent. A sender publishes from the queue at QoS 1
 * and deletes a reading only on the broker's PUBACK; on disconnect it reconnects with jittered
 * backoff and resends from the first unacknowledged reading, in order, at a bounded rate.
 */
export class EdgeAgent {
  private readonly queue: DiskQueue;
  private readonly preprocessor: EdgePreprocessor;
  private readonly rejectPath: string;
  private client: MqttClient | undefined;
  private connected = false;
  private generation = 0;
  private attempts = 0;
  private reconnects = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Waits for tokens of the send rate. */
  private pumpTimer: NodeJS.Timeout | undefined;
  /** Wakes the sender when the oldest waiting reading may wait no longer for its pack. */
  private packTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private tokens: number;
  private lastRefill = Date.now();
  private sent = 0;
  private published = 0;
  /** Publishes not yet acknowledged on the current connection. */
  private inFlightMessages = 0;
  /** When the newest readings were queued, by queue number: how long the next pack may still wait. */
  private readonly queuedAt = new Map<number, number>();
  /** What the next pack may wait, as a share of the pack wait: a random part until one is sent. */
  private packWaitShare: number;
  /**
   * The pack the sender holds back, waiting for more readings: its size so far, grown by each new
   * reading, so the sender reads the queue again only once the pack could be full.
   */
  private held: { bytes: number; count: number } | undefined;
  /** Callers waiting for the queue to drain: readings go at once, without waiting for a fuller pack. */
  private flushing = 0;
  private lastError: string | undefined;
  private stopping = false;
  /** The certificate and key connections use: a renewal replaces them. */
  private credentials: { cert: string | Buffer; key: string | Buffer };
  private renewing = false;
  private lastRenewal = 0;
  private renewalTimer: NodeJS.Timeout | undefined;
  private unreadable = 0;
  private readonly idleWaiters: (() => void)[] = [];

  private constructor(private readonly options: EdgeAgentOptions) {
    this.credentials = { cert: options.connection.cert, key: options.connection.key };
    mkdirSync(options.dataDir, { recursive: true });
    this.queue = DiskQueue.open({
      dir: path.join(options.dataDir, 'queue'),
      maxBytes: options.maxQueueBytes ?? 256 * MiB,
      overflow: options.overflow ?? 'drop-oldest',
      fsync: options.fsync ?? { everyMs: 1000 },
      onWarning: (message) => {
        this.log('warn', message);
      },
    });
    this.preprocessor = new EdgePreprocessor(options.contract, options.identity, options.settings);
    this.rejectPath = path.join(options.dataDir, 'rejects.jsonl');
    this.tokens = this.burst;
    this.packWaitShare = options.firstPackWaitShare ?? Math.random();
    const backlog = this.queue.stats.depth;
    if (backlog > 0) this.log('info', `${backlog} readings from before the restart are waiting to be sent`);
  }

  /** Opens the queue and starts connecting; readings are accepted at once, online or not. */
  static start(options: EdgeAgentOptions): EdgeAgent {
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
    const agent = new EdgeAgent(options);
    agent.connect();
    if (options.renewal) {
      agent.renewalTimer = setInterval(() => {
        if (agent.connected && agent.client) agent.renewIfDue(agent.client);
      }, options.renewalCheckMs ?? 3600_000);
    }
    if (options.connection.healthTopic) {
      agent.healthTimer = setInterval(() => {
        agent.publishHealth();
      }, options.healthIntervalMs ?? 60_000);
    }
    return agent;
  }

  private get burst(): number {
    return Math.max(1, Math.ceil((this.options.maxSendRate ?? DEFAULT_MAX_SEND_RATE) / 10));
  }

  private log(level: 'info' | 'warn', message: string): void {
    this.options.onLog?.(level, `${this.options.identity.thing}: ${message}`);
  }

  /** Checks, filters and queues one reading; refused readings go to the reject file with every reason. */
  accept(reading: SourceReading): void {
    const result = this.preprocessor.accept(reading, Date.now());
    if (result.rejected) this.writeReject(reading, result.rejected);
    for (const ready of result.ready) this.enqueue(ready);
  }

  /** Keeps input a source could not read as a reading at all (bad JSON, say). */
  acceptUnreadable(raw: string, reasons: readonly string[]): void {
    this.unreadable += 1;
    this.writeReject({ raw }, reasons);
  }

  /** Feeds every item of a source, then flushes an open aggregation window. */
  async run(source: ReadingSource): Promise<void> {
    for await (const item of source) {
      if ('reading' in item) this.accept(item.reading);
      else this.acceptUnreadable(item.unreadable.raw, item.unreadable.reasons);
    }
    for (const ready of this.preprocessor.flush()) this.enqueue(ready);
  }

  private enqueue(ready: { time: number; measures: Readonly<Record<string, number>> }): void {
    const built = buildTelemetryMessage(
      this.options.contract,
      this.options.identity,
      ready,
      this.queue.nextNumber,
    );
    if (!built.ok) {
      this.writeReject(ready, built.reasons);
      return;
    }
    const payload = Buffer.from(JSON.stringify(built.message));
    const number = this.queue.append(payload);
    this.queuedAt.set(number, Date.now());
    // Only the newest readings can still be waiting for a pack: more than a pack holds means full packs.
    if (this.queuedAt.size > MAX_READINGS_PER_PACK) {
      const oldest = this.queuedAt.keys().next();
      if (!oldest.done) this.queuedAt.delete(oldest.value);
    }
    if (this.held) {
      // A single message is larger than what its reading adds to a pack: this errs towards trying early.
      this.held.bytes += payload.length;
      this.held.count += 1;
      const maxBytes = this.options.maxPackBytes ?? IOT_METERING_UNIT_BYTES;
      if (this.held.bytes <= maxBytes && this.held.count < MAX_READINGS_PER_PACK) return;
      this.held = undefined;
    }
    this.pump();
  }

  /** Where refused readings are kept, with every reason: JSON lines. */
  get rejectFile(): string {
    return this.rejectPath;
  }

  private writeReject(input: unknown, reasons: readonly string[]): void {
    this.options.onReject?.(reasons);
    const line = `${JSON.stringify({ at: new Date().toISOString(), thing: this.options.identity.thing, reasons, input })}\n`;
    try {
      if (statSync(this.rejectPath).size + line.length > (this.options.maxRejectFileBytes ?? 10 * MiB))
        renameSync(this.rejectPath, `${this.rejectPath}.1`);
    } catch {
      // No reject file yet.
    }
    appendFileSync(this.rejectPath, line);
  }

  get status(): EdgeAgentStatus {
    const stats = this.queue.stats;
    const counters = this.preprocessor.counters;
    return {
      thing: this.options.identity.thing,
      connected: this.connected,
      queueDepth: stats.depth,
      queueBytes: stats.bytes,
      oldestAgeSeconds: this.oldestAgeSeconds(),
      inFlight: this.queue.inFlightCount,
      sent: this.sent,
      published: this.published,
      readings: counters.readings + this.unreadable,
      filtered: counters.filtered,
      rejected: counters.rejected + this.unreadable,
      spikes: counters.spikes,
      aggregated: counters.aggregated,
      dropped: stats.dropped,
      corrupt: stats.corrupt,
      reconnects: this.reconnects,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  private oldestAgeSeconds(): number {
    const oldest = this.queue.peekOldest();
    if (!oldest) return 0;
    const { timestamp } = JSON.parse(oldest.payload.toString()) as { timestamp?: string };
    const time = timestamp === undefined ? NaN : Date.parse(timestamp);
    return Number.isNaN(time) ? 0 : Math.max(0, (Date.now() - time) / 1000);
  }

  private connect(): void {
    if (this.stopping) return;
    const { connection, identity } = this.options;
    const generation = ++this.generation;
    // One client per attempt, with its own reconnect turned off: the disk queue, not mqtt.js's
    // in-memory store, is the only source of what still has to be sent.
    const client = mqtt.connect(connection.url, {
      clientId: identity.thing,
      ca: connection.ca,
      cert: this.credentials.cert,
      key: this.credentials.key,
      protocolVersion: 4,
      clean: true,
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: 0,
    });
    this.client = client;
    client.on('connect', () => {
      if (generation !== this.generation) {
        // Connected after the agent gave up on this attempt (or stopped): nothing may keep it open.
        client.end(true);
        return;
      }
      this.connected = true;
      this.attempts = 0;
      this.lastError = undefined;
      this.log('info', `connected to ${connection.url}; ${this.queue.stats.depth} readings to send`);
      this.pump();
      this.confirmRenewal(client);
      this.renewIfDue(client);
    });
    client.on('error', (error) => {
      if (generation === this.generation) this.lastError = error.message;
    });
    client.on('close', () => {
      if (generation !== this.generation) return;
      this.onDisconnected(client);
    });
  }

  /**
   * Renews the certificate when it is due, at most once per check interval (a certificate issued
   * with less life than the renewal margin is not renewed at every connection).
   */
  private renewIfDue(client: MqttClient): void {
    const renewal = this.options.renewal;
    const now = Date.now();
    if (!renewal || this.renewing || this.stopping) return;
    if (now - this.lastRenewal < (this.options.renewalCheckMs ?? 3600_000)) return;
    let dueAt: number;
    try {
      dueAt = renewal.dueAt();
    } catch (error) {
      this.log(
        'warn',
        `cannot tell when the certificate is due: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    if (now < dueAt) return;
    this.renewing = true;
    this.lastRenewal = now;
    this.log('info', 'certificate due for renewal: asking for a new one');
    renewal.renew(client).then(
      (credentials) => {
        this.renewing = false;
        this.credentials = credentials;
        this.log('info', 'certificate renewed: reconnecting with it');
        // Reconnect at once with the new certificate; unacknowledged readings are sent again.
        if (client === this.client && this.connected) {
          this.attempts = 0;
          this.onDisconnected(client);
        }
      },
      (error: unknown) => {
        this.renewing = false;
        this.log(
          'warn',
          `certificate renewal failed (the current one stays in use; next try within ${((this.options.renewalCheckMs ?? 3600_000) / 60_000).toFixed(0)} min): ${error instanceof Error ? error.message : String(error)}`,
        );
      },
    );
  }

  /** Connected with a renewed certificate: say so, and the cloud retires the old one. */
  private confirmRenewal(client: MqttClient): void {
    const pending = this.options.renewal?.pendingConfirmation();
    if (!pending) return;
    client.publish(pending.topic, pending.payload, { qos: 1 }, (error) => {
      if (error) return; // said again at the next connection
      this.options.renewal?.confirmed();
      this.log('info', 'connected with the renewed certificate: the old one is retired');
    });
  }

  private onDisconnected(client: MqttClient): void {
    const wasConnected = this.connected;
    this.connected = false;
    this.generation += 1; // late callbacks of this client no longer count
    client.end(true);
    this.queue.rewind();
    this.inFlightMessages = 0;
    this.held = undefined;
    this.wakeIdleWaiters();
    if (this.stopping) return;
    if (wasConnected)
      this.log('warn', `disconnected${this.lastError ? `: ${this.lastError}` : ''}; buffering on disk`);
    const min = this.options.reconnectMinMs ?? 1000;
    const max = this.options.reconnectMaxMs ?? 60_000;
    const cap = Math.min(max, min * 2 ** this.attempts);
    this.attempts += 1;
    this.reconnects += 1;
    // Full jitter: a fleet that lost the same link does not come back in lockstep.
    const delay = min / 2 + Math.random() * (cap - min / 2);
    this.reconnectTimer = setTimeout(() => {
      this.connect();
    }, delay);
  }

  /**
   * The next message to publish: queued readings packed up to the byte budget, or nothing while a
   * pack that is not full may still wait for more.
   */
  private nextMessage(now: number): { payload: Buffer; ids: string[] } | undefined {
    const maxBytes = this.options.maxPackBytes ?? IOT_METERING_UNIT_BYTES;
    const builder = new PackBuilder(Math.max(1, maxBytes), maxBytes === 0 ? 1 : MAX_READINGS_PER_PACK);
    let full = false;
    const records = this.queue.take(MAX_READINGS_PER_PACK, (payload) => {
      const added = builder.add(payload.toString());
      full ||= !added;
      return added;
    });
    const [first] = records;
    if (!first) return undefined;
    full ||= records.length === MAX_READINGS_PER_PACK || maxBytes === 0;
    const queuedAt = this.queuedAt.get(first.number);
    const waitUntil =
      queuedAt === undefined
        ? 0
        : queuedAt + (this.options.packWaitMs ?? DEFAULT_PACK_WAIT_MS) * this.packWaitShare;
    if (!full && !this.stopping && this.flushing === 0 && now < waitUntil) {
      this.queue.untake(records.length);
      this.held = { bytes: builder.bytes, count: records.length };
      this.packTimer ??= setTimeout(() => {
        this.packTimer = undefined;
        this.held = undefined;
        this.pump();
      }, waitUntil - now);
      return undefined;
    }
    this.held = undefined;
    this.packWaitShare = 1;
    for (const record of records) this.queuedAt.delete(record.number);
    return { payload: Buffer.from(builder.build()), ids: records.map((record) => record.id) };
  }

  /** Publishes from the queue while connected, within the in-flight window and the rate limit. */
  private pump(): void {
    const client = this.client;
    if (!this.connected || !client || this.pumpTimer) return;
    const rate = this.options.maxSendRate ?? DEFAULT_MAX_SEND_RATE;
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastRefill) / 1000) * rate);
    this.lastRefill = now;
    const generation = this.generation;
    const ackTimeoutMs = this.options.ackTimeoutMs ?? 15_000;
    while (this.tokens >= 1 && this.inFlightMessages < (this.options.maxInFlight ?? 100)) {
      const message = this.nextMessage(now);
      if (!message) return;
      this.tokens -= 1;
      this.inFlightMessages += 1;
      const unanswered = setTimeout(() => {
        if (generation !== this.generation) return;
        this.lastError = `no PUBACK within ${ackTimeoutMs / 1000} s (throttled by the broker?); reconnecting to send again`;
        this.onDisconnected(client);
      }, ackTimeoutMs);
      client.publish(this.options.connection.topic, message.payload, { qos: 1 }, (error) => {
        clearTimeout(unanswered);
        if (generation !== this.generation) return;
        if (error) {
          this.lastError = error.message;
          return; // resent after the reconnect the failure leads to
        }
        this.inFlightMessages -= 1;
        for (const id of message.ids) this.queue.ack(id);
        this.sent += message.ids.length;
        this.published += 1;
        if (this.queue.stats.depth === 0) this.wakeIdleWaiters();
        this.pump();
      });
    }
    if (this.tokens < 1 && this.queue.stats.depth > this.queue.inFlightCount) {
      this.pumpTimer = setTimeout(
        () => {
          this.pumpTimer = undefined;
          this.pump();
        },
        Math.ceil(((1 - this.tokens) * 1000) / rate),
      );
    }
  }

  private publishHealth(): void {
    const topic = this.options.connection.healthTopic;
    if (!this.connected || !this.client || !topic) return;
    const { thing: _thing, ...status } = this.status;
    const report: HealthReport = {
      deviceId: this.options.identity.thing,
      timestamp: new Date().toISOString(),
      ...status,
    };
    this.client.publish(topic, JSON.stringify(report), { qos: 0 });
  }

  private wakeIdleWaiters(): void {
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /**
   * Sends everything queued without waiting for fuller packs, and resolves once it is all
   * acknowledged, or after `timeoutMs`; true when drained.
   */
  async drained(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    this.flushing += 1;
    this.held = undefined;
    try {
      this.pump();
      while (this.queue.stats.depth > 0 && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(250, Math.max(0, deadline - Date.now())));
          this.idleWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    } finally {
      this.flushing -= 1;
    }
    return this.queue.stats.depth === 0;
  }

  /**
   * Flushes the open aggregation window, gives the sender up to `drainMs` to empty the queue
   * (when connected, or also to connect first with `waitForConnection`), then disconnects and
   * closes the queue. What is not acknowledged stays on disk for next time.
   */
  async stop(drainMs = 5000, options: { waitForConnection?: boolean } = {}): Promise<EdgeAgentStatus> {
    for (const ready of this.preprocessor.flush()) this.enqueue(ready);
    if (drainMs > 0 && (this.connected || options.waitForConnection)) await this.drained(drainMs);
    this.publishHealth();
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.pumpTimer);
    clearTimeout(this.packTimer);
    clearInterval(this.healthTimer);
    clearInterval(this.renewalTimer);
    const status = this.status;
    const client = this.client;
    const wasConnected = this.connected;
    this.generation += 1;
    this.connected = false;
    // A connection still being made is dropped at once: ending it gracefully would leave its
    // socket to finish the handshake and keep the process alive until the broker's keepalive.
    if (client) await client.endAsync(!wasConnected);
    this.queue.close();
    return status;
  }
}
