// @peculiar/x509 needs a Reflect metadata polyfill loaded before it.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as x509 from '@peculiar/x509';
import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';
import { thingNameSchema } from '../core/contracts/contract.ts';
import {
  CLAIM_CLIENT_ID_PREFIX,
  createFromCsrResponseSchema,
  PROVISIONING_TOPICS,
  provisioningErrorSchema,
  registerThingResponseSchema,
} from '../core/provisioning/claim.ts';
import { DEVICE_KEY_ALGORITHM, pemOf } from '../core/provisioning/pem.ts';
import { certificateTopic } from '../core/provisioning/rotation.ts';
import type { CertificateRenewal } from './agent.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export interface ClaimProvisioningOptions {
  /** `mqtts://host:8883` */
  readonly url: string;
  readonly ca: string | Buffer;
  /** The claim certificate and key the device left the factory with. */
  readonly claimCert: string | Buffer;
  readonly claimKey: string | Buffer;
  /** The provisioning template (the stack's `ProvisioningTemplateName` output; `aiot-local` locally). */
  readonly templateName: string;
  readonly serialNumber: string;
  /** Where the device's own identity is kept once provisioned. */
  readonly dir: string;
  /** How long each request may take. @default 30 s */
  readonly timeoutMs?: number;
}

/** The identity a device provisioned for itself: its thing name, and a certificate for a key that never left it. */
export interface ProvisionedIdentity {
  readonly thing: string;
  readonly cert: string;
  readonly key: string;
}

const identitySchema = z.strictObject({
  thing: thingNameSchema,
  certificateId: z.string(),
  serialNumber: z.string().optional(),
  /** File names of the certificate and key in the identity folder. */
  certFile: z
    .string()
    .regex(/^[\w.-]+$/)
    .default('device.pem.crt'),
  keyFile: z
    .string()
    .regex(/^[\w.-]+$/)
    .default('device.private.pem.key'),
  /** Set by a renewal until the cloud hears the device connected with the new certificate. */
  confirmationPending: z.boolean().optional(),
});
type IdentityFile = z.output<typeof identitySchema>;

function readIdentityFile(dir: string): IdentityFile | undefined {
  const file = path.join(dir, 'identity.json');
  if (!existsSync(file)) return undefined;
  return identitySchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/** `identity.json` is replaced whole: its presence and content say which files are the identity. */
function writeIdentityFile(dir: string, identity: IdentityFile): void {
  const file = path.join(dir, 'identity.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(identity));
  renameSync(`${file}.tmp`, file);
}

/** The identity provisioned before, in `dir`; undefined when the device has none yet. */
export function provisionedIdentity(dir: string): ProvisionedIdentity | undefined {
  const identity = readIdentityFile(dir);
  if (!identity) return undefined;
  return {
    thing: identity.thing,
    cert: readFileSync(path.join(dir, identity.certFile), 'utf8'),
    key: readFileSync(path.join(dir, identity.keyFile), 'utf8'),
  };
}

/** A new key pair and a CSR for it: the private key never leaves the device. */
async function keyAndRequest(subject: string): Promise<{ keys: webcrypto.CryptoKeyPair; csr: string }> {
  const keys = await webcrypto.subtle.generateKey(DEVICE_KEY_ALGORITHM, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${subject}`,
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  return { keys, csr: csr.toString('pem') };
}

/**
 * One request of the provisioning MQTT API over `client`: subscribes to its answers, publishes,
 * and resolves with the accepted answer or rejects with IoT Core's error.
 */
async function ask<T>(
  client: MqttClient,
  topic: string,
  body: unknown,
  schema: z.ZodType<T>,
  timeoutMs: number,
): Promise<T> {
  await client.subscribeAsync([`${topic}/accepted`, `${topic}/rejected`], { qos: 1 });
  try {
    return await new Promise<T>((resolve, reject) => {
      const onMessage = (replyTopic: string, payload: Buffer) => {
        if (!replyTopic.startsWith(`${topic}/`)) return;
        settle();
        try {
          const json: unknown = JSON.parse(payload.toString('utf8'));
          if (replyTopic.endsWith('/accepted')) {
            resolve(schema.parse(json));
            return;
          }
          const error = provisioningErrorSchema.safeParse(json);
          reject(
            new Error(
              error.success
                ? `${topic} refused: ${error.data.statusCode} ${error.data.errorCode}: ${error.data.errorMessage}`
                : `${topic} refused`,
            ),
          );
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      };
      const timer = setTimeout(() => {
        settle();
        reject(new Error(`no answer on ${topic} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const settle = () => {
        clearTimeout(timer);
        client.off('message', onMessage);
      };
      client.on('message', onMessage);
      client.publish(topic, JSON.stringify(body), { qos: 1 }, (error) => {
        if (!error) return;
        settle();
        reject(error);
      });
    });
  } finally {
    // The connection may be the agent's own: it listens to nothing it no longer needs.
    await client.unsubscribeAsync([`${topic}/accepted`, `${topic}/rejected`]).catch(() => undefined);
  }
}

/**
 * CreateCertificateFromCsr then RegisterThing over `client`, then keeps the new identity in `dir`
 * under new file names, `identity.json` replaced last: a device interrupted before that keeps the
 * identity it had.
 */
