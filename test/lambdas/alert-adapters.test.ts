import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { QueryCommand as TimestreamQuery, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../core/alerts/lifecycle.ts';
import { openAlert } from '../support/alerts.ts';
import { repoContracts } from '../support/contracts.ts';
import { AwsAlertNotifier, SnsAlertTopics } from '../../lambdas/adapters/aws-alert-notifier.ts';
import { DynamoDbAlertStore } from '../../lambdas/adapters/dynamodb-alert-store.ts';
import { TimestreamTelemetryReader } from '../../lambdas/adapters/timestream-telemetry-reader.ts';

const documents = mockClient(DynamoDBDocumentClient);
const events = mockClient(EventBridgeClient);
const sns = mockClient(SNSClient);
const timestream = mockClient(TimestreamQueryClient);
const store = new DynamoDbAlertStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), 'alert-state');

const alert: Alert = openAlert(
  { useCase: 'uc', deviceId: 'p1', inference: 'anomaly', group: 'line-1' },
  Date.UTC(2026, 0, 1),
);
const caps = { shiftStart: Date.UTC(2026, 0, 1), perDevice: 3, perUseCase: 30 };
const cancelled = (codes: string[]) =>
  new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

beforeEach(() => {
  documents.reset();
  events.reset();
  sns.reset();
  timestream.reset();
});

afterAll(() => {
  documents.restore();
  events.restore();
  sns.restore();
  timestream.restore();
});

describe('DynamoDbAlertStore', () => {
  it('GIVEN a new device state WHEN saved THEN the put is conditional on the item being absent, and a later one on the previous revision', async () => {
    documents.on(PutCommand).resolves({});
    await store.save({ useCase: 'uc', deviceId: 'p1', revision: 1 });
    await store.save({ useCase: 'uc', deviceId: 'p1', revision: 2 });
    const [first, second] = documents.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(first).toMatchObject({
      TableName: 'alert-state',
      Item: {
        pk: 'DEVICE#uc#p1',
        sk: 'BASELINE',
        revision: 1,
        useCaseKey: 'USECASE#uc',
        sortKey: 'BASELINE#p1',
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(second).toMatchObject({
      ConditionExpression: 'attribute_exists(pk) AND revision = :previous',
      ExpressionAttributeValues: { ':previous': 1 },
    });
  });

  it('GIVEN another instance saved first WHEN the condition fails THEN save answers false instead of throwing', async () => {
    documents.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    await expect(
      store.saveTrack({ useCase: 'uc', deviceId: 'p1', inference: 'a', revision: 3, recent: [], outbox: [] }),
    ).resolves.toBe(false);
    documents.on(PutCommand).rejects(new Error('throttled'));
    await expect(store.save({ useCase: 'uc', deviceId: 'p1', revision: 1 })).rejects.toThrow('throttled');
  });

  it('GIVEN caps not reached WHEN an alert opens THEN one transaction puts it and counts it for the device and the use case', async () => {
    documents.on(TransactWriteCommand).resolves({});
    await expect(store.openAlert(alert, caps)).resolves.toBe('notify');
    const items = documents.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items.map((i): unknown => i.Put?.Item?.pk ?? i.Update?.Key?.sk)).toEqual([
      `ALERT#${alert.id}`,
      'CAP#2026-01-01T00:00:00.000Z#DEVICE#p1',
      'CAP#2026-01-01T00:00:00.000Z',
    ]);
    expect(items[1]?.Update?.ExpressionAttributeValues).toMatchObject({ ':cap': 3 });
    expect(items[2]?.Update?.ExpressionAttributeValues).toMatchObject({ ':cap': 30 });
  });

  it('GIVEN a cap reached WHEN an alert opens THEN it is kept for the digest', async () => {
    documents.on(TransactWriteCommand).rejects(cancelled(['None', 'ConditionalCheckFailed', 'None']));
    documents.on(PutCommand).resolves({});
    await expect(store.openAlert(alert, caps)).resolves.toBe('digest');
    expect(documents.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({ delivery: 'digest' });
  });

  it('GIVEN a redelivered batch WHEN the same alert opens again THEN it answers the first decision and writes nothing', async () => {
    documents.on(TransactWriteCommand).rejects(cancelled(['ConditionalCheckFailed', 'None', 'None']));
    documents.on(GetCommand).resolves({ Item: { alert: JSON.stringify({ ...alert, delivery: 'digest' }) } });
    await expect(store.openAlert(alert, caps)).resolves.toBe('digest');
    expect(documents.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('replaces an alert only while its history is as the caller read it', async () => {
    documents.on(PutCommand).resolves({});
    await expect(store.replaceAlert(alert, 1)).resolves.toBe(true);
    expect(documents.commandCalls(PutCommand)[0]?.args[0].input).toMatchObject({
      ConditionExpression: 'attribute_exists(pk) AND historyLength = :expected',
      ExpressionAttributeValues: { ':expected': 1 },
    });
    documents.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    await expect(store.replaceAlert(alert, 1)).resolves.toBe(false);
  });
});

describe('AwsAlertNotifier', () => {
  const notifier = new AwsAlertNotifier(
    new EventBridgeClient({}),
    'app-bus',
    new SnsAlertTopics(new SNSClient({}), new Map([['uc', 'arn:aws:sns:eu-west-1:111111111111:alerts-uc']])),
  );

  it('puts alert events on the bus in batches of 10, with the detail type people route on', async () => {
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    await notifier.publish(
      Array.from({ length: 12 }, () => ({ type: 'Alert Opened' as const, alert, at: alert.openedAt })),
    );
    const calls = events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries ?? []);
    expect(calls.map((entries) => entries.length)).toEqual([10, 2]);
    expect(calls[0]?.[0]).toMatchObject({
      EventBusName: 'app-bus',
      Source: 'aiot.alerts',
      DetailType: 'Alert Opened',
    });
  });

  it('fails when EventBridge refuses an entry, so the outbox applies it again', async () => {
    events.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }],
    });
    await expect(notifier.publish([{ type: 'Alert Opened', alert, at: 0 }])).rejects.toThrow(
      'EventBridge refused 1 alert events: ThrottlingException slow down',
    );
  });

  it('sends one grouped notification to the use case topic, worst severity first', async () => {
    sns.on(PublishCommand).resolves({});
    await notifier.notify({
      useCase: 'uc',
      group: 'line-1',
      alerts: [alert, { ...alert, deviceId: 'p2', severity: 'warning' }],
      at: 0,
    });
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input).toMatchObject({
      TopicArn: 'arn:aws:sns:eu-west-1:111111111111:alerts-uc',
      Subject: '[major] 2 alert(s) in line-1',
    });
    await expect(notifier.notify({ useCase: 'other', group: 'g', alerts: [alert], at: 0 })).rejects.toThrow(
      'no alert topic for use case "other"',
    );
  });
});

