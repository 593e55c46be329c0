import { QueryCommand as DocumentQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { HealthSample } from '../../core/drift/checks.ts';
import { driftFindingsPartition, type Finding } from '../../core/drift/ports.ts';
import { healthSnapshotPartition, type EdgeHealthSnapshot } from '../../core/operators/ports.ts';
import { numberOrNull } from '../../core/stores/cell-values.ts';
import { queryAll } from './dynamodb-query-all.ts';

/** The device page lists at most this many findings. */
const MAX_FINDINGS = 100;

/**
 * What the alert table knows of devices, whichever store holds the readings: each device's last
 * edge health report (an IoT rule keeps the last one only, so spikes count since the agent started
 * and clock skew is not known) and the drift findings (lambdas/adapters/aws-drift-sink.ts).
 */
export class DynamoDbDeviceReports {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly stateTable: string,
  ) {}

  /** The last health reports of the use case's devices (or of one device), by device. */
  async healthSnapshots(useCase: string, deviceId?: string): Promise<Map<string, EdgeHealthSnapshot>> {
    const snapshots = new Map<string, EdgeHealthSnapshot>();
    const items = await queryAll(this.documents, this.stateTable, {
      KeyConditionExpression: deviceId === undefined ? 'pk = :pk' : 'pk = :pk AND sk = :sk',
      ExpressionAttributeValues: {
        ':pk': healthSnapshotPartition(useCase),
        ...(deviceId === undefined ? {} : { ':sk': deviceId }),
      },
    });
    for (const item of items) {
      const receivedAt = numberOrNull(item.receivedAt);
      if (typeof item.sk !== 'string' || receivedAt === null) continue;
      snapshots.set(item.sk, {
        receivedAt,
        connected: typeof item.connected === 'boolean' ? item.connected : null,
        queueDepth: numberOrNull(item.queueDepth),
        oldestAgeSeconds: numberOrNull(item.oldestAgeSeconds),
      });
    }
    return snapshots;
  }

  /** The device's last health report, as a drift sample when it falls in the range. */
  async healthReports(
    useCase: string,
    deviceId: string,
    range: { from: number; to: number },
  ): Promise<HealthSample[]> {
    const { Items = [] } = await this.documents.send(
      new DocumentQuery({
        TableName: this.stateTable,
        KeyConditionExpression: 'pk = :pk AND sk = :sk',
        ExpressionAttributeValues: { ':pk': healthSnapshotPartition(useCase), ':sk': deviceId },
      }),
    );
    return Items.flatMap((item) => {
      const receivedAt = numberOrNull(item.receivedAt);
      const readings = numberOrNull(item.readings);
      if (receivedAt === null || readings === null || receivedAt < range.from || receivedAt > range.to)
        return [];
      const spikes =
        typeof item.spikes === 'object' && item.spikes !== null
          ? Object.fromEntries(
              Object.entries(item.spikes as Record<string, unknown>).flatMap(([measure, count]) => {
                const value = numberOrNull(count);
                return value === null ? [] : [[measure, value] as const];
              }),
            )
          : {};
      return [{ receivedAt, deviceTime: null, readings, spikes }];
    });
  }

  /** A device's drift findings since `since`, newest first, at most 100. */
  async findings(useCase: string, deviceId: string, since: number): Promise<Finding[]> {
    // Each kept item's finding, parsed once: by the filter, for the answer.
    const parsed = new WeakMap<Record<string, unknown>, Finding>();
    const keep = (item: Record<string, unknown>) => {
      if (typeof item.finding !== 'string') return false;
      const finding = JSON.parse(item.finding) as Finding;
      if (finding.deviceId !== deviceId) return false;
      parsed.set(item, finding);
      return true;
    };
    const items = await queryAll(
      this.documents,
      this.stateTable,
      {
        KeyConditionExpression: 'pk = :pk AND sk >= :since',
        ExpressionAttributeValues: {
          ':pk': driftFindingsPartition(useCase),
          ':since': new Date(since).toISOString(),
        },
        ScanIndexForward: false,
      },
      MAX_FINDINGS,
      keep,
    );
    return items.flatMap((item) => parsed.get(item) ?? []);
  }
}
