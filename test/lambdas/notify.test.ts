import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { newAlert, type Alert } from '../../core/alerts/lifecycle.ts';
import type { GroupNotification } from '../../core/alerts/ports.ts';
import { SYSTEM } from '../../core/operators/actor.ts';
import { DynamoDbNotificationBatcher } from '../../lambdas/adapters/dynamodb-notification-batcher.ts';
import { createNotifyHandler } from '../../lambdas/notify/handler.ts';

const documents = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const batcher = new DynamoDbNotificationBatcher(
  DynamoDBDocumentClient.from(new DynamoDBClient({})),
  'alert-state',
  new SQSClient({}),
  'https://sqs.eu-west-1.amazonaws.com/111111111111/notify',
  () => 120,
);

function alert(device: string, openedAt: number): Alert {
  return newAlert(
    {
      alertId: `uc:${device}:a:${openedAt}`,
      openedAt,
      firstAnomalyAt: openedAt,
      lastAnomalyAt: openedAt,
      peakScore: 20,
      peakRatio: 2,
      threshold: 10,
      contributors: [],
      severity: 'major',
      baselineVersion: 1,
      modelVersion: 'm1',
    },
    { useCase: 'uc', deviceId: device, inference: 'a', group: 'line-1' },
    'notify',
    SYSTEM,
  );
}

beforeEach(() => {
  documents.reset();
  sqs.reset();
});

afterAll(() => {
  documents.restore();
  sqs.restore();
});

describe('grouping notifications across invocations', () => {
  it('GIVEN an alert WHEN batched THEN it joins its group item and asks for a flush once the window has passed', async () => {
    documents.on(UpdateCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({});
    await batcher.add(alert('p1', 1000), 5000);
    expect(documents.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: 'USECASE#uc', sk: 'GROUP#line-1' },
      UpdateExpression: 'SET firstAt = if_not_exists(firstAt, :now), #alert = :alert',
      ExpressionAttributeNames: { '#alert': 'alert#uc:p1:a:1000' },
      ExpressionAttributeValues: { ':now': 5000 },
    });
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toMatchObject({
      MessageBody: '{"useCase":"uc","group":"line-1"}',
      DelaySeconds: 120,
    });
  });

  it('GIVEN a group whose window has ended WHEN taken THEN every held alert comes out in one notification, oldest first', async () => {
    documents.on(DeleteCommand).resolves({
      Attributes: {
        pk: 'USECASE#uc',
        sk: 'GROUP#line-1',
        firstAt: 1000,
        'alert#b': JSON.stringify(alert('p2', 2000)),
        'alert#a': JSON.stringify(alert('p1', 1000)),
      },
    });
    const notification = await batcher.take({ useCase: 'uc', group: 'line-1' }, 200_000);
    expect(notification?.alerts.map((a) => a.deviceId)).toEqual(['p1', 'p2']);
    expect(documents.commandCalls(DeleteCommand)[0]?.args[0].input).toMatchObject({
      ConditionExpression: 'attribute_exists(pk) AND firstAt <= :ended',
      ExpressionAttributeValues: { ':ended': 80_000 },
    });
    documents
      .on(DeleteCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    await expect(batcher.take({ useCase: 'uc', group: 'line-1' }, 200_000)).resolves.toBeUndefined();
  });

  it('GIVEN SNS fails WHEN notifying THEN the group is put back and the message retried; a malformed message is dropped', async () => {
    const taken: GroupNotification = { useCase: 'uc', group: 'line-1', alerts: [alert('p1', 1000)], at: 0 };
    const restored: GroupNotification[] = [];
    const handler = createNotifyHandler({
      batcher: {
        take: () => Promise.resolve(taken),
        restore: (notification) => {
          restored.push(notification);
          return Promise.resolve();
        },
      },
      notifier: { notify: () => Promise.reject(new Error('SNS throttled')) },
      clock: { now: () => 0 },
    });
    const result = await handler({
      Records: [
        { messageId: 'm1', body: '{"useCase":"uc","group":"line-1"}' },
        { messageId: 'm2', body: 'not json' },
      ] as SQSRecord[],
    });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(restored).toEqual([taken]);
  });
});
