import type { HealthReport } from '../core/edge/health-report.ts';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { IOT_METERING_UNIT_BYTES } from '../core/contracts/pack.ts';
import { buildTelemetryMessage, EdgePreprocessor, type SourceReading } from '../core/edge/preprocessor.ts';
import { DiskQueue } from './disk-queue.ts';
import type { ReadingSource } from './sources.ts';
import { Packer } from './packer.ts';
import { SendRate } from './send-rate.ts';
import { RejectFile } from './reject-file.ts';
import { RenewalCheck, type Credentials } from './renewal-check.ts';
import {
  checkAgentOptions,
  DEFAULT_MAX_SEND_RATE,
  DEFAULT_PACK_WAIT_MS,
  type EdgeAgentOptions,
  type EdgeAgentStatus,
} from './agent-options.ts';

/** How often the agent reports its health (backlog, link, filters) when nobody says. */
export const DEFAULT_HEALTH_INTERVAL_MS = 60_000;
export {
  DEFAULT_MAX_SEND_RATE,
  DEFAULT_PACK_WAIT_MS,
  type CertificateRenewal,
  type EdgeAgentOptions,
  type EdgeAgentStatus,
  type EdgeConnection,
} from './agent-options.ts';

const MiB = 1024 * 1024;

/**
 * The device side of data continuity: every reading is checked and filtered, then appended to
 * a crash-safe disk queue before anything is sent. A sender publishes from the queue at QoS 1
 * and deletes a reading only on the broker's PUBACK; on disconnect it reconnects with jittered
 * backoff and resends from the first unacknowledged reading, in order, at a bounded rate.
 */
export class EdgeAgent {
  private readonly queue: DiskQueue;
  private readonly preprocessor: EdgePreprocessor;
  private readonly rejects: RejectFile;
  private client: MqttClient | undefined;
  private connected = false;
  private generation = 0;
  private attempts = 0;
  private reconnects = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Waits for tokens of the send rate. */
  private pumpTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private readonly sendRate: SendRate;
  private sent = 0;
  private published = 0;
  /** Publishes not yet acknowledged on the current connection. */
  private inFlightMessages = 0;
  /** Which queued readings go out together, and when a pack may wait no longer. */
  private readonly packer: Packer;
  /** Callers waiting for the queue to drain: readings go at once, without waiting for a fuller pack. */
  private flushing = 0;
  private lastError: string | undefined;
  private stopping = false;
  /** The certificate and key connections use: a renewal replaces them. */
  private credentials: Credentials;
  private readonly renewal: RenewalCheck | undefined;
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
    this.rejects = new RejectFile(
      path.join(options.dataDir, 'rejects.jsonl'),
      options.identity.thing,
      options.maxRejectFileBytes,
    );
    this.renewal = options.renewal
      ? new RenewalCheck(
          options.renewal,
          options.renewalCheckMs ?? 3600_000,
          (level, message) => {
            this.log(level, message);
          },
          (credentials, client) => {
            this.credentials = credentials;
            // Reconnect at once with the new certificate; unacknowledged readings are sent again.
            if (client === this.client && this.connected) {
              this.attempts = 0;
              this.onDisconnected(client);
            }
          },
        )
      : undefined;
    this.sendRate = new SendRate(options.maxSendRate ?? DEFAULT_MAX_SEND_RATE);
    this.packer = new Packer(this.queue, {
      maxPackBytes: options.maxPackBytes ?? IOT_METERING_UNIT_BYTES,
      packWaitMs: options.packWaitMs ?? DEFAULT_PACK_WAIT_MS,
      firstPackWaitShare: options.firstPackWaitShare ?? Math.random(),
      onDue: () => {
        this.pump();
      },
    });
    const backlog = this.queue.stats.depth;
    if (backlog > 0) this.log('info', `${backlog} readings from before the restart are waiting to be sent`);
  }

  /** Opens the queue and starts connecting; readings are accepted at once, online or not. */
  static start(options: EdgeAgentOptions): EdgeAgent {
    checkAgentOptions(options);
    const agent = new EdgeAgent(options);
    agent.connect();
    if (agent.renewal) {
      agent.renewalTimer = setInterval(() => {
        if (agent.connected && agent.client && !agent.stopping) agent.renewal?.renewIfDue(agent.client);
      }, options.renewalCheckMs ?? 3600_000);
    }
    if (options.connection.healthTopic) {
      agent.healthTimer = setInterval(() => {
        agent.publishHealth();
      }, options.healthIntervalMs ?? DEFAULT_HEALTH_INTERVAL_MS);
    }
    return agent;
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
    if (this.packer.queued(number, payload.length)) this.pump();
  }

  /** Where refused readings are kept, with every reason: JSON lines. */
  get rejectFile(): string {
    return this.rejects.path;
  }

  private writeReject(input: unknown, reasons: readonly string[]): void {
    this.options.onReject?.(reasons);
    this.rejects.write(input, reasons);
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
      this.renewal?.confirm(client);
      this.renewal?.renewIfDue(client);
    });
    client.on('error', (error) => {
      if (generation === this.generation) this.lastError = error.message;
    });
    client.on('close', () => {
      if (generation !== this.generation) return;
      this.onDisconnected(client);
    });
  }

  private onDisconnected(client: MqttClient): void {
    const wasConnected = this.connected;
    this.connected = false;
    this.generation += 1; // late callbacks of this client no longer count
    client.end(true);
    this.queue.rewind();
    this.inFlightMessages = 0;
    this.packer.release();
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

  /** Publishes from the queue while connected, within the in-flight window and the rate limit. */
  private pump(): void {
    const client = this.client;
    if (!this.connected || !client || this.pumpTimer) return;
    const now = Date.now();
    this.sendRate.refill(now);
    const generation = this.generation;
    const ackTimeoutMs = this.options.ackTimeoutMs ?? 15_000;
    while (this.sendRate.available && this.inFlightMessages < (this.options.maxInFlight ?? 100)) {
      const message = this.packer.next(now, this.stopping || this.flushing > 0);
      if (!message) return;
      this.sendRate.take();
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
    if (!this.sendRate.available && this.queue.stats.depth > this.queue.inFlightCount) {
      this.pumpTimer = setTimeout(() => {
        this.pumpTimer = undefined;
        this.pump();
      }, this.sendRate.waitMs);
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
    this.packer.release();
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
    this.packer.stop();
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
