import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PROVISIONING_TEMPLATE, PROVISIONING_TOPICS } from '../../core/provisioning/claim.ts';
import { resolveEdgeSettings } from '../../core/edge/settings.ts';
import { healthTopic, telemetryTopic } from '../../core/ingest/topics.ts';
import { EdgeAgent } from '../../edge/agent.ts';
import { IdentityRenewal, provisionByClaim } from '../../edge/provisioning.ts';
import { simulatorSource } from '../../edge/sources.ts';
import { LocalRuntime } from '../../local/runtime/runtime.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { pumpTelemetryV1 } from '../support/contracts.ts';
import { aiot } from '../support/cli.ts';
import { waitFor } from '../support/wait.ts';

let dir: string;
let runtime: LocalRuntime;
let claim: { cert: string; key: string };
const refusals: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiot-provisioning-'));
  runtime = await LocalRuntime.start({
    ...loadCatalog(),
    dataDir: path.join(dir, 'runtime'),
    mqttPort: 0,
    apiPort: 0,
    modelPort: false,
    batchWindowMs: 20,
    onRefused: (refusal) => refusals.push(refusal.reason),
  });
  claim = await runtime.ca.claimPair('factory-line-1');
}, 60_000);

afterAll(async () => {
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
});

const provision = (serialNumber: string, deviceDir = path.join(dir, 'devices', serialNumber)) =>
  provisionByClaim({
    url: runtime.mqttUrl,
    ca: runtime.ca.caPem,
    claimCert: claim.cert,
    claimKey: claim.key,
    templateName: LOCAL_PROVISIONING_TEMPLATE,
    serialNumber,
    dir: deviceDir,
    timeoutMs: 15_000,
  });

const connectWith = (clientId: string, pair: { cert: string; key: string }) =>
  mqtt.connectAsync(runtime.mqttUrl, {
    clientId,
    ca: runtime.ca.caPem,
    cert: pair.cert,
    key: pair.key,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });

/** Waits until the store holds `count` readings of `thing`; answers how many it holds then. */
const storedReadings = (thing: string, count: number) =>
  waitFor(`${count} readings of ${thing}`, async () => {
    const { rows } = await runtime.store.query(
      `SELECT count(*)::INTEGER AS n FROM telemetry WHERE device_id = '${thing}'`,
    );
    return Number(rows[0]?.n) >= count ? Number(rows[0]?.n) : undefined;
  });

/** `aiot devices allow --local` for the CLI test's serial. */
const allowCli = (dataDir: string) => [
  ...['devices', 'allow', '--local', '--serial', 'SN-CLI', '--thing', 'pump-cli'],
  ...['--use-case', 'pump-maintenance', '--site', 'plant-b', '--data-dir', dataDir],
];

