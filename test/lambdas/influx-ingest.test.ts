import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler, dependenciesFromEnv } from '../../lambdas/ingest/handler.ts';
import { InfluxHttp } from '../../lambdas/adapters/influx-http.ts';
import { InfluxTelemetryReader } from '../../lambdas/adapters/influx-reads.ts';
import { telemetryStoreFromEnv, telemetryStoreKind } from '../../lambdas/shared/telemetry-backend.ts';
import { pumpTelemetryV1 } from '../support/contracts.ts';
import { onInfluxServer, startInfluxServer, type InfluxServer } from '../support/influxdb.ts';
import { inbound, reading } from '../support/messages.ts';
import { sqsEvent } from '../support/sqs.ts';
import { deployedFunction, servicesWithoutEndpoint } from '../support/deployed-functions.ts';
import { deniedRequests, iamRequestsOf, unusedGrants } from '../support/iam-check.ts';

const secrets = mockClient(SecretsManagerClient);
const s3 = mockClient(S3Client);
let server: InfluxServer;

// The ingest function as deployed with `-c store=influxdb`: its environment and role from the
// template; only the instance's address is the test server's.
const deployed = deployedFunction('InfluxDB, no trained model', 'UseCase-pump-maintenance/Ingest/Function');
const influxEnv = (): Record<string, string | undefined> => onInfluxServer(deployed.env, server);
const BUCKET = 'pump-maintenance';

beforeAll(async () => {
  server = await startInfluxServer();
  expect(deployed.env.INFLUX_BUCKET).toBe(BUCKET);
  await server.createDatabase(BUCKET);
});
afterAll(async () => {
  secrets.restore();
  s3.restore();
  await server.stop();
});
beforeEach(() => {
  secrets.reset();
  s3.reset();
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ token: 'ingest-token' }) });
  s3.on(PutObjectCommand).resolves({});
});

describe('the ingest function with the InfluxDB store', () => {
  it('GIVEN TELEMETRY_STORE=influxdb WHEN a batch arrives THEN valid readings land in the bucket and invalid ones in quarantine', async () => {
    const handler = createHandler(dependenciesFromEnv(influxEnv()));
    const valid = inbound(reading());
    const invalid = inbound({ not: 'a reading' });

    const response = await handler(sqsEvent([valid, invalid]));

    expect(response).toEqual({ batchItemFailures: [] });
    const stored = await new InfluxTelemetryReader(
      new InfluxHttp({ url: server.url, database: BUCKET }),
      pumpTelemetryV1,
    ).readings('pump-maintenance', 'pump-001', { from: 0 }, 10);
    expect(stored.map((r) => r.dimensions.device_id)).toEqual(['pump-001']);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
    // The token came from the secret the construct named.
    expect(secrets.commandCalls(GetSecretValueCommand)[0]?.args[0].input.SecretId).toBe(
      influxEnv().INFLUX_TOKEN_SECRET,
    );
    // AND every AWS call it made is one its role in the template allows, as IAM would decide
    const requests = iamRequestsOf([secrets, s3]);
    expect(await deniedRequests(deployed.policies, requests)).toEqual([]);
    // A store that needs no model: its token and the quarantine, nothing more.
    expect(unusedGrants(deployed.policies, requests)).toEqual([]);
    expect(servicesWithoutEndpoint('InfluxDB, no trained model', deployed, requests)).toEqual([]);
  });

  it('GIVEN a secret without a token WHEN a batch arrives THEN the messages are retried, naming the secret', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ password: 'x' }) });
    const store = telemetryStoreFromEnv({ ...influxEnv(), INFLUX_TOKEN_SECRET: 'no-token-here' });

    const [outcome] = await store.write([
      {
        dimensions: {
          use_case: 'u',
          device_id: 'd',
          firmware: 'f',
          hardware_generation: 'g',
          contract: 'c@1',
        },
        time: 1,
        seq: 1,
        origin: 'device',
        measures: { flow_rate: 1 },
      },
    ]);

    expect(outcome).toEqual({
      status: 'retry',
      reason: expect.stringContaining('no-token-here holds no {"token": …} object') as unknown,
    });
  });

  it.each([
    [
      { TELEMETRY_STORE: 'dynamodb' },
      'TELEMETRY_STORE must be one of influxdb, liveanalytics, got "dynamodb"',
    ],
    [{ TELEMETRY_STORE: undefined }, 'Environment variable TELEMETRY_STORE is not set'],
  ])('GIVEN %j WHEN the function starts THEN it names the problem', (change, message) => {
    expect(() => telemetryStoreKind({ ...influxEnv(), ...change })).toThrow(message);
  });

  it('GIVEN the InfluxDB store without its URL WHEN the function starts THEN it names the variable', () => {
    expect(() => dependenciesFromEnv({ ...influxEnv(), INFLUX_URL: undefined })).toThrow(
      'Environment variable INFLUX_URL is not set',
    );
  });
});
