import mqtt from 'mqtt';
import { publishAllPaced } from './mqtt.ts';
import { IOT_METERING_UNIT_BYTES, PackBuilder } from '../../core/contracts/pack.ts';
import { telemetryTopic } from '../../core/ingest/topics.ts';
import { PumpSimulator } from '../../core/simulation/pump-simulator.ts';
import type { LocalRuntime } from '../../local/runtime/runtime.ts';
import { repoUseCase } from './catalog.ts';

export type Measures = Record<string, number>;

/** Readings a pump's baseline calibrates on: the manifest's `alerts.calibrationReadings`. */
export const PUMP_CALIBRATION = repoUseCase('pump-maintenance').alerts.calibrationReadings;

export const normal = (m: Measures): Measures => m;

/** A worn impeller: less flow and more vibration, for good. */
export const worn = (m: Measures): Measures => ({
  ...m,
  flowRate: (m.flowRate ?? 0) * 0.7,
  vibrationRmsX: (m.vibrationRmsX ?? 0) * 3,
});

/**
 * One simulated pump of pump-maintenance publishing through the runtime's broker with its own
 * certificate: readings one second of device time apart from `start`, QoS 1, in order, packed
 * into 5 KB messages as the edge agent sends a backlog (a calibration's 1,800 readings are 120
 * messages, not 18 s of publishes at IoT Core's 100 a second).
 */
export class TestPump {
  private sent = 0;
  private readonly simulator: PumpSimulator;

  constructor(
    private readonly runtime: LocalRuntime,
    readonly deviceId: string,
    seed: number,
    readonly start: number,
  ) {
    this.simulator = new PumpSimulator({ thing: deviceId, seed });
  }

  /** Device time of the next reading. */
  get nextTime(): number {
    return this.start + this.sent * 1000;
  }

  /**
   * Publishes the next `count` readings with `fault` applied; those `lose` picks are numbered and
   * never sent, as if lost on the way.
   */
  async publish(
    count: number,
    fault: (m: Measures) => Measures,
    lose: (index: number) => boolean = () => false,
  ): Promise<void> {
    const pair = await this.runtime.ca.devicePair(this.deviceId);
    const client = await mqtt.connectAsync(this.runtime.mqttUrl, {
      clientId: this.deviceId,
      ca: this.runtime.ca.caPem,
      cert: pair.cert,
      key: pair.key,
      reconnectPeriod: 0,
    });
    const readings = Array.from({ length: count }, (_, index) => {
      const reading = this.simulator.next(this.start + this.sent++ * 1000);
      return lose(index)
        ? undefined
        : JSON.stringify({ ...reading, measures: fault({ ...reading.measures }) });
    }).filter((message) => message !== undefined);
    const messages: string[] = [];
    let pack = new PackBuilder(IOT_METERING_UNIT_BYTES);
    for (const reading of readings) {
      if (pack.add(reading)) continue;
      messages.push(pack.build());
      pack = new PackBuilder(IOT_METERING_UNIT_BYTES);
      pack.add(reading);
    }
    if (pack.count > 0) messages.push(pack.build());
    await publishAllPaced(client, telemetryTopic('pump-maintenance', this.deviceId), messages);
    await client.endAsync();
  }
}
