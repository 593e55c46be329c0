/**
 * The queue messages a fleet of simulated pumps sends the ingest function, as the edge agent packs
 * them and the Basic Ingest rule puts them on the queue: one device's readings a message, a
 * reading a second, each device on its own clock (bench/lambda-cost.ts).
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { PackBuilder, IOT_METERING_UNIT_BYTES } from '../core/contracts/pack.ts';
import { applyIngestRule } from '../core/ingest/rule.ts';
import { PumpSimulator } from '../core/simulation/pump-simulator.ts';

interface Device {
  readonly thing: string;
  readonly simulator: PumpSimulator;
  seq: number;
}

export class BenchFleet {
  private readonly devices: Device[];
  private cursor = 0;
  private messageId = 0;

  /**
   * @param count devices
   * @param readingsPerMessage what one message packs
   * @param startMs the time of every device's first reading
   */
  constructor(
    count: number,
    private readonly readingsPerMessage: number,
    private readonly startMs: number,
  ) {
    this.devices = Array.from({ length: count }, (_, i) => {
      const thing = `pump-bench-${String(i).padStart(4, '0')}`;
      return { thing, simulator: new PumpSimulator({ thing, seed: i + 1 }), seq: 0 };
    });
  }

  get size(): number {
    return this.devices.length;
  }

  /** The next `messages` messages, one from each of that many devices in turn, as one SQS event. */
  event(messages: number): SQSEvent {
    const records = Array.from({ length: messages }, () => {
      const device = this.devices[this.cursor] as Device;
      this.cursor = (this.cursor + 1) % this.devices.length;
      return this.message(device);
    });
    return { Records: records };
  }

  private message(device: Device): SQSRecord {
    const pack = new PackBuilder(IOT_METERING_UNIT_BYTES, this.readingsPerMessage);
    let time = 0;
    for (let i = 0; i < this.readingsPerMessage; i += 1) {
      time = this.startMs + device.seq * 1000;
      if (time > Date.now()) throw new Error(`${device.thing} would send a reading from the future`);
      if (!pack.add(JSON.stringify(device.simulator.next(time)))) throw new Error('a pack overflowed');
      device.seq += 1;
    }
    const rule = applyIngestRule({
      topic: `dt/pump-maintenance/${device.thing}/telemetry`,
      payload: new TextEncoder().encode(pack.build()),
      clientId: device.thing,
      receivedAt: time + 200,
    });
    this.messageId += 1;
    return { messageId: `bench-${this.messageId}`, body: JSON.stringify(rule) } as SQSRecord;
  }
}
