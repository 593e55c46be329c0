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
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler, dependenciesFromEnv, scoringFromEnv } from '../../lambdas/ingest/handler.ts';
import { inbound, reading } from '../support/messages.ts';
import { at, ingestEnv, sqsEvent } from '../support/sqs.ts';

const timestream = mockClient(TimestreamWriteClient);
const runtime = mockClient(SageMakerRuntimeClient);
const s3 = mockClient(S3Client);
const env = {
  ...ingestEnv,
  QUARANTINE_BUCKET: 'q',
  ENDPOINT_NAME: 'pump-endpoint',
  MODEL_SENSORS: 'vibrationRmsX,motorCurrent',
  INFERENCE_TIMEOUT_MS: '200',
};

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
});

afterAll(() => {
  timestream.restore();
  runtime.restore();
  s3.restore();
});

describe('ingest Lambda with scoring', () => {
  it('is off without an endpoint, and names a sensor the contract lacks', () => {
    expect(scoringFromEnv({ ...env, ENDPOINT_NAME: undefined })).toBeUndefined();
    expect(() => scoringFromEnv({ ...env, MODEL_SENSORS: 'torque' })).toThrow(
      'MODEL_SENSORS names "torque", which pump.telemetry@1 does not have',
    );
  });

  it("scores each device's stored readings on the endpoint and writes the inferences", async () => {
    runtime.on(InvokeEndpointCommand).callsFake((input: { Body: string }) => {
      const window = JSON.parse(input.Body) as { rows: number[][]; scoreFrom: number };
      const results = window.rows.slice(window.scoreFrom).map((_, i) => ({
        index: window.scoreFrom + i,
        score: 20 + i,
        anomalous: true,
        contributors: [{ sensor: 'vibrationRmsX', share: 0.9 }],
      }));
      return {
        Body: new TextEncoder().encode(JSON.stringify({ modelVersion: 'm-7', threshold: 12, results })),
      };
    });
    const handler = createHandler(dependenciesFromEnv(env), scoringFromEnv(env));
    const response = await handler(
      sqsEvent([0, 1, 2].map((i) => inbound(reading({ seq: i, timestamp: at(i) })))),
    );
    expect(response.batchItemFailures).toEqual([]);
    const window = JSON.parse(
      runtime.commandCalls(InvokeEndpointCommand)[0]?.args[0].input.Body as string,
    ) as { sensors: string[]; rows: number[][] };
    expect(window.sensors).toEqual(['vibrationRmsX', 'motorCurrent']);
    expect(window.rows).toEqual([
      [0.027, 1.35],
      [0.027, 1.35],
      [0.027, 1.35],
    ]);
    const [write] = inferenceWrites();
    expect(write?.Records).toHaveLength(3);
    expect(write?.Records?.[0]).toMatchObject({
      MeasureName: 'inference',
      Version: expect.any(Number) as unknown,
      MeasureValues: expect.arrayContaining([
        { Name: 'status', Value: 'scored', Type: 'VARCHAR' },
        { Name: 'anomalous', Value: 'true', Type: 'BOOLEAN' },
        { Name: 'model_version', Value: 'm-7', Type: 'VARCHAR' },
      ]) as unknown,
    });
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