describe('TimestreamTelemetryReader', () => {
  it('reads a device’s readings in time order with quoted values, and maps them back to records', async () => {
    timestream.on(TimestreamQuery).resolves({
      ColumnInfo: [
        'use_case',
        'device_id',
        'firmware',
        'hardware_generation',
        'contract',
        'time_ms',
        'seq',
        'origin',
        'flow_rate',
      ].map((Name) => ({ Name, Type: {} })),
      Rows: [
        {
          Data: ['uc', "p'1", '1.0', 'gen2', 'pump.telemetry@1', '1000', '7', 'device', '31.5'].map(
            (ScalarValue) => ({ ScalarValue }),
          ),
        },
      ],
    });
    const reader = new TimestreamTelemetryReader(
      new TimestreamQueryClient({}),
      { databaseName: 'aiot', tableName: 'telemetry' },
      repoContracts.get('pump.telemetry@1'),
    );
    const records = await reader.readings('uc', "p'1", { from: 0, to: 5000 }, 400);
    const sql = timestream.commandCalls(TimestreamQuery)[0]?.args[0].input.QueryString ?? '';
    expect(sql).toContain("device_id = 'p''1'");
    expect(sql).toContain('ORDER BY time ASC LIMIT 400');
    expect(records).toEqual([
      {
        dimensions: {
          use_case: 'uc',
          device_id: "p'1",
          firmware: '1.0',
          hardware_generation: 'gen2',
          contract: 'pump.telemetry@1',
        },
        time: 1000,
        seq: 7,
        origin: 'device',
        measures: { flow_rate: 31.5 },
      },
    ]);
  });
});
