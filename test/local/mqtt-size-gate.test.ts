import { PassThrough } from 'node:stream';
import type * as tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { MqttSizeGate } from '../../local/broker/mqtt-size-gate.ts';

/** An MQTT remaining length, as the fixed header encodes it. */
function varint(length: number): number[] {
  const bytes: number[] = [];
  let left = length;
  do {
    let byte = left % 128;
    left = Math.floor(left / 128);
    if (left > 0) byte |= 0x80;
    bytes.push(byte);
  } while (left > 0);
  return bytes;
}

/** A QoS 1 PUBLISH whose payload says which one it is. */
function publish(id: number, payloadBytes = 20): Buffer {
  const topic = Buffer.from('dt/pump-maintenance/pump-001/telemetry');
  const payload = Buffer.alloc(payloadBytes, 0x20);
  payload.write(String(id));
  const body = Buffer.concat([
    Buffer.from([topic.length >> 8, topic.length & 0xff]),
    topic,
    Buffer.from([id >> 8, id & 0xff]),
    payload,
  ]);
  return Buffer.concat([Buffer.from([0x32, ...varint(body.length)]), body]);
}
const PINGREQ = Buffer.from([0xc0, 0x00]);

/** The gate over a stand-in socket, with a clock the test moves; answers what the broker would read. */
function gate(perSecond: number) {
  const socket = new PassThrough();
  let now = 1_000_000;
  let throttled = 0;
  const gate = new MqttSizeGate(socket as unknown as tls.TLSSocket, 200 * 1024, () => undefined, {
    perSecond,
    now: () => now,
    onThrottled: () => {
      throttled += 1;
    },
  });
  const received: Buffer[] = [];
  gate.on('data', (chunk: Buffer) => received.push(chunk));
  return {
    send: (bytes: Buffer, chunkBytes = bytes.length) => {
      for (let at = 0; at < bytes.length; at += chunkBytes)
        socket.emit('data', bytes.subarray(at, at + chunkBytes));
    },
    advance: (ms: number) => {
      now += ms;
    },
    /** Packet types and publish ids the broker read, in order. */
    read: async () => {
      // The gate hands its parts on asynchronously, as a stream does.
      await new Promise((resolve) => setImmediate(resolve));
      const all = Buffer.concat(received);
      const packets: string[] = [];
      let at = 0;
      while (at < all.length) {
        const type = (all[at] ?? 0) >> 4;
        let length = 0;
        let multiplier = 1;
        let next = at + 1;
        let byte: number;
        do {
          byte = all[next++] ?? 0;
          length += (byte & 0x7f) * multiplier;
          multiplier *= 128;
        } while (byte & 0x80);
        const body = all.subarray(next, next + length);
        packets.push(
          type === 3
            ? `publish ${body
                .subarray(2 + body.readUInt16BE(0) + 2)
                .toString()
                .trim()}`
            : `type ${type}`,
        );
        at = next + length;
      }
      return packets;
    },
    get throttled() {
      return throttled;
    },
  };
}

describe('MqttSizeGate publish limit (IoT Core: 100 publishes a second per connection)', () => {
  it('GIVEN a burst of 150 publishes in one instant WHEN they arrive THEN 100 reach the broker and 50 are dropped whole, and other packets pass', async () => {
    const g = gate(100);

    g.send(Buffer.concat([...Array.from({ length: 150 }, (_, i) => publish(i)), PINGREQ]));

    const read = await g.read();
    expect(read.filter((p) => p.startsWith('publish'))).toEqual(
      Array.from({ length: 100 }, (_, i) => `publish ${i}`),
    );
    expect(read.at(-1)).toBe('type 12');
    expect(g.throttled).toBe(50);
  });

  it('GIVEN the budget spent WHEN half a second passes THEN half a second of publishes more is taken', async () => {
    const g = gate(100);
    g.send(Buffer.concat(Array.from({ length: 100 }, (_, i) => publish(i))));

    g.advance(500);
    g.send(Buffer.concat(Array.from({ length: 80 }, (_, i) => publish(100 + i))));

    expect(await g.read()).toHaveLength(150);
    expect(g.throttled).toBe(30);
  });

  it.each([1, 3, 7, 64])(
    'GIVEN packets cut into %i-byte chunks THEN the same publishes pass and the dropped ones leave no byte behind',
    async (chunkBytes) => {
      const g = gate(10);

      g.send(Buffer.concat([...Array.from({ length: 25 }, (_, i) => publish(i, 300)), PINGREQ]), chunkBytes);

      expect(await g.read()).toEqual([...Array.from({ length: 10 }, (_, i) => `publish ${i}`), 'type 12']);
      expect(g.throttled).toBe(15);
    },
  );
});
