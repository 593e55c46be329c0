import mqtt, { type MqttClient } from 'mqtt';
import { telemetryTopic } from '../core/ingest/topics.ts';
import { PumpSimulator } from '../core/simulation/pump-simulator.ts';
import type { LocalCertificateAuthority } from './certs.ts';

export interface SimulatedFleetOptions {
  readonly url: string;
  readonly ca: LocalCertificateAuthority;
  readonly useCase: string;
  readonly devices: number;
  /** Readings per second per device. */
  readonly rate: number;
  readonly seed?: number;
  readonly onPublished?: () => void;
  readonly onError?: (thing: string, error: Error) => void;
}

export function simulatedThingName(index: number): string {
  return `pump-${String(index + 1).padStart(3, '0')}`;
}

/**
 * Simulated pumps, each its own MQTT client over mutual TLS with its own device certificate,
 * publishing readings at QoS 1 as a real device would.
 */
export class SimulatedFleet {
  private readonly clients: MqttClient[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private published = 0;

  private constructor(private readonly options: SimulatedFleetOptions) {}

  static async start(options: SimulatedFleetOptions): Promise<SimulatedFleet> {
    if (!Number.isInteger(options.devices) || options.devices < 0) {
      throw new Error(`devices must be a whole number of at least 0, got ${options.devices}`);
    }
    if (!(options.rate > 0) || options.rate > 1000) {
      throw new Error(`rate must be above 0 and at most 1000 readings per second, got ${options.rate}`);
    }
    const fleet = new SimulatedFleet(options);
    await Promise.all(Array.from({ length: options.devices }, (_, index) => fleet.startDevice(index)));
    return fleet;
  }

  get publishedCount(): number {
    return this.published;
  }

  private async startDevice(index: number): Promise<void> {
    const thing = simulatedThingName(index);
    const pair = await this.options.ca.devicePair(thing);
    const client = await mqtt.connectAsync(this.options.url, {
      clientId: thing,
      ca: this.options.ca.caPem,
      cert: pair.cert,
      key: pair.key,
      protocolVersion: 4,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    });
    client.on('error', (error) => this.options.onError?.(thing, error));
    this.clients.push(client);
    const simulator = new PumpSimulator({ thing, seed: (this.options.seed ?? 1) * 7919 + index });
    const topic = telemetryTopic(this.options.useCase, thing);
    const periodMs = 1000 / this.options.rate;
    // Spread the devices over one period so the broker sees a steady stream, not bursts.
    const start = setTimeout(
      () => {
        const tick = () => {
          const reading = simulator.next(Date.now(), 1 / this.options.rate);
          client.publish(topic, JSON.stringify(reading), { qos: 1 }, (error) => {
            if (error) this.options.onError?.(thing, error);
            else {
              this.published += 1;
              this.options.onPublished?.();
            }
          });
        };
        tick();
        this.timers.push(setInterval(tick, periodMs));
      },
      (periodMs * index) / Math.max(1, this.options.devices),
    );
    this.timers.push(start);
  }

  /** Stops publishing and waits for every in-flight QoS 1 publish to be acknowledged. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    await Promise.all(this.clients.map((client) => client.endAsync(false)));
  }
}
