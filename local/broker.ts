import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { authorizeDevicePublish } from '../core/ingest/topics.ts';
import { listen } from './listen.ts';

export interface TelemetryArrival {
  readonly topic: string;
  readonly payload: Buffer;
  readonly clientId: string;
  readonly receivedAt: number;
}

export interface Refusal {
  readonly clientId: string;
  readonly thing: string;
  readonly action: 'connect' | 'publish' | 'subscribe';
  readonly topic?: string;
  readonly reason: string;
}

export interface LocalBrokerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** Ingest rule name of each use case, for the Basic Ingest topic form. */
  readonly ruleNames: ReadonlyMap<string, string>;
  readonly onTelemetry: (arrival: TelemetryArrival) => void;
  readonly onRefused: (refusal: Refusal) => void;
}

export interface LocalBroker {
  readonly port: number;
  connectedClients(): number;
  close(): Promise<void>;
}

const NOT_AUTHORIZED = 5;

function peerCommonName(client: Client): string | undefined {
  const socket = client.conn as unknown as tls.TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
  const subject = socket.getPeerCertificate().subject as { CN?: string | string[] } | undefined;
  const cn = subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

function refuse(message: string): AuthenticateError {
  const error = new Error(message) as AuthenticateError;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- aedes declares the codes as a const enum, which isolatedModules cannot import
  error.returnCode = NOT_AUTHORIZED;
  return error;
}

/**
 * An MQTT broker on TLS that enforces what the IoT Core device policy enforces: a client must
 * present a certificate from the local CA, its client id must be the certificate's common name
 * (the thing name), and it may publish only to its own telemetry topic. It accepts no subscriptions.
 */
export async function startLocalBroker(options: LocalBrokerOptions): Promise<LocalBroker> {
  const things = new WeakMap<Client, string>();
  const broker = await Aedes.createBroker({
    authenticate: (client, _username, _password, done) => {
      const thing = peerCommonName(client);
      if (!thing) {
        options.onRefused({
          clientId: client.id,
          thing: '',
          action: 'connect',
          reason: 'no trusted client certificate',
        });
        done(refuse('a client certificate from the local CA is required'), false);
        return;
      }
      if (client.id !== thing) {
        const reason = `client id "${client.id}" is not the certificate's thing "${thing}"`;
        options.onRefused({ clientId: client.id, thing, action: 'connect', reason });
        done(refuse(reason), false);
        return;
      }
      things.set(client, thing);
      done(null, true);
    },
    authorizePublish: (client, packet, done) => {
      if (!client) {
        done(null);
        return;
      }
      const thing = things.get(client) ?? '';
      const decision = authorizeDevicePublish(thing, packet.topic, options.ruleNames);
      if (decision.allowed) {
        done(null);
        return;
      }
      options.onRefused({
        clientId: client.id,
        thing,
        action: 'publish',
        topic: packet.topic,
        reason: decision.reason,
      });
      done(new Error(decision.reason));
    },
    authorizeSubscribe: (client, subscription, done) => {
      options.onRefused({
        clientId: client.id,
        thing: things.get(client) ?? '',
        action: 'subscribe',
        topic: subscription.topic,
        reason: 'devices may not subscribe',
      });
      done(null, null);
    },
  });
  broker.on('publish', (packet, client) => {
    // Client-less publishes are the broker's own $SYS messages.
    if (!client) return;
    options.onTelemetry({
      topic: packet.topic,
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
      clientId: client.id,
      receivedAt: Date.now(),
    });
  });

  const server = tls.createServer(
    {
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    broker.handle,
  );
  server.on('tlsClientError', (error) => {
    options.onRefused({
      clientId: '',
      thing: '',
      action: 'connect',
      reason: `TLS handshake failed: ${error.message}`,
    });
  });
  try {
    await listen(server, options.port, options.host, '--mqtt-port');
  } catch (error) {
    // aedes runs timers of its own: without this the process would never exit.
    await new Promise<void>((resolve) => {
      broker.close(() => {
        resolve();
      });
    });
    throw error;
  }
  return {
    port: (server.address() as AddressInfo).port,
    connectedClients: () => broker.connectedClients,
    close: async () => {
      await new Promise<void>((resolve) => {
        broker.close(() => {
          resolve();
        });
      });
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}
