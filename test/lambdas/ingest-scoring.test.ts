import {
  InvokeEndpointCommand,
  SageMakerRuntimeClient,
  ServiceUnavailable,
} from '@aws-sdk/client-sagemaker-runtime';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  TimestreamWriteClient,
  WriteRecordsCommand,
  type WriteRecordsCommandInput,
} from '@aws-sdk/client-timestream-write';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { batchEndpoint, type SentWindow } from '../support/model-endpoint.ts';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler, dependenciesFromEnv, scoringFromEnv } from '../../lambdas/ingest/handler.ts';
import { inbound, reading } from '../support/messages.ts';
import { deployedFunction } from '../support/deployed-functions.ts';
import { deniedRequests, iamRequestsOf } from '../support/iam-check.ts';
import { at, sqsEvent } from '../support/sqs.ts';

const timestream = mockClient(TimestreamWriteClient);
const runtime = mockClient(SageMakerRuntimeClient);
const s3 = mockClient(S3Client);
const documents = mockClient(DynamoDBDocumentClient);
const events = mockClient(EventBridgeClient);
// What the deployed function finds: the template's environment (and role) of the scoring ingest function.
const deployed = deployedFunction(
  'LiveAnalytics, trained models',
  'UseCase-pump-maintenance/Ingest/Function',
);
const env = deployed.env;
const SENSORS = (env.MODEL_SENSORS ?? '').split(',');

const inferenceWrites = (): WriteRecordsCommandInput[] =>
  timestream
    .commandCalls(WriteRecordsCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.TableName === 'inferences');

beforeEach(() => {
  timestream.reset();
  runtime.reset();
  s3.reset();
  timestream.on(WriteRecordsCommand).resolves({});
  s3.on(PutObjectCommand).resolves({});
  documents.reset();
  events.reset();
  // Devices the table has never seen: they start calibrating.
  documents.on(GetCommand).resolves({});
  // A device's baseline and tracks are read in one query of its partition: none yet.
  documents.on(QueryCommand).resolves({ Items: [] });
  documents.on(PutCommand).resolves({});
});

afterAll(() => {
  documents.restore();
  events.restore();
  timestream.restore();
  runtime.restore();
  s3.restore();
});