async function obtainIdentity(
  client: MqttClient,
  options: {
    templateName: string;
    serialNumber: string;
    dir: string;
    timeoutMs: number;
    confirmationPending: boolean;
  },
): Promise<ProvisionedIdentity & { certificateId: string }> {
  const { keys, csr } = await keyAndRequest(options.serialNumber);
  const issued = await ask(
    client,
    PROVISIONING_TOPICS.createFromCsr,
    { certificateSigningRequest: csr },
    createFromCsrResponseSchema,
    options.timeoutMs,
  );
  const registered = await ask(
    client,
    PROVISIONING_TOPICS.register(options.templateName),
    {
      certificateOwnershipToken: issued.certificateOwnershipToken,
      parameters: { SerialNumber: options.serialNumber },
    },
    registerThingResponseSchema,
    options.timeoutMs,
  );
  const thing = thingNameSchema.parse(registered.thingName);
  const key = pemOf('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const previous = readIdentityFile(options.dir);
  const suffix = issued.certificateId.slice(0, 16);
  const certFile = `device-${suffix}.pem.crt`;
  const keyFile = `device-${suffix}.private.pem.key`;
  writeFileSync(path.join(options.dir, keyFile), key, { mode: 0o600 });
  writeFileSync(path.join(options.dir, certFile), issued.certificatePem);
  writeIdentityFile(options.dir, {
    thing,
    certificateId: issued.certificateId,
    serialNumber: options.serialNumber,
    certFile,
    keyFile,
    ...(options.confirmationPending ? { confirmationPending: true } : {}),
  });
  // The replaced key is of no use any more: it goes, so a stolen disk image holds one key.
  if (previous)
    for (const file of [previous.certFile, previous.keyFile])
      if (file !== certFile && file !== keyFile) rmSync(path.join(options.dir, file), { force: true });
  return { thing, cert: issued.certificatePem, key, certificateId: issued.certificateId };
}

/**
 * Provisions the device from its claim certificate, as AWS IoT fleet provisioning does: it makes
 * a key pair (the private key never leaves the device), has its CSR signed
 * (CreateCertificateFromCsr), registers under its serial number (RegisterThing, which the
 * stack's pre-provisioning hook admits or refuses), and keeps the certificate, the key and the
 * thing name in `dir`. A device provisioned before keeps the identity it has.
 */
export async function provisionByClaim(options: ClaimProvisioningOptions): Promise<ProvisionedIdentity> {
  const existing = provisionedIdentity(options.dir);
  if (existing) return existing;
  const client = await mqtt.connectAsync(options.url, {
    clientId: `${CLAIM_CLIENT_ID_PREFIX}${options.serialNumber}`,
    ca: options.ca,
    cert: options.claimCert,
    key: options.claimKey,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
  try {
    const { thing, cert, key } = await obtainIdentity(client, {
      templateName: options.templateName,
      serialNumber: options.serialNumber,
      dir: options.dir,
      timeoutMs: options.timeoutMs ?? 30_000,
      confirmationPending: false,
    });
    return { thing, cert, key };
  } finally {
    await client.endAsync();
  }
}

/** Renew a certificate this long before it expires, by default. */
export const DEFAULT_RENEW_BEFORE_DAYS = 30;

/**
 * Certificate renewal for the edge agent, for an identity provisioned by claim: when the
 * certificate is within `renewBeforeMs` of its end, the agent asks over its own connection for
 * a new one (the same two requests, with its current certificate in place of the claim), keeps
 * it, reconnects with it and says so on `dt/<use case>/<thing>/certificate`, upon which the cloud
 * retires the old one.
 */
export class IdentityRenewal implements CertificateRenewal {
  constructor(
    private readonly options: {
      readonly dir: string;
      readonly templateName: string;
      readonly useCase: string;
      /** @default DEFAULT_RENEW_BEFORE_DAYS */
      readonly renewBeforeMs?: number;
      /** @default 30 s */
      readonly timeoutMs?: number;
    },
  ) {}

  private identity(): IdentityFile & { serialNumber: string } {
    const identity = readIdentityFile(this.options.dir);
    if (!identity?.serialNumber)
      throw new Error(
        `${this.options.dir} holds no identity provisioned by claim (identity.json with serialNumber)`,
      );
    return { ...identity, serialNumber: identity.serialNumber };
  }

  /** When the current certificate is due for renewal. */
  dueAt(): number {
    const identity = this.identity();
    const certificate = new x509.X509Certificate(
      readFileSync(path.join(this.options.dir, identity.certFile), 'utf8'),
    );
    return (
      certificate.notAfter.getTime() - (this.options.renewBeforeMs ?? DEFAULT_RENEW_BEFORE_DAYS * 86_400_000)
    );
  }

  async renew(client: MqttClient): Promise<{ cert: string; key: string }> {
    const identity = this.identity();
    const renewed = await obtainIdentity(client, {
      templateName: this.options.templateName,
      serialNumber: identity.serialNumber,
      dir: this.options.dir,
      timeoutMs: this.options.timeoutMs ?? 30_000,
      confirmationPending: true,
    });
    if (renewed.thing !== identity.thing)
      throw new Error(`renewal answered for thing "${renewed.thing}", not "${identity.thing}"`);
    return { cert: renewed.cert, key: renewed.key };
  }

  pendingConfirmation(): { topic: string; payload: string } | undefined {
    const identity = readIdentityFile(this.options.dir);
    if (!identity?.confirmationPending || !identity.serialNumber) return undefined;
    return {
      topic: certificateTopic(this.options.useCase, identity.thing),
      payload: JSON.stringify({ serialNumber: identity.serialNumber }),
    };
  }

  confirmed(): void {
    const identity = readIdentityFile(this.options.dir);
    if (!identity?.confirmationPending) return;
    const { confirmationPending: _done, ...rest } = identity;
    writeIdentityFile(this.options.dir, rest);
  }
}
