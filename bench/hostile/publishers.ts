import type { MqttClient } from 'mqtt';
import { telemetryTopic } from '../../core/ingest/topics.ts';
import type { LocalCertificateAuthority } from '../../local/broker/certs.ts';
import { connectOnce, publishPacer } from '../../test/support/mqtt.ts';
import type { Message } from './messages.ts';

/*
 * The hostile bench's publishers: QoS 1, a window of messages in flight, and whatever got no
 * PUBACK sent again after reconnecting, as a device does.
 */

/** Where publishers connect, and with what. */
export interface Broker {
  readonly port: number;
  readonly ca: LocalCertificateAuthority;
  readonly useCase: string;
  readonly random: () => number;
}

/** One attempt as `thing` (test/support/mqtt.ts's connectOnce: settles even if the broker dies mid-handshake). */
function attempt(broker: Broker, thing: string, pair: { cert: string; key: string }) {
  return connectOnce(`mqtts://localhost:${broker.port}`, {
    clientId: thing,
    ca: broker.ca.caPem,
    cert: pair.cert,
    key: pair.key,
    connectTimeout: 3000,
  });
}

async function connect(broker: Broker, thing: string): Promise<MqttClient> {
  const pair = await broker.ca.devicePair(thing);
  for (;;) {
    const client = await attempt(broker, thing, pair);
    if (client?.connected) return client;
    await new Promise((resolve) => setTimeout(resolve, 200 + broker.random() * 300));
  }
}

const WINDOW = 20;
/** How long a publisher waits for a PUBACK before it reconnects and sends again. */
const PUBACK_TIMEOUT_MS = 5000;

/**
 * A connection and a way to publish on it that settles either way: mqtt.js keeps unacknowledged
 * publishes for a reconnect it will not make, so they are given up when the connection closes.
 */
async function link(broker: Broker, thing: string) {
  const client = await connect(broker, thing);
  const closed = new Promise<'closed'>((resolve) =>
    client.once('close', () => {
      resolve('closed');
    }),
  );
  const publish = async (message: Message): Promise<boolean> => {
    message.sends += 1;
    let timer: NodeJS.Timeout | undefined;
    // A publish the broker throttled gets no PUBACK: give up on it, as a device SDK times out.
    const unanswered = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        resolve('timeout');
      }, PUBACK_TIMEOUT_MS);
    });
    const outcome = await Promise.race([
      client.publishAsync(telemetryTopic(broker.useCase, thing), message.payload, { qos: 1 }).then(
        () => 'acked' as const,
        () => 'failed' as const,
      ),
      closed,
      unanswered,
    ]);
    clearTimeout(timer);
    if (outcome === 'acked') message.acked = true;
    return message.acked;
  };
  return { publish, end: () => client.end(true) };
}

/** Publishes one device's messages until each is acknowledged (oversized ones once: they never are). */
export async function publisher(broker: Broker, thing: string, own: Message[]): Promise<void> {
  let pending = own.filter((m) => m.kind !== 'oversized');
  const oversized = own.filter((m) => m.kind === 'oversized');
  while (pending.length > 0) {
    const connection = await link(broker, thing);
    const pace = publishPacer();
    const state = { broken: false };
    while (!state.broken && pending.length > 0) {
      const batch = pending.slice(0, WINDOW);
      await Promise.all(
        batch.map(async (message) => {
          // A device keeps under IoT Core's publishes per second on its connection (the broker drops the rest).
          await pace();
          if (!(await connection.publish(message))) state.broken = true;
        }),
      );
      // What got no PUBACK goes again on the next connection, as a device resends it.
      pending = pending.filter((m) => !m.acked);
    }
    connection.end();
  }
  // Oversized ones last, each on a connection of its own: the broker disconnects the sender.
  for (const message of oversized) {
    const connection = await link(broker, thing);
    await connection.publish(message);
    connection.end();
  }
}