describe('fleet provisioning by claim, through the local runtime', () => {
  it('GIVEN an allow-listed serial and only a claim certificate THEN the device provisions itself, keeps its identity, and its readings are stored under its thing', async () => {
    runtime.provisioning.admit({
      serialNumber: 'SN-1',
      thingName: 'pump-777',
      useCase: 'pump-maintenance',
      site: 'plant-a',
    });

    const identity = await provision('SN-1');
    expect(identity.thing).toBe('pump-777');
    // The next start finds it on disk and asks nothing.
    expect(await provision('SN-1')).toEqual(identity);

    const agent = EdgeAgent.start({
      identity: { thing: identity.thing, firmware: '1.0.0', hardwareGeneration: 'gen2' },
      contract: pumpTelemetryV1,
      settings: resolveEdgeSettings(undefined, identity.thing),
      connection: {
        url: runtime.mqttUrl,
        ca: runtime.ca.caPem,
        cert: identity.cert,
        key: identity.key,
        topic: telemetryTopic('pump-maintenance', identity.thing),
        healthTopic: healthTopic('pump-maintenance', identity.thing),
      },
      dataDir: path.join(dir, 'agent'),
      fsync: 'never',
    });
    await agent.run(simulatorSource({ thing: identity.thing, rate: 1000, count: 20 }));
    expect(await agent.drained(30_000)).toBe(true);
    await agent.stop();
    expect(await storedReadings('pump-777', 20)).toBe(20);
  }, 90_000);

  it('GIVEN an operator who admits a serial and makes a claim with the CLI THEN the edge agent CLI provisions from the claim and its readings are stored', async () => {
    const runtimeDir = path.join(dir, 'runtime');
    const allow = await aiot(allowCli(runtimeDir));
    expect(allow.code, allow.stderr).toBe(0);
    expect(allow.stdout).toContain(
      'SN-CLI admitted: it provisions once, as pump-cli of pump-maintenance at plant-b',
    );
    const claimDir = path.join(dir, 'claim-cli');
    const made = await aiot([
      'devices',
      'claim',
      '--local',
      'line-2',
      '--out',
      claimDir,
      '--data-dir',
      runtimeDir,
    ]);
    expect(made.code, made.stderr).toBe(0);

    const edge = await aiot(
      [
        'edge',
        '--claim-cert',
        path.join(claimDir, 'claim.pem.crt'),
        '--claim-key',
        path.join(claimDir, 'claim.private.pem.key'),
        '--serial',
        'SN-CLI',
        '--template',
        LOCAL_PROVISIONING_TEMPLATE,
        '--endpoint',
        runtime.mqttUrl,
        '--certs-dir',
        path.join(runtimeDir, 'certs'),
        '--identity-dir',
        path.join(dir, 'identity-cli'),
        '--data-dir',
        path.join(dir, 'edge-cli'),
        '--source',
        'simulator',
        '--count',
        '10',
        '--rate',
        '100',
        '--status',
        'off',
      ],
      { timeoutMs: 90_000 },
    );
    expect(edge.code, edge.stderr).toBe(0);
    expect(await storedReadings('pump-cli', 10)).toBe(10);
    // Admitted twice without --again: refused, and said why.
    const twice = await aiot(allowCli(runtimeDir));
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toContain('is on the allow-list already: pass --again');
  }, 180_000);

  it('GIVEN a provisioned device whose certificate is due THEN the agent renews it over its own connection, reconnects with it, loses no reading, and the old certificate stops working', async () => {
    runtime.provisioning.admit({
      serialNumber: 'SN-R',
      thingName: 'pump-renew',
      useCase: 'pump-maintenance',
      site: 'plant-a',
    });
    const identityDir = path.join(dir, 'devices', 'SN-R');
    const first = await provision('SN-R', identityDir);
    const identityFile = () =>
      JSON.parse(readFileSync(path.join(identityDir, 'identity.json'), 'utf8')) as {
        certificateId: string;
        confirmationPending?: boolean;
      };
    const firstCertificate = identityFile().certificateId;
    const logs: string[] = [];

    const agent = EdgeAgent.start({
      identity: { thing: first.thing, firmware: '1.0.0', hardwareGeneration: 'gen2' },
      contract: pumpTelemetryV1,
      settings: resolveEdgeSettings(undefined, first.thing),
      connection: {
        url: runtime.mqttUrl,
        ca: runtime.ca.caPem,
        cert: first.cert,
        key: first.key,
        topic: telemetryTopic('pump-maintenance', first.thing),
      },
      // Due at once: the local CA's certificates last 825 days.
      renewal: new IdentityRenewal({
        dir: identityDir,
        templateName: LOCAL_PROVISIONING_TEMPLATE,
        useCase: 'pump-maintenance',
        renewBeforeMs: 1000 * 86_400_000,
      }),
      dataDir: path.join(dir, 'agent-renew'),
      fsync: 'never',
      reconnectMinMs: 50,
      onLog: (_, message) => logs.push(message),
    });
    await agent.run(simulatorSource({ thing: first.thing, rate: 200, count: 200 }));

    // The cloud side (here the runtime) forgets the old certificate once the device confirms.
    const renewed = await waitFor('the renewal confirmed', () => {
      const identity = identityFile();
      return identity.certificateId !== firstCertificate && identity.confirmationPending !== true
        ? identity
        : undefined;
    });
    const entry = await waitFor('the allow-list moved on', () => {
      const listed = (
        JSON.parse(readFileSync(path.join(runtime.provisioning.dir, 'allow-list.json'), 'utf8')) as {
          serialNumber: string;
          certificateId?: string;
          previousCertificateId?: string;
        }[]
      ).find((candidate) => candidate.serialNumber === 'SN-R');
      return listed?.previousCertificateId === undefined ? listed : undefined;
    });
    expect(entry.certificateId).toBe(renewed.certificateId);
    expect(await agent.drained(30_000)).toBe(true);
    await agent.stop();
    expect(await storedReadings('pump-renew', 200)).toBe(200);
    expect(logs.some((line) => line.includes('certificate renewed: reconnecting with it'))).toBe(true);
    // Renewed once, not at every reconnection, though the new one is "due" too.
    expect(logs.filter((line) => line.includes('certificate due for renewal'))).toHaveLength(1);

    // The old certificate is retired: it connects no more; the new one does.
    await expect(connectWith('pump-renew', first)).rejects.toThrow(/Not authorized/i);
    const current = provisionedIdentityPair(identityDir);
    const client = await connectWith('pump-renew', current);
    await client.endAsync();
  }, 120_000);

  it('GIVEN a serial provisioned once, or never listed THEN provisioning is refused, and the hook says why', async () => {
    await expect(provision('SN-1', path.join(dir, 'clone'))).rejects.toThrow('403 AccessDenied');
    expect(refusals.some((r) => r.includes('was provisioned at'))).toBe(true);
    await expect(provision('SN-404')).rejects.toThrow('403 AccessDenied');
    expect(refusals.some((r) => r.includes('"SN-404" is not on the allow-list'))).toBe(true);
  }, 60_000);

  it('GIVEN a claim certificate THEN it cannot pass for a thing, publish telemetry, or use a certificate it had signed without registering', async () => {
    await expect(connectWith('pump-777', claim)).rejects.toThrow(/Not authorized/i);

    const client = await connectWith('provision-x', claim);
    const closed = new Promise<void>((resolve) =>
      client.once('close', () => {
        resolve();
      }),
    );
    client.publish(
      telemetryTopic('pump-maintenance', 'pump-777'),
      JSON.stringify(pumpTelemetryV1.example()),
      { qos: 1 },
    );
    await closed;
    expect(refusals.some((r) => r.startsWith('a claim certificate may only ask to provision'))).toBe(true);

    // Signed from a CSR but never registered: attached to no thing.
    const signed = await runtime.ca.signRequest(await csrFor('pump-777'));
    const unattached = { cert: signed.certificatePem, key: csrKey };
    await expect(connectWith('pump-777', unattached)).rejects.toThrow(/Not authorized/i);
    expect(refusals.some((r) => r.includes('is attached to no thing'))).toBe(true);
  }, 60_000);

  it('GIVEN a malformed request THEN the claim client hears why on the rejected topic', async () => {
    const client = await connectWith('provision-y', claim);
    await client.subscribeAsync(`${PROVISIONING_TOPICS.createFromCsr}/rejected`);
    const answer = new Promise<string>((resolve) =>
      client.once('message', (_topic, payload) => {
        resolve(payload.toString());
      }),
    );
    await client.publishAsync(
      PROVISIONING_TOPICS.createFromCsr,
      '{"certificateSigningRequest":"not a csr"}',
      { qos: 1 },
    );
    expect(JSON.parse(await answer)).toMatchObject({ statusCode: 400, errorCode: 'InvalidCsr' });
    await client.endAsync();
  }, 30_000);
});

function provisionedIdentityPair(identityDir: string): { cert: string; key: string } {
  const { certFile, keyFile } = JSON.parse(readFileSync(path.join(identityDir, 'identity.json'), 'utf8')) as {
    certFile: string;
    keyFile: string;
  };
  return {
    cert: readFileSync(path.join(identityDir, certFile), 'utf8'),
    key: readFileSync(path.join(identityDir, keyFile), 'utf8'),
  };
}

let csrKey = '';
async function csrFor(commonName: string): Promise<string> {
  const { webcrypto } = await import('node:crypto');
  const x509 = await import('@peculiar/x509');
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ]);
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  csrKey = `-----BEGIN PRIVATE KEY-----\n${
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g)
      ?.join('\n') ?? ''
  }\n-----END PRIVATE KEY-----\n`;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  return csr.toString('pem');
}
