import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  AUDIT_DETAIL_TYPE,
  AUDIT_EVENT_SOURCE,
  type AuditEvent,
  type AuditTrail,
} from '../../core/audit/audit-event.ts';

/**
 * The cloud's audit trail of what people change through the application: one `Audit Event` per
 * change on the application's bus, which archives every one (lib/constructs/alerting.ts). What
 * they change through AWS APIs directly is CloudTrail's to record.
 */
export class EventBridgeAuditTrail implements AuditTrail {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async record(event: AuditEvent): Promise<void> {
    const result = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.busName,
            Source: AUDIT_EVENT_SOURCE,
            DetailType: AUDIT_DETAIL_TYPE,
            Time: new Date(event.at),
            Resources: [],
            Detail: JSON.stringify(event),
          },
        ],
      }),
    );
    if ((result.FailedEntryCount ?? 0) > 0) {
      const [entry] = result.Entries ?? [];
      throw new Error(
        `EventBridge refused the audit event (${entry?.ErrorCode ?? 'unknown'}: ${entry?.ErrorMessage ?? ''}); the change was made but is not recorded`,
      );
    }
  }
}
