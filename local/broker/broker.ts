import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { authorizeDevicePublish, MAX_PUBLISHES_PER_CONNECTION_PER_SECOND } from '../../core/ingest/topics.ts';
import { CLAIM_CLIENT_ID_PREFIX, type Claimant } from '../../core/provisioning/claim.ts';
import { parseCertificateTopic } from '../../core/provisioning/rotation.ts';
import { CLAIM_COMMON_NAME_PREFIX, CSR_COMMON_NAME_PREFIX } from './certs.ts';
import { listen } from '../http/listen.ts';
import { LocalProvisioning, type ProvisioningReply } from './provisioning.ts';
import { MqttSizeGate } from './mqtt-size-gate.ts';

/** IoT Core's limit on a PUBLISH payload; the client is disconnected past it, as in the cloud. */
export const MAX_PAYLOAD_BYTES = 128 * 1024;
/** Room for the topic and packet id around the largest payload. */
const MAX_PACKET_BYTES = MAX_PAYLOAD_BYTES + 1024;
/** IoT Core's publishes per second on one connection (not adjustable). */
export const MAX_PUBLISHES_PER_SECOND = MAX_PUBLISHES_PER_CONNECTION_PER_SECOND;

export interface TelemetryArrival {
  readonly topic: string;
  readonly payload: Buffer;
  readonly clientId: string;
  readonly receivedAt: number;
}

export interface Refusal {
  readonly clientId: string;
  readonly thing: string;
  readonly action: 'connect' | 'publish' | 'subscribe' | 'accept';
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
  /**
   * Takes a message the device policy allows, before the broker acknowledges it: a QoS 1 PUBACK
   * goes out only after this returns, so it must return only once the message is kept (or throw,
   * and the client gets no PUBACK and is disconnected, as when IoT Core cannot take a message).
   */
  readonly accept: (arrival: TelemetryArrival) => void;
  readonly onRefused: (refusal: Refusal) => void;
  /**
   * Publishes a second one connection may make; those over it are dropped unacknowledged, as IoT
   * Core throttles. @default MAX_PUBLISHES_PER_SECOND
   */
  readonly publishesPerSecond?: number;
  /**
   * Fleet provisioning by claim: who a provisioned certificate is, and the answers to a claim
   * certificate's requests. Without it, claim certificates are refused. @default - none
   */
  readonly provisioning?: {
    thingOfCertificate(fingerprint: string): string | undefined;
    handle(topic: string, payload: Buffer, claimant: Claimant): Promise<ProvisioningReply>;
    confirm(thing: string, certificateFingerprint: string, payload: Buffer): Promise<unknown>;
  };
}

export interface LocalBroker {
  readonly port: number;
  connectedClients(): number;
  close(): Promise<void>;
}

const NOT_AUTHORIZED = 5;

function socketOf(client: Client): tls.TLSSocket | undefined {
  const conn: unknown = client.conn;
  return conn instanceof MqttSizeGate ? conn.socket : undefined;
}

/** The verified client certificate's common name and SHA-256 fingerprint, if it has one. */
export function peerIdentityOf(
  socket: tls.TLSSocket,
): { commonName: string; fingerprint: string } | undefined {
  if (!socket.authorized) return undefined;
  // null, not the typed object, once the socket has closed: a client that gave up while the broker
  // was busy (a thousand devices connecting at once) must be refused, not crash the runtime.
  const peer = socket.getPeerCertificate() as tls.PeerCertificate | null;
  const cn = (peer?.subject as { CN?: string | string[] } | undefined)?.CN;
  const commonName = Array.isArray(cn) ? cn[0] : cn;
  return peer && commonName ? { commonName, fingerprint: peer.fingerprint256 } : undefined;
}

function refuse(message: string): AuthenticateError {
  const error = new Error(message) as AuthenticateError;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- aedes declares the codes as a const enum, which isolatedModules cannot import
  error.returnCode = NOT_AUTHORIZED;
  return error;
}

type AedesOptions = NonNullable<Parameters<typeof Aedes.createBroker>[0]>;

/**
 * The IoT Core device policy as aedes hooks: a client must present a certificate from the local
 * CA and use its thing name as client id; it may publish only to its own telemetry topic (what
 * it publishes is handed to `accept` before the PUBACK); it subscribes only to provisioning's answers.
 */
