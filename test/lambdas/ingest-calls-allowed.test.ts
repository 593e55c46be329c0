import { clearCaches } from '@aws-lambda-powertools/parameters';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { QueryCommand as TimestreamQuery, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { TimestreamWriteClient, WriteRecordsCommand } from '@aws-sdk/client-timestream-write';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BaselineState } from '../../core/baseline/ports.ts';
import type { DeviceBaseline } from '../../core/model/device-baseline.ts';
import { SYSTEM } from '../../core/operators/actor.ts';
import { createHandler, dependenciesFromEnv, scoringFromEnv } from '../../lambdas/ingest/handler.ts';
import { calibratingBaseline } from '../support/baselines.ts';
import { repoUseCase } from '../support/catalog.ts';
import { batchEndpoint } from '../support/model-endpoint.ts';
import { deployedFunction, servicesWithoutEndpoint } from '../support/deployed-functions.ts';
import { deniedRequests, iamRequestsOf, unusedGrants } from '../support/iam-check.ts';
import { onInfluxServer, startInfluxServer, type InfluxServer } from '../support/influxdb.ts';
import { inbound, reading } from '../support/messages.ts';
import { at, sqsEvent } from '../support/sqs.ts';

/**
 * The scoring ingest function as deployed with each store (environment and role from the
 * synthesized template; InfluxDB a real influxd),
 * one batch through each of its paths: a message that fails its contract (quarantine), a device
 * whose calibration is due (read back from the store), and a monitored device whose anomaly
 * persists until an alert opens (caps, grouping, events). AWS answers are mocked at the network
 * edge; each call is decided as IAM would by the function's role, and the role must hold nothing
 * the batch did not use.
 */
const write = mockClient(TimestreamWriteClient);
const query = mockClient(TimestreamQueryClient);
const runtime = mockClient(SageMakerRuntimeClient);
const s3 = mockClient(S3Client);
const documents = mockClient(DynamoDBDocumentClient);
const events = mockClient(EventBridgeClient);
const sqs = mockClient(SQSClient);
const secrets = mockClient(SecretsManagerClient);
let influx: InfluxServer;

const MODEL = 'm-7';
const BASELINE: DeviceBaseline = {
  format: 'aiot.device-baseline',
  formatVersion: 1,
  modelVersion: MODEL,
  rows: 900,
  tracked: [{ sensor: 'vibrationRmsX', mean: 0.02, scale: 0.01 }],
  untracked: [],
  precision: [[1]],
  threshold: 40,
  scoreQuantiles: { p50: 5, p90: 12, p99: 30, max: 38 },
};
/** pump-001 has been monitored since the day before the batch. */
const MONITORED: BaselineState = {
  useCase: 'pump-maintenance',
  deviceId: 'pump-001',
  revision: 2,
  active: {
    version: 1,
    baseline: BASELINE,
    calibratedFrom: Date.parse(at(0)) - 86_400_000,
    calibratedUntil: Date.parse(at(0)) - 86_400_000 + 900_000,
    reason: 'commissioning',
    note: '',
    requestedBy: SYSTEM,
    activatedAt: Date.parse(at(0)) - 86_400_000 + 900_000,
  },
};
/** pump-003 needs one reading more to finish its calibration. */
const CALIBRATION = repoUseCase('pump-maintenance').alerts.calibrationReadings;
const DUE = { ...calibratingBaseline('pump-maintenance', 'pump-003', CALIBRATION - 1), revision: 3 };
const states = new Map([MONITORED, DUE].map((s) => [`DEVICE#${s.useCase}#${s.deviceId}`, s]));

beforeAll(async () => {
  influx = await startInfluxServer();
  await influx.createDatabase('pump-maintenance');
});

afterAll(async () => {
  for (const mock of [write, query, runtime, s3, documents, events, sqs, secrets]) mock.restore();
  await influx.stop();
});

beforeEach(() => {
  for (const mock of [write, query, runtime, s3, documents, events, sqs, secrets]) mock.reset();
  // A function of its own process: no token fetched by another case.
  clearCaches();
});

describe.each(['LiveAnalytics, trained models', 'InfluxDB, trained models'] as const)(
  'the scoring ingest function of a deployment with %s',
  (deployment) => {
    it('GIVEN a batch through quarantine, a due calibration and an alert that opens THEN every AWS call is one its role allows, and the role allows nothing else', async () => {
      const deployed = deployedFunction(deployment, 'UseCase-pump-maintenance/Ingest/Function');
      const env = onInfluxServer(deployed.env, influx);
      secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ token: 'token' }) });
      write.on(WriteRecordsCommand).resolves({});
      query.on(TimestreamQuery).resolves({ ColumnInfo: [], Rows: [] });
      s3.on(PutObjectCommand).resolves({});
      events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
      sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
      // Items read on their own (a notification group's window): none yet.
      documents.on(GetCommand).resolves({});
      documents.on(PutCommand).resolves({});
      documents.on(UpdateCommand).resolves({});
      documents.on(TransactWriteCommand).resolves({});
      // A device's partition (its baseline and tracks) in one query; other queries find nothing.
      documents
        .on(QueryCommand)
        .callsFake((input: { ExpressionAttributeValues?: Record<string, unknown> }) => {
          const pk = input.ExpressionAttributeValues?.[':pk'];
          const state = typeof pk === 'string' ? states.get(pk) : undefined;
          return {
            Items: state
              ? [{ pk, sk: 'BASELINE', revision: state.revision, state: JSON.stringify(state) }]
              : [],
          };
        });
      // An endpoint that finds every monitored reading far above the device's threshold.
      runtime.on(InvokeEndpointCommand).callsFake(
        batchEndpoint((window) => ({
          modelVersion: MODEL,
          threshold: 40,
          results: window.rows.slice(window.scoreFrom).map((_, i) => ({
            index: window.scoreFrom + i,
            score: 120,
            anomalous: true,
            contributors: [{ sensor: 'vibrationRmsX', share: 1 }],
          })),
        })),
      );

      const pump = (deviceId: string, second: number) =>
        inbound(
          reading({ deviceId, seq: second, timestamp: at(second), measures: { vibrationRmsX: 0.09 } }),
          {
            thing: deviceId,
          },
        );
      const batch = [
        ...Array.from({ length: 40 }, (_, second) => pump('pump-001', second)),
        pump('pump-003', 0),
        inbound({ not: 'a reading' }),
      ];
      const handler = createHandler(dependenciesFromEnv(env), scoringFromEnv(env));
      const response = await handler(sqsEvent(batch));

      expect(response.batchItemFailures).toEqual([]);
      // The alert opened under the caps (one transaction) and joined its group's notification.
      expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(1);
      expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
      const requests = iamRequestsOf([write, query, runtime, s3, documents, events, sqs, secrets]);
      expect(await deniedRequests(deployed.policies, requests)).toEqual([]);
      expect(unusedGrants(deployed.policies, requests)).toEqual([]);
      // In a VPC without NAT, each service it called has an endpoint there.
      expect(servicesWithoutEndpoint(deployment, deployed, requests)).toEqual([]);
      // (the check can fail: a service the VPC has no endpoint for is named)
      expect(servicesWithoutEndpoint(deployment, deployed, [{ action: 'kinesis:PutRecord' }])).toEqual(
        deployed.inVpc ? ['kinesis'] : [],
      );
    });
  },
);
