import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  RejectedRecordsException,
  ThrottlingException,
  TimestreamWriteClient,
  WriteRecordsCommand,
  type WriteRecordsCommandInput,
} from '@aws-sdk/client-timestream-write';
import { mockClient } from 'aws-sdk-client-mock';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHandler, dependenciesFromEnv } from '../../lambdas/ingest/handler.ts';
import { inbound, pack, reading } from '../support/messages.ts';
import { deployedFunction } from '../support/deployed-functions.ts';
import { deniedRequests, iamRequestsOf, unusedGrants } from '../support/iam-check.ts';
import { at, INGEST_DEPLOYMENT, ingestEnv, sqsEvent } from '../support/sqs.ts';

const timestream = mockClient(TimestreamWriteClient);
const s3 = mockClient(S3Client);
const env = ingestEnv;
const handler = createHandler(dependenciesFromEnv(env));

function writeInputs(): WriteRecordsCommandInput[] {
  return timestream.commandCalls(WriteRecordsCommand).map((call) => call.args[0].input);
}

beforeEach(() => {
  timestream.reset();
  s3.reset();
  timestream.on(WriteRecordsCommand).resolves({});
  s3.on(PutObjectCommand).resolves({});
});

afterAll(() => {
  timestream.restore();
  s3.restore();
});

describe('ingest Lambda', () => {
  it('writes a valid message as a multi-measure record with its dimensions in CommonAttributes', async () => {
    const response = await handler(sqsEvent([inbound(reading())]));
    expect(response.batchItemFailures).toEqual([]);
    const [input] = writeInputs();
    expect(input).toMatchObject({
      DatabaseName: env.TIMESTREAM_DATABASE,
      TableName: 'telemetry',
      CommonAttributes: {
        MeasureName: 'telemetry',
        MeasureValueType: 'MULTI',
        TimeUnit: 'MILLISECONDS',
        Dimensions: expect.arrayContaining([
          { Name: 'device_id', Value: 'pump-001' },
          { Name: 'use_case', Value: 'pump-maintenance' },
          { Name: 'firmware', Value: '1.4.2' },
          { Name: 'hardware_generation', Value: 'gen2' },
        ]) as unknown,
      },
    });
    expect(input?.Records).toEqual([
      {
        Time: String(Date.parse('2026-01-15T08:30:00.000Z')),
        MeasureValues: expect.arrayContaining([
          { Name: 'motor_current', Value: '1.35', Type: 'DOUBLE' },
          { Name: 'seq', Value: '0', Type: 'BIGINT' },
          // A measure, not a dimension: a simulator's tag does not start a series of its own.
          { Name: 'origin', Value: 'device', Type: 'VARCHAR' },
        ]) as unknown,
      },
    ]);
  });

  it('never sends more than 100 records in one WriteRecords call', async () => {
    const messages = Array.from({ length: 250 }, (_, i) => inbound(reading({ seq: i, timestamp: at(i) })));
    await handler(sqsEvent(messages));
    expect(writeInputs().map((input) => input.Records?.length)).toEqual([100, 100, 50]);
  });

  it('sends an invalid message to the quarantine bucket with every reason, and does not retry it', async () => {
    const bad = { ...reading(), seq: -1, measures: { ...reading().measures, outletPressure: 99 } };
    const message = inbound(bad);
    const response = await handler(sqsEvent([message]));
    expect(response.batchItemFailures).toEqual([]);
    expect(writeInputs()).toEqual([]);
    const [put] = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(put?.Bucket).toBe(env.QUARANTINE_BUCKET);
    expect(put?.Key).toBe(
      `quarantine/use_case=pump-maintenance/stage=validation/date=2026-01-15/pump-001/${message.id}.json`,
    );
    const entry = JSON.parse(put?.Body as string) as { reasons: { path: string }[]; payloadBase64: string };
    expect(entry.reasons.map((r) => r.path)).toEqual(['seq', 'measures.outletPressure']);
    expect(JSON.parse(atob(entry.payloadBase64))).toEqual(bad);
  });

  it('quarantines the record Timestream rejects and keeps the others stored', async () => {
    timestream.on(WriteRecordsCommand).rejects(
      new RejectedRecordsException({
        $metadata: {},
        message: 'One or more records have been rejected',
        RejectedRecords: [
          {
            RecordIndex: 1,
            Reason: 'The record timestamp is outside the time range',
            ExistingVersion: undefined,
          },
        ],
      }),
    );
    const messages = [0, 1, 2].map((i) => inbound(reading({ seq: i, timestamp: at(i) })));
    const response = await handler(sqsEvent(messages));
    expect(response.batchItemFailures).toEqual([]);
    const puts = s3
      .commandCalls(PutObjectCommand)
      .map(
        (call) =>
          JSON.parse(call.args[0].input.Body as string) as { stage: string; reasons: { message: string }[] },
      );
    expect(puts).toHaveLength(1);
    expect(puts[0]?.stage).toBe('store-rejected');
    expect(puts[0]?.reasons[0]?.message).toContain('The record timestamp is outside the time range');
  });

  it('fails only the messages of the throttled call, so SQS retries just those', async () => {
    const pump1 = [0, 1].map((i) => inbound(reading({ seq: i, timestamp: at(i) })));
    const pump2 = inbound(reading({ deviceId: 'pump-002' }), { thing: 'pump-002' });
    timestream.on(WriteRecordsCommand).callsFake((input: WriteRecordsCommandInput) => {
      const device = input.CommonAttributes?.Dimensions?.find((d) => d.Name === 'device_id')?.Value;
      if (device === 'pump-001')
        throw new ThrottlingException({ $metadata: {}, message: 'Rate exceeded', Message: 'Rate exceeded' });
      return {};
    });
    const response = await handler(sqsEvent([...pump1, pump2]));
    expect(response.batchItemFailures).toEqual(pump1.map((m) => ({ itemIdentifier: m.id })));
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('GIVEN a pack of 4 readings with one bad THEN 3 are written, the bad one has its own quarantine object, and a throttled pack is retried once by its message id', async () => {
    const four = [0, 1, 2, 3].map((i) => reading({ seq: i, timestamp: at(i) }));
    const bad = { ...four[1], measures: { ...four[1]?.measures, motorCurrent: 9999 } };
    const message = inbound(pack([four[0] ?? {}, bad, four[2] ?? {}, four[3] ?? {}]));

    const response = await handler(sqsEvent([message]));

    expect(response.batchItemFailures).toEqual([]);
    expect(
      writeInputs()
        .flatMap((input) => input.Records ?? [])
        .map((r) => r.Time),
    ).toEqual([0, 2, 3].map((i) => String(Date.parse(at(i)))));
    const keys = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input.Key);
    expect(keys).toEqual([
      expect.stringMatching(new RegExp(`/pump-001/${message.id}\\.1\\.json$`)) as unknown,
    ]);

    timestream
      .on(WriteRecordsCommand)
      .rejects(
        new ThrottlingException({ $metadata: {}, message: 'Rate exceeded', Message: 'Rate exceeded' }),
      );
    expect((await handler(sqsEvent([message]))).batchItemFailures).toEqual([{ itemIdentifier: message.id }]);
  });

  it('fails the affected messages on a 5xx from Timestream', async () => {
    timestream.on(WriteRecordsCommand).rejects(
      Object.assign(new Error('Internal error'), {
        name: 'InternalServerException',
        $metadata: { httpStatusCode: 500 },
      }),
    );
    const message = inbound(reading());
    expect((await handler(sqsEvent([message]))).batchItemFailures).toEqual([{ itemIdentifier: message.id }]);
  });

  it('writes the same message delivered twice once', async () => {
    const message = reading();
    await handler(sqsEvent([inbound(message), inbound(message)]));
    expect(writeInputs().flatMap((input) => input.Records ?? [])).toHaveLength(1);
  });

  it('writes a quarantine object only if absent, and takes a redelivery that finds it as done', async () => {
    // GIVEN a message whose object an earlier delivery wrote: S3 answers 412 to If-None-Match
    s3.on(PutObjectCommand).rejects(
      Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {
        name: 'PreconditionFailed',
        $metadata: { httpStatusCode: 412 },
      }),
    );
    const message = inbound({ not: 'a reading' });
    // WHEN it is delivered again
    const response = await handler(sqsEvent([message]));
    // THEN it is not retried, and the write was conditional
    expect(response.batchItemFailures).toEqual([]);
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.IfNoneMatch).toBe('*');
  });

  it('retries an invalid message rather than dropping it when S3 is unavailable', async () => {
    s3.on(PutObjectCommand).rejects(new Error('Service Unavailable'));
    const message = inbound({ not: 'a reading' });
    expect((await handler(sqsEvent([message]))).batchItemFailures).toEqual([{ itemIdentifier: message.id }]);
  });

  it('names a missing environment variable', () => {
    expect(() => dependenciesFromEnv({ ...env, TIMESTREAM_TABLE: undefined })).toThrow(
      'Environment variable TIMESTREAM_TABLE is not set',
    );
  });
});

