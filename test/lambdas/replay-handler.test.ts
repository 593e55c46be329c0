import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { TimestreamWriteClient, WriteRecordsCommand } from '@aws-sdk/client-timestream-write';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler, dependenciesFromEnv } from '../../lambdas/ingest/handler.ts';
import { createReplayHandler, replayDependenciesFromEnv } from '../../lambdas/replay/handler.ts';
import { compiledContracts } from '../../lib/use-case-config.ts';
import { pumpTelemetryV1, pumpTelemetryV2 } from '../support/contracts.ts';
import { onInfluxServer, startInfluxServer } from '../support/influxdb.ts';
import { inbound, reading } from '../support/messages.ts';
import { ingestEnv, sqsEvent } from '../support/sqs.ts';
import { deployedFunction, servicesWithoutEndpoint } from '../support/deployed-functions.ts';
import { deniedRequests, iamRequestsOf, unusedGrants } from '../support/iam-check.ts';

// The replay function as deployed: its environment and role from the template.
const replayFunction = deployedFunction(
  'LiveAnalytics, no trained model',
  'UseCase-pump-maintenance/Ingest/ReplayFunction',
);
const INFLUX = 'InfluxDB, no trained model';
const timestream = mockClient(TimestreamWriteClient);
const s3 = mockClient(S3Client);
const secrets = mockClient(SecretsManagerClient);
/** The bucket: what the ingest function put, and what the replay rewrites and deletes. */
let bucket: Map<string, { body: string; modified: Date }>;

const contractsOf = (...contracts: Parameters<typeof compiledContracts>[0]) =>
  JSON.parse(compiledContracts(contracts)['process.env.AIOT_CONTRACTS'] ?? '""') as string;

beforeEach(() => {
  timestream.reset();
  s3.reset();
  bucket = new Map();
  timestream.on(WriteRecordsCommand).resolves({});
  s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
    bucket.set(input.Key, { body: input.Body, modified: new Date() });
    return {};
  });
  s3.on(DeleteObjectCommand).callsFake((input: { Key: string }) => {
    bucket.delete(input.Key);
    return {};
  });
  s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string; StartAfter?: string }) => ({
    IsTruncated: false,
    Contents: [...bucket.keys()]
      .filter(
        (key) => key.startsWith(input.Prefix) && (input.StartAfter === undefined || key > input.StartAfter),
      )
      .sort()
      .map((key) => ({ Key: key, LastModified: bucket.get(key)?.modified })),
  }));
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => ({
    Body: {
      transformToString: () => Promise.resolve(bucket.get(input.Key)?.body ?? ''),
    } as unknown as GetObjectCommandOutput['Body'],
  }));
});

afterAll(() => {
  timestream.restore();
  s3.restore();
  secrets.restore();
});