function devicePolicyHooks(
  options: LocalBrokerOptions,
): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'> {
  const things = new WeakMap<Client, string>();
  /** Clients connected with a claim certificate: they may only provision. */
  const claims = new WeakSet<Client>();
  /** The SHA-256 fingerprint of each client's certificate: its certificate id in provisioning. */
  const fingerprints = new WeakMap<Client, string>();
  const refusePublish = (client: Client, thing: string, topic: string, reason: string) => {
    options.onRefused({ clientId: client.id, thing, action: 'publish', topic, reason });
  };
  /** Answered to this client alone, as IoT Core answers the connection that asked. */
  const answerProvisioning = (client: Client, topic: string, payload: Buffer, thing: string) => {
    const provisioning = options.provisioning;
    if (!provisioning) return;
    provisioning
      .handle(topic, payload, { clientId: client.id, certificateId: fingerprints.get(client) ?? '' })
      .then(
        (reply) => {
          client.publish(
            { cmd: 'publish', topic: reply.topic, payload: reply.payload, qos: 0, retain: false, dup: false },
            () => undefined,
          );
        },
        (error: unknown) => {
          const reason = `provisioning failed: ${error instanceof Error ? error.message : String(error)}`;
          options.onRefused({ clientId: client.id, thing, action: 'accept', topic, reason });
        },
      );
  };
  return {
    authenticate: (client, _username, _password, done) => {
      const socket = socketOf(client);
      const peer = socket ? peerIdentityOf(socket) : undefined;
      const deny = (thing: string, reason: string, message = reason) => {
        options.onRefused({ clientId: client.id, thing, action: 'connect', reason });
        done(refuse(message), false);
      };
      if (!peer) {
        deny('', 'no trusted client certificate', 'a client certificate from the local CA is required');
        return;
      }
      const { commonName, fingerprint } = peer;
      if (commonName.startsWith(CLAIM_COMMON_NAME_PREFIX)) {
        if (!options.provisioning)
          deny('', `claim certificate "${commonName}": this broker provisions nothing`);
        else if (!client.id.startsWith(CLAIM_CLIENT_ID_PREFIX))
          deny(
            '',
            `a claim certificate connects with a client id starting "${CLAIM_CLIENT_ID_PREFIX}", got "${client.id}"`,
          );
        else {
          claims.add(client);
          fingerprints.set(client, fingerprint);
          done(null, true);
        }
        return;
      }
      let thing = commonName;
      if (commonName.startsWith(CSR_COMMON_NAME_PREFIX)) {
        // Signed from a device's CSR: it is whoever a registration attached it to, if anyone.
        const attached = options.provisioning?.thingOfCertificate(fingerprint);
        if (attached === undefined) {
          deny(
            '',
            `certificate "${commonName}" is attached to no thing: register it through provisioning first`,
          );
          return;
        }
        thing = attached;
      }
      if (client.id !== thing) {
        deny(thing, `client id "${client.id}" is not the certificate's thing "${thing}"`);
        return;
      }
      things.set(client, thing);
      fingerprints.set(client, fingerprint);
      done(null, true);
    },
    authorizePublish: (client, packet, done) => {
      if (!client) {
        done(null);
        return;
      }
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      const provisioning = options.provisioning;
      if (claims.has(client) && provisioning) {
        if (!LocalProvisioning.isRequestTopic(packet.topic) || payload.length > MAX_PAYLOAD_BYTES) {
          const reason = `a claim certificate may only ask to provision, not publish to "${packet.topic}"`;
          refusePublish(client, '', packet.topic, reason);
          done(new Error(reason));
          return;
        }
        done(null);
        answerProvisioning(client, packet.topic, payload, '');
        return;
      }
      const thing = things.get(client) ?? '';
      // A provisioned thing renews its certificate over its own connection, as in IoT Core.
      if (
        provisioning &&
        LocalProvisioning.isRequestTopic(packet.topic) &&
        payload.length <= MAX_PAYLOAD_BYTES
      ) {
        done(null);
        answerProvisioning(client, packet.topic, payload, thing);
        return;
      }
      const renewed = parseCertificateTopic(packet.topic);
      if (provisioning && renewed?.thing === thing && options.ruleNames.has(renewed.useCase)) {
        if (payload.length > MAX_PAYLOAD_BYTES) {
          const reason = `payload of ${payload.length} bytes is over the ${MAX_PAYLOAD_BYTES}-byte limit`;
          refusePublish(client, thing, packet.topic, reason);
          done(new Error(reason));
          return;
        }
        done(null);
        provisioning.confirm(thing, fingerprints.get(client) ?? '', payload).catch((error: unknown) => {
          const reason = `certificate confirmation failed: ${error instanceof Error ? error.message : String(error)}`;
          options.onRefused({ clientId: client.id, thing, action: 'accept', topic: packet.topic, reason });
        });
        return;
      }
      const decision = authorizeDevicePublish(thing, packet.topic, options.ruleNames);
      const refusal = !decision.allowed
        ? decision.reason
        : payload.length > MAX_PAYLOAD_BYTES
          ? `payload of ${payload.length} bytes is over the ${MAX_PAYLOAD_BYTES}-byte limit`
          : undefined;
      if (refusal !== undefined) {
        options.onRefused({
          clientId: client.id,
          thing,
          action: 'publish',
          topic: packet.topic,
          reason: refusal,
        });
        done(new Error(refusal));
        return;
      }
      try {
        options.accept({ topic: packet.topic, payload, clientId: client.id, receivedAt: Date.now() });
      } catch (error) {
        const reason = `not accepted: ${error instanceof Error ? error.message : String(error)}`;
        options.onRefused({ clientId: client.id, thing, action: 'accept', topic: packet.topic, reason });
        done(new Error(reason));
        return;
      }
      done(null);
    },
    authorizeSubscribe: (client, subscription, done) => {
      if (
        (claims.has(client) || (options.provisioning && things.has(client))) &&
        LocalProvisioning.isReplyTopic(subscription.topic)
      ) {
        done(null, subscription);
        return;
      }
      options.onRefused({
        clientId: client.id,
        thing: things.get(client) ?? '',
        action: 'subscribe',
        topic: subscription.topic,
        reason: claims.has(client)
          ? 'a claim certificate subscribes only to the answers of provisioning'
          : 'devices subscribe only to the answers of provisioning',
      });
      done(null, null);
    },
  };
}

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
  const broker = await Aedes.createBroker(devicePolicyHooks(options));
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
