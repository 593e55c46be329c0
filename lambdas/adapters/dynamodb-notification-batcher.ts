import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DeleteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Alert } from '../../core/alerts/lifecycle.ts';
import type { GroupNotification, NotificationBatcher } from '../../core/alerts/ports.ts';
import { parseJson } from './dynamodb-alert-store.ts';

const ALERT_ATTRIBUTE = 'alert#';
/** The longest delay SQS gives a message. */
const MAX_DELAY_SECONDS = 900;

/** The message that asks the notify function to send a group's notification once its window ends. */
export interface GroupFlush {
  readonly useCase: string;
  readonly group: string;
}

/**
 * Groups notified alerts across Lambda invocations: each alert joins its group's item in the alert
 * table (one attribute per alert, and the window's first time) and sends a message delayed by the
 * group window to the notify function, which takes the whole item once the window has ended and
 * sends one notification (lambdas/notify/handler.ts). Every alert sends its own message, so a
 * lost one only delays the notification to the next; adding an alert twice changes nothing.
 */
export class DynamoDbNotificationBatcher implements NotificationBatcher {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly windowSeconds: (useCase: string) => number,
  ) {}

  async add(alert: Alert, at: number): Promise<void> {
    // Each alert is an attribute of its own, so adding one twice overwrites it with itself.
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `USECASE#${alert.useCase}`, sk: `GROUP#${alert.group}` },
        UpdateExpression: 'SET firstAt = if_not_exists(firstAt, :now), #alert = :alert',
        ExpressionAttributeNames: { '#alert': `${ALERT_ATTRIBUTE}${alert.id}` },
        ExpressionAttributeValues: { ':now': at, ':alert': JSON.stringify(alert) },
      }),
    );
    const flush: GroupFlush = { useCase: alert.useCase, group: alert.group };
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(flush),
        DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(this.windowSeconds(alert.useCase)))),
      }),
    );
  }

  /** Nothing is held in this process: the notify function sends groups when their window ends. */
  due(): Promise<GroupNotification[]> {
    return Promise.resolve([]);
  }

  /** Puts a taken group back after its notification failed, so the retry finds it. */
  async restore(notification: GroupNotification, firstAt: number): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':first': firstAt };
    const sets = notification.alerts.map((alert, i) => {
      names[`#a${i}`] = `${ALERT_ATTRIBUTE}${alert.id}`;
      values[`:a${i}`] = JSON.stringify(alert);
      return `#a${i} = :a${i}`;
    });
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `USECASE#${notification.useCase}`, sk: `GROUP#${notification.group}` },
        UpdateExpression: `SET firstAt = :first, ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  /**
   * Takes a group's item if its window has ended by `now` and returns its notification; undefined
   * when the window is still open (a later message will take it) or another message took it.
   */
  async take(flush: GroupFlush, now: number): Promise<GroupNotification | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: `USECASE#${flush.useCase}`, sk: `GROUP#${flush.group}` },
          ConditionExpression: 'attribute_exists(pk) AND firstAt <= :ended',
          ExpressionAttributeValues: { ':ended': now - this.windowSeconds(flush.useCase) * 1000 },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const alerts = Object.entries(Attributes ?? {})
        .filter(([name]) => name.startsWith(ALERT_ATTRIBUTE))
        .map(([, value]) => parseJson(value) as Alert)
        .sort((a, b) => a.openedAt - b.openedAt);
      return alerts.length > 0 ? { useCase: flush.useCase, group: flush.group, alerts, at: now } : undefined;
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return undefined;
      throw error;
    }
  }
}
