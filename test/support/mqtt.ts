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