describe('quarantine replay Lambda', () => {
  it('GIVEN version 2 messages the ingest function quarantined WHEN replayed with version 2 accepted THEN it is written once, its object moves to quarantine-resolved/, and the broken one is rewritten with its reasons', async () => {
    // GIVEN the ingest function of a use case that accepted version 1 only
    const ingest = createHandler(
      dependenciesFromEnv({ ...ingestEnv, AIOT_CONTRACTS: contractsOf(pumpTelemetryV1) }),
    );
    const upgraded = {
      ...reading({ seq: 1 }),
      version: 2,
      measures: { ...reading().measures, bearingTemperature: 50 },
    };
    const broken = reading({ seq: 2, measures: { flowRate: -1 } });
    await ingest(sqsEvent([inbound(upgraded), inbound(broken)]));
    expect([...bucket.keys()].filter((k) => k.startsWith('quarantine/'))).toHaveLength(2);
    expect(timestream.commandCalls(WriteRecordsCommand)).toHaveLength(0);

    // WHEN the replay function, as deployed, runs with the contracts of today
    s3.resetHistory();
    const replay = createReplayHandler(
      replayDependenciesFromEnv({
        ...replayFunction.env,
        AIOT_CONTRACTS: contractsOf(pumpTelemetryV2, pumpTelemetryV1),
      }),
    );
    const report = await replay({ reason: 'contract' }, { getRemainingTimeInMillis: () => 600_000 });
    // THEN only the version refusal matched "contract", and its reading is written
    expect(report).toMatchObject({ examined: 1, stored: 1, stillQuarantined: 0, complete: true });
    const written = timestream.commandCalls(WriteRecordsCommand)[0]?.args[0].input;
    expect(written?.CommonAttributes?.Dimensions).toContainEqual({
      Name: 'contract',
      Value: 'pump.telemetry@2',
    });
    const resolved = [...bucket.keys()].filter((k) =>
      k.startsWith('quarantine-resolved/use_case=pump-maintenance/'),
    );
    expect(resolved).toHaveLength(1);
    expect(JSON.parse(bucket.get(resolved[0] ?? '')?.body ?? '{}')).toMatchObject({ outcome: 'stored' });

    // AND without a filter the broken one is re-examined and rewritten in place, replayedAt set
    const all = await replay({}, { getRemainingTimeInMillis: () => 600_000 });
    expect(all).toMatchObject({ examined: 1, stored: 0, stillQuarantined: 1 });
    const left = [...bucket.entries()].filter(([k]) => k.startsWith('quarantine/'));
    expect(left).toHaveLength(1);
    expect(JSON.parse(left[0]?.[1].body ?? '{}')).toMatchObject({
      reasons: [expect.objectContaining({ path: 'measures.flowRate' })],
      replayedAt: expect.any(Number) as unknown,
    });
    expect(timestream.commandCalls(WriteRecordsCommand)).toHaveLength(1);
    // AND every AWS call the replay made is one its role in the template allows, as IAM would decide
    const requests = iamRequestsOf([s3, timestream]);
    expect(await deniedRequests(replayFunction.policies, requests)).toEqual([]);
    expect(unusedGrants(replayFunction.policies, requests)).toEqual([]);
  });

  it('GIVEN the InfluxDB store WHEN a quarantined upgrade is replayed THEN it lands in the bucket, every AWS call is one the role allows, and the role allows nothing else', async () => {
    const influx = await startInfluxServer();
    try {
      await influx.createDatabase('pump-maintenance');
      secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ token: 'token' }) });
      const onServer = (
        env: Record<string, string>,
        ...contracts: Parameters<typeof compiledContracts>[0]
      ) => ({
        ...onInfluxServer(env, influx),
        AIOT_CONTRACTS: contractsOf(...contracts),
      });
      const ingestFunction = deployedFunction(INFLUX, 'UseCase-pump-maintenance/Ingest/Function');
      const replayInflux = deployedFunction(INFLUX, 'UseCase-pump-maintenance/Ingest/ReplayFunction');
      const upgraded = {
        ...reading({ seq: 1 }),
        version: 2,
        measures: { ...reading().measures, bearingTemperature: 50 },
      };
      await createHandler(dependenciesFromEnv(onServer(ingestFunction.env, pumpTelemetryV1)))(
        sqsEvent([inbound(upgraded)]),
      );
      s3.resetHistory();
      secrets.resetHistory();
      clearCaches();

      const report = await createReplayHandler(
        replayDependenciesFromEnv(onServer(replayInflux.env, pumpTelemetryV2, pumpTelemetryV1)),
      )({}, { getRemainingTimeInMillis: () => 600_000 });

      expect(report).toMatchObject({ examined: 1, stored: 1, stillQuarantined: 0 });
      const requests = iamRequestsOf([s3, secrets]);
      expect(await deniedRequests(replayInflux.policies, requests)).toEqual([]);
      expect(unusedGrants(replayInflux.policies, requests)).toEqual([]);
      expect(servicesWithoutEndpoint(INFLUX, replayInflux, requests)).toEqual([]);
    } finally {
      await influx.stop();
    }
  });

  it('GIVEN an object that is no quarantine entry THEN it is left where it is and counted', async () => {
    bucket.set('quarantine/use_case=pump-maintenance/stage=validation/date=2026-01-15/x/odd.json', {
      body: 'not json',
      modified: new Date(),
    });
    const deps = replayDependenciesFromEnv({
      ...replayFunction.env,
      AIOT_CONTRACTS: contractsOf(pumpTelemetryV1),
    });
    expect(await createReplayHandler(deps)({})).toMatchObject({ examined: 0 });
    expect(deps.ledger.unreadable).toBe(1);
    expect(bucket.size).toBe(1);
  });

  it("GIVEN a payload that is not the replay's THEN it is refused before anything is read", async () => {
    const replay = createReplayHandler(
      replayDependenciesFromEnv({ ...replayFunction.env, AIOT_CONTRACTS: contractsOf(pumpTelemetryV1) }),
    );
    await expect(replay({ since: 'last week', drop: true })).rejects.toThrow(
      /the replay takes \{"since"\?: ISO 8601 time, "reason"\?: text\}: .*since/,
    );
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(0);
  });
});
