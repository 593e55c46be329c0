import { MAX_PUBLISHES_PER_CONNECTION_PER_SECOND } from '../../core/ingest/topics.ts';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/**
 * One connection attempt that settles either way: mqtt.js's connectAsync waits for `connect` or
 * `error`, and a broker that closes the socket during the handshake (stopping, or killed) sends
 * neither, so that promise would wait forever. Answers undefined when the attempt failed.
 */
export function connectOnce(url: string, options: IClientOptions): Promise<MqttClient | undefined> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { ...options, reconnectPeriod: 0 });
    client.on('error', () => undefined);
    client.once('connect', () => {
      resolve(client);
    });
    client.once('close', () => {
      client.end(true);
      resolve(undefined);
    });
  });
}

/**
 * Keeps a test device under IoT Core's publishes per second on one connection, which the local
 * broker applies as IoT Core does (a publish over it gets no PUBACK): each call resolves when the
 * next publish is within the limit. Pacing a sender, not waiting for a state.
 */
export function publishPacer(perSecond = MAX_PUBLISHES_PER_CONNECTION_PER_SECOND): () => Promise<void> {
  let next = Date.now();
  return async () => {
    const now = Date.now();
    const at = Math.max(now, next);
    next = at + 1000 / perSecond;
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  };
}

/** Publishes QoS 1 messages on one connection at a pace the broker takes, and waits for every PUBACK. */
export async function publishAllPaced(
  client: MqttClient,
  topic: string,
  payloads: readonly string[],
): Promise<void> {
  const pace = publishPacer();
  const acks: Promise<unknown>[] = [];
  for (const payload of payloads) {
    await pace();
    acks.push(client.publishAsync(topic, payload, { qos: 1 }));
  }
  await Promise.all(acks);
}
