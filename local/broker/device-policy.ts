import type * as tls from 'node:tls';
import type { Aedes, AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import { authorizeDevicePublish } from '../../core/ingest/topics.ts';
import { CLAIM_CLIENT_ID_PREFIX } from '../../core/provisioning/claim.ts';
import { parseCertificateTopic } from '../../core/provisioning/rotation.ts';
import { MAX_PAYLOAD_BYTES, type LocalBrokerOptions } from './broker-options.ts';
import { CLAIM_COMMON_NAME_PREFIX, CSR_COMMON_NAME_PREFIX } from './certs.ts';
import { MqttSizeGate } from './mqtt-size-gate.ts';
import { LocalProvisioning } from './provisioning.ts';

const NOT_AUTHORIZED = 5;

type AedesOptions = NonNullable<Parameters<typeof Aedes.createBroker>[0]>;
type Hooks = Required<Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'>>;
type Done = (error: Error | null) => void;

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

const oversized = (payload: Buffer) =>
  payload.length > MAX_PAYLOAD_BYTES
    ? `payload of ${payload.length} bytes is over the ${MAX_PAYLOAD_BYTES}-byte limit`
    : undefined;

/**
 * The IoT Core device policy: a client must present a certificate from the local CA and use its
 * thing name as client id; it may publish only to its own telemetry topic (what it publishes is
 * handed to `accept` before the PUBACK); it subscribes only to provisioning's answers. A claim
 * certificate may only ask to provision.
 */
export class DevicePolicy {
  private readonly things = new WeakMap<Client, string>();
  /** Clients connected with a claim certificate: they may only provision. */
  private readonly claims = new WeakSet<Client>();
  /** The SHA-256 fingerprint of each client's certificate: its certificate id in provisioning. */
  private readonly fingerprints = new WeakMap<Client, string>();

  constructor(private readonly options: LocalBrokerOptions) {}

  /** The policy as aedes's hooks. */
  hooks(): Hooks {
    return {
      authenticate: (client, _username, _password, done) => {
        const verdict = this.authenticate(client);
        if (verdict === undefined) done(null, true);
        else {
          this.refused(client, 'connect', verdict.thing, verdict.reason);
          done(refuse(verdict.message ?? verdict.reason), false);
        }
      },
      authorizePublish: (client, packet, done) => {
        if (!client) done(null);
        else this.authorizePublish(client, packet, done);
      },
      authorizeSubscribe: (client, subscription, done) => {
        done(null, this.authorizeSubscribe(client, subscription) ? subscription : null);
      },
    };
  }

  private refused(
    client: Client,
    action: 'connect' | 'publish' | 'subscribe' | 'accept',
    thing: string,
    reason: string,
    topic?: string,
  ) {
    this.options.onRefused({
      clientId: client.id,
      thing,
      action,
      reason,
      ...(topic === undefined ? {} : { topic }),
    });
  }

  /** Undefined when the client may connect; else who it claimed to be and why not. */
  private authenticate(client: Client): { thing: string; reason: string; message?: string } | undefined {
    const socket = socketOf(client);
    const peer = socket ? peerIdentityOf(socket) : undefined;
    if (!peer) {
      return {
        thing: '',
        reason: 'no trusted client certificate',
        message: 'a client certificate from the local CA is required',
      };
    }
    const { commonName, fingerprint } = peer;
    if (commonName.startsWith(CLAIM_COMMON_NAME_PREFIX)) {
      if (!this.options.provisioning)
        return { thing: '', reason: `claim certificate "${commonName}": this broker provisions nothing` };
      if (!client.id.startsWith(CLAIM_CLIENT_ID_PREFIX))
        return {
          thing: '',
          reason: `a claim certificate connects with a client id starting "${CLAIM_CLIENT_ID_PREFIX}", got "${client.id}"`,
        };
      this.claims.add(client);
      this.fingerprints.set(client, fingerprint);
      return undefined;
    }
    let thing = commonName;
    if (commonName.startsWith(CSR_COMMON_NAME_PREFIX)) {
      // Signed from a device's CSR: it is whoever a registration attached it to, if anyone.
      const attached = this.options.provisioning?.thingOfCertificate(fingerprint);
      if (attached === undefined)
        return {
          thing: '',
          reason: `certificate "${commonName}" is attached to no thing: register it through provisioning first`,
        };
      thing = attached;
    }
    if (client.id !== thing)
      return { thing, reason: `client id "${client.id}" is not the certificate's thing "${thing}"` };
    this.things.set(client, thing);
    this.fingerprints.set(client, fingerprint);
    return undefined;
  }

  private authorizePublish(client: Client, packet: PublishPacket, done: Done): void {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const provisioning = this.options.provisioning;
    const thing = this.things.get(client) ?? '';
    const refusePublish = (reason: string) => {
      this.refused(client, 'publish', thing, reason, packet.topic);
      done(new Error(reason));
    };
    if (this.claims.has(client) && provisioning) {
      if (!LocalProvisioning.isRequestTopic(packet.topic) || oversized(payload))
        refusePublish(`a claim certificate may only ask to provision, not publish to "${packet.topic}"`);
      else {
        done(null);
        this.answerProvisioning(client, packet.topic, payload, '');
      }
      return;
    }
    // A provisioned thing renews its certificate over its own connection, as in IoT Core.
    if (provisioning && LocalProvisioning.isRequestTopic(packet.topic) && !oversized(payload)) {
      done(null);
      this.answerProvisioning(client, packet.topic, payload, thing);
      return;
    }
    const renewed = parseCertificateTopic(packet.topic);
    if (provisioning && renewed?.thing === thing && this.options.ruleNames.has(renewed.useCase)) {
      const tooLarge = oversized(payload);
      if (tooLarge) refusePublish(tooLarge);
      else {
        done(null);
        this.confirmRenewal(client, thing, packet.topic, payload);
      }
      return;
    }
    const decision = authorizeDevicePublish(thing, packet.topic, this.options.ruleNames);
    const refusal = decision.allowed ? oversized(payload) : decision.reason;
    if (refusal !== undefined) refusePublish(refusal);
    else this.accept(client, thing, packet.topic, payload, done);
  }

  /** Hands a telemetry message to the runtime; the PUBACK goes out only once it is kept. */
  private accept(client: Client, thing: string, topic: string, payload: Buffer, done: Done): void {
    try {
      this.options.accept({ topic, payload, clientId: client.id, receivedAt: Date.now() });
    } catch (error) {
      const reason = `not accepted: ${error instanceof Error ? error.message : String(error)}`;
      this.refused(client, 'accept', thing, reason, topic);
      done(new Error(reason));
      return;
    }
    done(null);
  }

  private confirmRenewal(client: Client, thing: string, topic: string, payload: Buffer): void {
    this.options.provisioning
      ?.confirm(thing, this.fingerprints.get(client) ?? '', payload)
      .catch((error: unknown) => {
        const reason = `certificate confirmation failed: ${error instanceof Error ? error.message : String(error)}`;
        this.refused(client, 'accept', thing, reason, topic);
      });
  }

  /** Answered to this client alone, as IoT Core answers the connection that asked. */
  private answerProvisioning(client: Client, topic: string, payload: Buffer, thing: string): void {
    const provisioning = this.options.provisioning;
    if (!provisioning) return;
    provisioning
      .handle(topic, payload, { clientId: client.id, certificateId: this.fingerprints.get(client) ?? '' })
      .then(
        (reply) => {
          client.publish(
            { cmd: 'publish', topic: reply.topic, payload: reply.payload, qos: 0, retain: false, dup: false },
            () => undefined,
          );
        },
        (error: unknown) => {
          const reason = `provisioning failed: ${error instanceof Error ? error.message : String(error)}`;
          this.refused(client, 'accept', thing, reason, topic);
        },
      );
  }

  private authorizeSubscribe(client: Client, subscription: Subscription): boolean {
    const mayProvision = this.claims.has(client) || (this.options.provisioning && this.things.has(client));
    if (mayProvision && LocalProvisioning.isReplyTopic(subscription.topic)) return true;
    this.refused(
      client,
      'subscribe',
      this.things.get(client) ?? '',
      this.claims.has(client)
        ? 'a claim certificate subscribes only to the answers of provisioning'
        : 'devices subscribe only to the answers of provisioning',
      subscription.topic,
    );
    return false;
  }
}
