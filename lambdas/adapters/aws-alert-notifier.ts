import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { AlertEventNotice, AlertNotifier, GroupNotification } from '../../core/alerts/ports.ts';

/** EventBridge's limit of entries per PutEvents call. */
const MAX_ENTRIES = 10;
export const ALERT_EVENT_SOURCE = 'aiot.alerts';

/**
 * Alert events on the application's EventBridge bus (detail types `Alert Opened`, `Alert
 * Acknowledged`, `Alert Resolved`, `Feedback Given`), and grouped notifications to people on the
 * use case's SNS topic. A failed entry is an error: the caller's outbox applies it again.
 */
export class AwsAlertNotifier implements AlertNotifier {
  constructor(
    private readonly events: EventBridgeClient,
    private readonly busName: string,
    /** Where notifications to people go: the use cases' SNS topics. */
    private readonly topics: Pick<AlertNotifier, 'notify'>,
  ) {}

  async publish(notices: readonly AlertEventNotice[]): Promise<void> {
    for (let offset = 0; offset < notices.length; offset += MAX_ENTRIES) {
      const batch = notices.slice(offset, offset + MAX_ENTRIES);
      const result = await this.events.send(
        new PutEventsCommand({
          Entries: batch.map((notice) => ({
            EventBusName: this.busName,
            Source: ALERT_EVENT_SOURCE,
            DetailType: notice.type,
            Time: new Date(notice.at),
            Resources: [],
            Detail: JSON.stringify({ alert: notice.alert }),
          })),
        }),
      );
      if ((result.FailedEntryCount ?? 0) > 0) {
        const failed = (result.Entries ?? []).filter((entry) => entry.ErrorCode);
        throw new Error(
          `EventBridge refused ${result.FailedEntryCount ?? 0} alert events: ${failed.map((e) => `${e.ErrorCode ?? ''} ${e.ErrorMessage ?? ''}`).join('; ')}`,
        );
      }
    }
  }

  notify(notification: GroupNotification): Promise<void> {
    return this.topics.notify(notification);
  }
}

/**
 * For the functions that group alerts into the alert table (ingest) or open none (console): the
 * notify function sends each group when its window ends, so nothing here may send one.
 */
export const NOTIFIED_BY_NOTIFY_FUNCTION: Pick<AlertNotifier, 'notify'> = {
  notify: (notification) =>
    Promise.reject(
      new Error(
        `the notify function sends ${notification.useCase}/${notification.group}'s notification, not this one`,
      ),
    ),
};

/** Grouped notifications to people, on each use case's SNS topic. */
export class SnsAlertTopics implements Pick<AlertNotifier, 'notify'> {
  constructor(
    private readonly sns: SNSClient,
    /** Topic per use case. */
    private readonly topics: ReadonlyMap<string, string>,
  ) {}

  async notify(notification: GroupNotification): Promise<void> {
    const topic = this.topics.get(notification.useCase);
    if (!topic) throw new Error(`no alert topic for use case "${notification.useCase}"`);
    const worst = notification.alerts.some((a) => a.severity === 'critical')
      ? 'critical'
      : notification.alerts.some((a) => a.severity === 'major')
        ? 'major'
        : 'warning';
    const lines = notification.alerts.map(
      (a) =>
        `- ${a.deviceId}: ${a.severity}, score ${a.peakScore.toFixed(1)} over ${a.threshold.toFixed(1)}, ` +
        `top sensors ${a.contributors.map((c) => c.sensor).join(', ') || '-'} (alert ${a.id})`,
    );
    await this.sns.send(
      new PublishCommand({
        TopicArn: topic,
        // SNS subjects: ASCII, at most 100 characters.
        Subject: `[${worst}] ${notification.alerts.length} alert(s) in ${notification.group}`.slice(0, 100),
        Message: [`${notification.useCase} / ${notification.group}`, ...lines].join('\n'),
        MessageAttributes: {
          severity: { DataType: 'String', StringValue: worst },
          group: { DataType: 'String', StringValue: notification.group },
        },
      }),
    );
  }
}
