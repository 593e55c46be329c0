import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import type { AlertNotifier } from '../../core/alerts/ports.ts';
import { systemClock, type Clock } from '../../core/ingest/ports.ts';
import { SnsAlertTopics } from '../adapters/aws-alert-notifier.ts';
import { DynamoDbNotificationBatcher } from '../adapters/dynamodb-notification-batcher.ts';
import { requireEnv } from '../shared/env.ts';
import { logger } from '../shared/powertools.ts';

const flushSchema = z.strictObject({ useCase: z.string().min(1), group: z.string().min(1) });

export interface NotifyDependencies {
  readonly batcher: Pick<DynamoDbNotificationBatcher, 'take' | 'restore'>;
  readonly notifier: Pick<AlertNotifier, 'notify'>;
  readonly clock: Clock;
}

/** Wires the ports from the environment the Alerting construct sets. */
export function notifyDependenciesFromEnv(env: NodeJS.ProcessEnv = process.env): NotifyDependencies {
  const topics = z.record(z.string(), z.string()).parse(JSON.parse(requireEnv('ALERT_TOPICS', env)));
  const windows = z.record(z.string(), z.number()).parse(JSON.parse(requireEnv('GROUP_WINDOW_SECONDS', env)));
  return {
    batcher: new DynamoDbNotificationBatcher(
      DynamoDBDocumentClient.from(new DynamoDBClient({})),
      requireEnv('ALERT_TABLE', env),
      new SQSClient({}),
      requireEnv('NOTIFY_QUEUE_URL', env),
      (useCase) => windows[useCase] ?? 0,
    ),
    notifier: new SnsAlertTopics(new SNSClient({}), new Map(Object.entries(topics))),
    clock: systemClock,
  };
}

/**
 * Sends a group's notification once its window has ended: each message names a group; the first
 * one to arrive after the window takes the group's alerts and notifies, the others find nothing.
 * A malformed message is logged and dropped (it carries no alert); a failed send is retried.
 */
export function createNotifyHandler(deps: NotifyDependencies) {
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    if (context) logger.addContext(context);
    const failures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      let flush;
      try {
        flush = flushSchema.parse(JSON.parse(record.body));
      } catch (error) {
        logger.error('not a group flush message', { messageId: record.messageId, error: error as Error });
        continue;
      }
      try {
        const notification = await deps.batcher.take(flush, deps.clock.now());
        if (!notification) continue;
        try {
          await deps.notifier.notify(notification);
        } catch (error) {
          // Put the group back for the retry: taken and not sent would lose it.
          await deps.batcher.restore(notification, Math.min(...notification.alerts.map((a) => a.openedAt)));
          throw error;
        }
        logger.info('notified', { ...flush, alerts: notification.alerts.length });
      } catch (error) {
        logger.error('notification failed; will retry', { ...flush, error: error as Error });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };
}

let handlerInstance: ReturnType<typeof createNotifyHandler> | undefined;

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  handlerInstance ??= createNotifyHandler(notifyDependenciesFromEnv());
  return handlerInstance(event, context);
};