describe('the exported handler, as Lambda calls it', () => {
  const context = { functionName: 'ingest', awsRequestId: 'req-1' } as Context;

  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('builds its dependencies from the environment on the first call and ingests the batch', async () => {
    // GIVEN the environment the construct sets, and a fresh module (no cached handler)
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    const { handler: exported } = await import('../../lambdas/ingest/handler.ts');
    const valid = inbound(reading());
    const invalid = inbound({ not: 'a reading' });
    // WHEN Lambda invokes it with a batch
    const response = await exported(sqsEvent([valid, invalid]), context);
    // THEN the valid reading went to Timestream, the invalid one to the quarantine bucket, and none is retried
    expect(response).toEqual({ batchItemFailures: [] });
    expect(writeInputs().map((input) => input.TableName)).toEqual(['telemetry']);
    expect(s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input.Bucket)).toEqual([
      env.QUARANTINE_BUCKET,
    ]);
    // AND every AWS call is one its role in the template allows, and the role allows nothing else
    const { policies } = deployedFunction(INGEST_DEPLOYMENT, 'UseCase-pump-maintenance/Ingest/Function');
    const requests = iamRequestsOf([timestream, s3]);
    expect(await deniedRequests(policies, requests)).toEqual([]);
    expect(unusedGrants(policies, requests)).toEqual([]);
  });

  it('fails the invocation with the name of a missing variable, not at import', async () => {
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    vi.stubEnv('QUARANTINE_BUCKET', undefined);
    const { handler: exported } = await import('../../lambdas/ingest/handler.ts');
    await expect(exported(sqsEvent([inbound(reading())]), context)).rejects.toThrow(
      'Environment variable QUARANTINE_BUCKET is not set',
    );
  });
});
