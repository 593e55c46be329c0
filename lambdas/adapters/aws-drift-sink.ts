import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  DRIFT_EVENT_SOURCE,
  driftEventType,
  driftFindingsPartition,
  type DriftReport,
  type DriftSink,
} from '../../core/drift/ports.ts';

/** Findings and receipts are kept 90 days in the table (its expiresAt); the bus archive keeps the events. */
const RETENTION_SECONDS = 90 * 24 * 3600;
const MAX_ENTRIES = 10;
const MAX_WRITES = 25;
const MAX_ATTEMPTS = 5;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A drift run's results in the cloud: findings and hourly data-loss receipts in the alert table
 * (`DRIFT#<use case>` by time, `RECEIPTS#<use case>#<device>` by hour, replaced as the hour fills),
 * and one event per finding on the application's bus, where a rule sends it to the use case's topic.
 */
export class AwsDriftSink implements DriftSink {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly events: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async record(report: DriftReport): Promise<void> {
    const expiresAt = Math.floor(report.at / 1000) + RETENTION_SECONDS;
    const items = [
      ...report.findings.map((finding, index) => ({
        pk: driftFindingsPartition(report.useCase),
        sk: `${iso(report.at)}#${String(index).padStart(4, '0')}`,
        finding: JSON.stringify(finding),
        expiresAt,
      })),
      ...report.receipts.map((receipt) => ({
        pk: `RECEIPTS#${receipt.useCase}#${receipt.deviceId}`,
        sk: iso(receipt.hour),
        received: receipt.received,
        missing: receipt.missing,
        expiresAt,
      })),
    ];
    for (let offset = 0; offset < items.length; offset += MAX_WRITES) {
      await this.write(items.slice(offset, offset + MAX_WRITES));
    }
    for (let offset = 0; offset < report.findings.length; offset += MAX_ENTRIES) {
      const batch = report.findings.slice(offset, offset + MAX_ENTRIES);
      const result = await this.events.send(
        new PutEventsCommand({
          Entries: batch.map((finding) => ({
            EventBusName: this.busName,
            Source: DRIFT_EVENT_SOURCE,
            DetailType: driftEventType(finding),
            Time: new Date(finding.at),
            Resources: [],
            Detail: JSON.stringify({ useCase: finding.useCase, finding }),
          })),
        }),
      );
      if ((result.FailedEntryCount ?? 0) > 0) {
        throw new Error(`EventBridge refused ${result.FailedEntryCount ?? 0} drift events`);
      }
    }
  }

  /** One batch write, with what DynamoDB left unprocessed written again (throttling). */
  private async write(items: Record<string, unknown>[]): Promise<void> {
    let pending: Record<string, unknown>[] = items;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_ATTEMPTS)
        throw new Error(
          `DynamoDB left ${pending.length} drift items unwritten after ${MAX_ATTEMPTS} attempts`,
        );
      const result = await this.documents.send(
        new BatchWriteCommand({
          RequestItems: { [this.tableName]: pending.map((Item) => ({ PutRequest: { Item } })) },
        }),
      );
      pending = (result.UnprocessedItems?.[this.tableName] ?? []).flatMap((request) =>
        request.PutRequest?.Item ? [request.PutRequest.Item] : [],
      );
      if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    }
  }
}