describe('ingest Lambda with scoring', () => {
  it('is off without an endpoint, and names a sensor the contract lacks', () => {
    expect(scoringFromEnv({ ...env, ENDPOINT_NAME: undefined })).toBeUndefined();
    expect(() => scoringFromEnv({ ...env, MODEL_SENSORS: 'torque' })).toThrow(
      'MODEL_SENSORS names "torque", which pump.telemetry@2 does not have',
    );
    expect(() => scoringFromEnv({ ...env, ALERT_POLICY: '{"open":{"anomalousReadings":0}}' })).toThrow(
      'ALERT_POLICY is not an alert policy: open.anomalousReadings:',
    );
  });

  it("scores each device's readings in a window of its own, every device of the batch in one call, and writes each result to its reading", async () => {
    // GIVEN an endpoint whose score is derived from the row it was sent, so a mix-up would show
    runtime.on(InvokeEndpointCommand).callsFake(
      batchEndpoint((window) => ({
        modelVersion: 'm-7',
        threshold: 40,
        results: window.rows.slice(window.scoreFrom).map((row, i) => ({
          index: window.scoreFrom + i,
          score: Math.round((row[0] ?? 0) * 1000),
          anomalous: (row[0] ?? 0) > 0.04,
          contributors: [{ sensor: 'vibrationRmsX', share: 0.9 }],
        })),
      })),
    );
    const handler = createHandler(dependenciesFromEnv(env), scoringFromEnv(env));
    // WHEN one batch brings three readings of pump-001 and two of pump-002, interleaved
    const vibration = { 'pump-001': [0.021, 0.022, 0.023], 'pump-002': [0.051, 0.052] } as const;
    const message = (thing: keyof typeof vibration, i: number) =>
      inbound(
        reading({
          deviceId: thing,
          seq: i,
          timestamp: at(i),
          measures: { vibrationRmsX: vibration[thing][i] },
        }),
        { thing },
      );
    const response = await handler(
      sqsEvent([
        message('pump-001', 0),
        message('pump-002', 0),
        message('pump-001', 1),
        message('pump-002', 1),
        message('pump-001', 2),
      ]),
    );
    // THEN each device was scored in a window holding only its own readings, in order
    expect(response.batchItemFailures).toEqual([]);
    const calls = runtime.commandCalls(InvokeEndpointCommand);
    expect(calls).toHaveLength(1);
    const windows = calls.flatMap(
      (call) =>
        (
          JSON.parse(call.args[0].input.Body as string) as {
            windows: { sensors: string[]; rows: number[][] }[];
          }
        ).windows,
    );
    expect(SENSORS[0]).toBe('vibrationRmsX');
    expect(windows.map((w) => w.sensors)).toEqual([SENSORS, SENSORS]);
    expect(windows.map((w) => w.rows.map((row) => row[0])).sort()).toEqual([
      [0.021, 0.022, 0.023],
      [0.051, 0.052],
    ]);
    // AND every inference record carries the score of its own device's reading at its own time
    const records = inferenceWrites().flatMap((write) => write.Records ?? []);
    const byDevice = (device: string) =>
      records
        .filter((r) => r.Dimensions?.some((d) => d.Name === 'device_id' && d.Value === device))
        .map((r) => ({
          time: r.Time,
          score: r.MeasureValues?.find((m) => m.Name === 'score')?.Value,
          anomalous: r.MeasureValues?.find((m) => m.Name === 'anomalous')?.Value,
          state: r.MeasureValues?.find((m) => m.Name === 'device_state')?.Value,
        }));
    const time = (i: number) => String(Date.parse(at(i)));
    // AND devices never seen before calibrate: scored, never flagged, however high the score
    expect(byDevice('pump-001')).toEqual([
      { time: time(0), score: '21', anomalous: 'false', state: 'calibrating' },
      { time: time(1), score: '22', anomalous: 'false', state: 'calibrating' },
      { time: time(2), score: '23', anomalous: 'false', state: 'calibrating' },
    ]);
    expect(byDevice('pump-002')).toEqual([
      { time: time(0), score: '51', anomalous: 'false', state: 'calibrating' },
      { time: time(1), score: '52', anomalous: 'false', state: 'calibrating' },
    ]);
    // AND each device's calibration progress was saved conditionally in the shared table
    const saved = documents.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(saved.map((input) => String(input.Item?.pk)).sort()).toEqual([
      'DEVICE#pump-maintenance#pump-001',
      'DEVICE#pump-maintenance#pump-002',
    ]);
    expect(saved.every((input) => input.ConditionExpression === 'attribute_not_exists(pk)')).toBe(true);
    // AND every AWS call it made is one its role in the template allows, as IAM would decide
    const requests = iamRequestsOf([timestream, runtime, s3, documents, events]);
    expect(requests.map((r) => r.action).sort()).toEqual(
      expect.arrayContaining([
        'dynamodb:PutItem',
        'dynamodb:Query',
        'sagemaker:InvokeEndpoint',
        'timestream:WriteRecords',
      ]),
    );
    expect(await deniedRequests(deployed.policies, requests)).toEqual([]);
    // (the check can fail: without the grant on the endpoint, IAM would refuse the scoring call)
    const withoutEndpoint = deployed.policies.map((p) => {
      const policy = p as { Statement: { Action: unknown }[] };
      return {
        ...policy,
        Statement: policy.Statement.filter(
          (st) => !JSON.stringify(st.Action).includes('sagemaker:InvokeEndpoint'),
        ),
      };
    });
    expect(await deniedRequests(withoutEndpoint, requests)).toEqual([
      expect.stringMatching(
        /^sagemaker:InvokeEndpoint arn:aws:sagemaker:us-east-1:123456789012:endpoint\/.+: ImplicitlyDenied$/,
      ),
    ]);
  });

  it("keeps and sends each device's history as long as the endpoint's model says it needs, not more", async () => {
    // GIVEN an endpoint whose model smooths over 3 readings: 2 of history before each new one
    runtime.on(InvokeEndpointCommand).callsFake(
      batchEndpoint((window) => ({
        modelVersion: 'm-7',
        history: 2,
        threshold: 40,
        results: window.rows.slice(window.scoreFrom).map((_, i) => ({
          index: window.scoreFrom + i,
          score: 1,
          anomalous: false,
          contributors: [],
        })),
      })),
    );
    const handler = createHandler(dependenciesFromEnv(env), scoringFromEnv(env));
    const batch = (from: number) =>
      sqsEvent(
        [0, 1, 2].map((i) =>
          inbound(reading({ seq: from + i, timestamp: at(from + i), measures: { vibrationRmsX: from + i } })),
        ),
      );
    // WHEN a device sends three batches of three readings
    for (const from of [0, 3, 6]) await handler(batch(from));
    // THEN after the first answer each window carries the 2 readings before its new ones
    const sent = runtime
      .commandCalls(InvokeEndpointCommand)
      .flatMap(
        (call) => (JSON.parse(call.args[0].input.Body as string) as { windows: SentWindow[] }).windows,
      );
    expect(sent.map((w) => [w.scoreFrom, w.rows.map((row) => row[0])])).toEqual([
      [0, [0, 1, 2]],
      [2, [1, 2, 3, 4, 5]],
      [2, [4, 5, 6, 7, 8]],
    ]);
  });

  it('stores the readings and marks them unscored when the endpoint fails, without failing the batch', async () => {
    runtime
      .on(InvokeEndpointCommand)
      .rejects(new ServiceUnavailable({ $metadata: {}, message: 'down', Message: 'down' }));
    const handler = createHandler(dependenciesFromEnv(env), scoringFromEnv(env));
    const response = await handler(sqsEvent([inbound(reading())]));
    expect(response.batchItemFailures).toEqual([]);
    expect(
      timestream
        .commandCalls(WriteRecordsCommand)
        .some((call) => call.args[0].input.TableName === 'telemetry'),
    ).toBe(true);
    expect(inferenceWrites()[0]?.Records?.[0]?.MeasureValues).toEqual(
      expect.arrayContaining([
        { Name: 'status', Value: 'skipped', Type: 'VARCHAR' },
        expect.objectContaining({
          Name: 'skip_reason',
          Value: expect.stringContaining('ServiceUnavailable') as unknown,
        }),
      ]),
    );
    expect(runtime.commandCalls(InvokeEndpointCommand)).toHaveLength(3);
  });
});
