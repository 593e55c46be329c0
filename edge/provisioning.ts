// @peculiar/x509 needs a Reflect metadata polyfill loaded before it.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as x509 from '@peculiar/x509';
import mqtt from 'mqtt';
import { z } from 'zod';
import { thingNameSchema } from '../core/contracts/contract.ts';
import {
  CLAIM_CLIENT_ID_PREFIX,
  createFromCsrResponseSchema,
  PROVISIONING_TOPICS,
  provisioningErrorSchema,
  registerThingResponseSchema,
} from '../core/provisioning/claim.ts';
import { pemOf } from '../core/provisioning/pem.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;

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

const identitySchema = z.strictObject({ thing: thingNameSchema, certificateId: z.string() });

/** The identity provisioned before, in `dir`; undefined when the device has none yet. */
export function provisionedIdentity(dir: string): ProvisionedIdentity | undefined {
  const file = path.join(dir, 'identity.json');
  if (!existsSync(file)) return undefined;
  const { thing } = identitySchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  return {
    thing,
    cert: readFileSync(path.join(dir, 'device.pem.crt'), 'utf8'),
    key: readFileSync(path.join(dir, 'device.private.pem.key'), 'utf8'),
  };
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
  const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${options.serialNumber}`,
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
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
  const waiting = new Map<string, (topic: string, payload: Buffer) => void>();
  client.on('message', (topic, payload) => {
    for (const [prefix, deliver] of waiting) if (topic.startsWith(prefix)) deliver(topic, payload);
  });
  const ask = async <T>(topic: string, body: unknown, schema: z.ZodType<T>): Promise<T> => {
    await client.subscribeAsync([`${topic}/accepted`, `${topic}/rejected`], { qos: 1 });
    const answer = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(topic);
        reject(new Error(`no answer on ${topic} within ${(options.timeoutMs ?? 30_000) / 1000} s`));
      }, options.timeoutMs ?? 30_000);
      waiting.set(topic, (replyTopic, payload) => {
        clearTimeout(timer);
        waiting.delete(topic);
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
      });
    });
    await client.publishAsync(topic, JSON.stringify(body), { qos: 1 });
    return answer;
  };
  try {
    const issued = await ask(
      PROVISIONING_TOPICS.createFromCsr,
      { certificateSigningRequest: csr.toString('pem') },
      createFromCsrResponseSchema,
    );
    const registered = await ask(
      PROVISIONING_TOPICS.register(options.templateName),
      {
        certificateOwnershipToken: issued.certificateOwnershipToken,
        parameters: { SerialNumber: options.serialNumber },
      },
      registerThingResponseSchema,
    );
    const thing = thingNameSchema.parse(registered.thingName);
    const key = pemOf('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(options.dir, 'device.private.pem.key'), key, { mode: 0o600 });
    writeFileSync(path.join(options.dir, 'device.pem.crt'), issued.certificatePem);
    // Written last, and whole: its presence is what "provisioned" means at the next start.
    const identityFile = path.join(options.dir, 'identity.json');
    writeFileSync(`${identityFile}.tmp`, JSON.stringify({ thing, certificateId: issued.certificateId }));
    renameSync(`${identityFile}.tmp`, identityFile);
    return { thing, cert: issued.certificatePem, key };
  } finally {
    await client.endAsync();
  }
}
