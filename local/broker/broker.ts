import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { Aedes } from 'aedes';
import { MAX_PUBLISHES_PER_CONNECTION_PER_SECOND } from '../../core/ingest/topics.ts';
import { listen } from '../http/listen.ts';
import { MAX_PAYLOAD_BYTES, type LocalBroker, type LocalBrokerOptions } from './broker-options.ts';
import { DevicePolicy, peerIdentityOf } from './device-policy.ts';
import { MqttSizeGate } from './mqtt-size-gate.ts';

export {
  MAX_PAYLOAD_BYTES,
  type LocalBroker,
  type LocalBrokerOptions,
  type Refusal,
  type TelemetryArrival,
} from './broker-options.ts';
export { peerIdentityOf } from './device-policy.ts';

/** Room for the topic and packet id around the largest payload. */
const MAX_PACKET_BYTES = MAX_PAYLOAD_BYTES + 1024;
/** IoT Core's publishes per second on one connection (not adjustable). */
export const MAX_PUBLISHES_PER_SECOND = MAX_PUBLISHES_PER_CONNECTION_PER_SECOND;

/** The TLS server in front of the broker: client certificates required, and the size gate on every connection. */
function tlsServer(options: LocalBrokerOptions, broker: Aedes): tls.Server {
  const server = tls.createServer(
    {
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      // A PUBACK is a small write: held back by Nagle's algorithm it waits for the client's
      // delayed ACK (40 ms), which caps a device that publishes one message at a time at ~22/s.
      noDelay: true,
    },
    (socket) => {
      if (broker.closed) {
        socket.destroy();
        return;
      }
      const perSecond = options.publishesPerSecond ?? MAX_PUBLISHES_PER_SECOND;
      let throttled = 0;
      let reportedAt = 0;
      const gate = new MqttSizeGate(
        socket,
        MAX_PACKET_BYTES,
        (packet) => {
          const thing = peerIdentityOf(socket)?.commonName ?? '';
          options.onRefused({
            clientId: thing,
            thing,
            action: packet.type === 3 ? 'publish' : 'connect',
            reason: `MQTT packet of ${packet.bytes} bytes is over the ${MAX_PACKET_BYTES}-byte limit; disconnected before reading it`,
          });
        },
        {
          perSecond,
          // One refusal a second per connection, with the count: a throttled client is not a flood of lines.
          onThrottled: () => {
            throttled += 1;
            const now = Date.now();
            if (now - reportedAt < 1000) return;
            reportedAt = now;
            const thing = peerIdentityOf(socket)?.commonName ?? '';
            options.onRefused({
              clientId: thing,
              thing,
              action: 'publish',
              reason: `throttled: ${throttled} publishes over ${perSecond}/s on this connection dropped so far, unacknowledged (IoT Core's limit); the client sends them again`,
            });
          },
        },
      );
      broker.handle(gate);
    },
  );
  server.on('tlsClientError', (error) => {
    options.onRefused({
      clientId: '',
      thing: '',
      action: 'connect',
      reason: `TLS handshake failed: ${error.message}`,
    });
  });
  return server;
}

function closeBroker(broker: Aedes): Promise<void> {
  return new Promise<void>((resolve) => {
    broker.close(() => {
      resolve();
    });
  });
}

/**
 * An MQTT broker on TLS that enforces what the IoT Core device policy enforces: a client must
 * present a certificate from the local CA, its client id must be the certificate's common name
 * (the thing name), and it may publish only to its own telemetry topic, at most 128 KB. It
 * acknowledges a publish only once `accept` has kept it. It accepts no subscriptions.
 */
export async function startLocalBroker(options: LocalBrokerOptions): Promise<LocalBroker> {
  const broker = await Aedes.createBroker(new DevicePolicy(options).hooks());
  const server = tlsServer(options, broker);
  try {
    await listen(server, options.port, options.host, '--mqtt-port');
  } catch (error) {
    // aedes runs timers of its own: without this the process would never exit.
    await closeBroker(broker);
    throw error;
  }
  return {
    port: (server.address() as AddressInfo).port,
    connectedClients: () => broker.connectedClients,
    close: async () => {
      // No new connections first: devices reconnect at once, and a closing broker must not
      // acknowledge what arrives while the queue drains.
      const serverClosed = new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      await closeBroker(broker);
      await serverClosed;
    },
  };
}
