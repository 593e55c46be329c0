import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { Alert } from '../../core/alerts/lifecycle.ts';
import type {
  AlertFilter,
  AlertStore,
  FeedbackRecord,
  ShiftCaps,
  Silence,
  StoredTrack,
  Suppression,
} from '../../core/alerts/ports.ts';
import type { BaselineState, BaselineStore } from '../../core/baseline/ports.ts';
import { DeviceItems } from './dynamodb-device-items.ts';
import { queryAll, type QueryInput } from './dynamodb-query-all.ts';

/** Suppressions are a log for replays and digests: kept 90 days. */
const SUPPRESSION_TTL_SECONDS = 90 * 24 * 3600;
const MAX_LIST = 1000;

const device = (useCase: string, deviceId: string) => `DEVICE#${useCase}#${deviceId}`;
const useCaseKey = (useCase: string) => `USECASE#${useCase}`;
const iso = (ms: number) => new Date(ms).toISOString();

/** A JSON attribute written by this class; anything else means the table is not ours. */
export function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') throw new Error(`expected a JSON string attribute, got ${typeof value}`);
  return JSON.parse(value) as unknown;
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException;
}

/** The item an alert is kept as: its JSON, with the keys and fields that listings query and filter on. */
export function alertRecord(alert: Alert) {
  return {
    pk: `ALERT#${alert.id}`,
    sk: 'ALERT',
    useCaseKey: useCaseKey(alert.useCase),
    sortKey: `ALERT#${iso(alert.openedAt)}#${alert.id}`,
    deviceId: alert.deviceId,
    status: alert.status,
    delivery: alert.delivery,
    historyLength: alert.history.length,
    alert: JSON.stringify(alert),
  };
}

/**
 * Device baselines and alerts in one DynamoDB table (point-in-time recovery, KMS), shared by every
 * Lambda instance that scores a device's batches. Each state item carries a revision and every
 * write is conditional on it, so concurrent instances never lose an update: the loser reads again
 * and redoes its work (core/baseline/device-scoring.ts, core/alerts/alert-service.ts).
 *
 * Keys: `DEVICE#<use case>#<device>` holds `BASELINE` and `TRACK#<inference>`; `ALERT#<id>` holds
 * the alert, listed per use case by time through the `byUseCase` index; `USECASE#<use case>`
 * holds silences, feedback, suppressions and the shift counters of the caps.
 */
export class DynamoDbAlertStore implements AlertStore, BaselineStore {
  private readonly devices: DeviceItems | undefined;

  /**
   * @param options.tracksWithBaseline read a device's tracks with its baseline, in one query
   *   (dynamodb-device-items.ts): what scoring does, which asks for the track right after.
   *   @default false - each item read on its own
   * @param options.now the clock of that hold, ms. @default performance.now
   */
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: { readonly tracksWithBaseline?: boolean; readonly now?: () => number } = {},
  ) {
    this.devices = options.tracksWithBaseline ? new DeviceItems(client, tableName, options.now) : undefined;
  }

  private async item<T>(pk: string, sk: string, attribute: string): Promise<T | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }),
    );
    const value: unknown = Item?.[attribute];
    return typeof value === 'string' ? (JSON.parse(value) as T) : undefined;
  }

  /** Puts a state item only if its stored revision is one below the new one (or it is new). */
  private async putRevision(
    pk: string,
    sk: string,
    revision: number,
    attribute: string,
    value: unknown,
    extra = {},
  ) {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk, sk, revision, [attribute]: JSON.stringify(value), ...extra },
          ConditionExpression:
            revision === 1 ? 'attribute_not_exists(pk)' : 'attribute_exists(pk) AND revision = :previous',
          ...(revision === 1 ? {} : { ExpressionAttributeValues: { ':previous': revision - 1 } }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async get(useCase: string, deviceId: string): Promise<BaselineState | undefined> {
    const pk = device(useCase, deviceId);
    if (!this.devices) return this.item<BaselineState>(pk, 'BASELINE', 'state');
    const value = (await this.devices.read(pk, 'BASELINE')).get('BASELINE')?.state;
    return value === undefined ? undefined : (parseJson(value) as BaselineState);
  }

  save(state: BaselineState): Promise<boolean> {
    return this.putRevision(
      device(state.useCase, state.deviceId),
      'BASELINE',
      state.revision,
      'state',
      state,
      {
        useCaseKey: useCaseKey(state.useCase),
        sortKey: `BASELINE#${state.deviceId}`,
        deviceId: state.deviceId,
        activeVersion: state.active?.version ?? null,
        calibrating: state.calibration !== undefined,
      },
    );
  }

  async list(useCase?: string): Promise<BaselineState[]> {
    if (!useCase) throw new Error('listing baselines needs a use case');
    const items = await this.queryAll({
      IndexName: 'byUseCase',
      KeyConditionExpression: 'useCaseKey = :key AND begins_with(sortKey, :prefix)',
      ExpressionAttributeValues: { ':key': useCaseKey(useCase), ':prefix': 'BASELINE#' },
    });
    return items.map((item) => parseJson(item.state) as BaselineState);
  }

  getTrack(useCase: string, deviceId: string, inference: string): Promise<StoredTrack | undefined> {
    const pk = device(useCase, deviceId);
    const held = this.devices?.take(pk, `TRACK#${inference}`);
    if (!held) return this.item<StoredTrack>(pk, `TRACK#${inference}`, 'track');
    const value = held.item?.track;
    return Promise.resolve(value === undefined ? undefined : (parseJson(value) as StoredTrack));
  }

  saveTrack(track: StoredTrack): Promise<boolean> {
    return this.putRevision(
      device(track.useCase, track.deviceId),
      `TRACK#${track.inference}`,
      track.revision,
      'track',
      track,
    );
  }

  /**
   * One transaction: the alert (if new) and, for a notified one, the device's and the use case's
   * counters of this shift, each conditional on its cap. A cancelled counter means the cap is
   * reached: the alert is kept for the digest instead.
   */
  async openAlert(alert: Alert, caps: ShiftCaps): Promise<'notify' | 'digest'> {
    const shift = iso(caps.shiftStart);
    const counter = (sk: string, cap: number) => ({
      Update: {
        TableName: this.tableName,
        Key: { pk: useCaseKey(alert.useCase), sk },
        UpdateExpression: 'ADD notified :one SET expiresAt = :expires',
        ConditionExpression: 'attribute_not_exists(notified) OR notified < :cap',
        ExpressionAttributeValues: {
          ':one': 1,
          ':cap': cap,
          ':expires': Math.floor(caps.shiftStart / 1000) + 7 * 24 * 3600,
        },
      },
    });
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: alertRecord({ ...alert, delivery: 'notify' }),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            counter(`CAP#${shift}#DEVICE#${alert.deviceId}`, caps.perDevice),
            counter(`CAP#${shift}`, caps.perUseCase),
          ],
        }),
      );
      return 'notify';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [alertReason] = error.CancellationReasons ?? [];
      if (alertReason?.Code === 'ConditionalCheckFailed') {
        // A redelivery: the alert is there, with the delivery decided the first time.
        const existing = await this.getAlert(alert.id);
        return existing?.delivery ?? 'notify';
      }
      const capped = (error.CancellationReasons ?? []).some(
        (reason) => reason.Code === 'ConditionalCheckFailed',
      );
      if (!capped) throw error;
    }
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: alertRecord({ ...alert, delivery: 'digest' }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 'digest';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return (await this.getAlert(alert.id))?.delivery ?? 'digest';
    }
  }

  getAlert(id: string): Promise<Alert | undefined> {
    return this.item<Alert>(`ALERT#${id}`, 'ALERT', 'alert');
  }

  async replaceAlert(alert: Alert, expectedHistory: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: alertRecord(alert),
          ConditionExpression: 'attribute_exists(pk) AND historyLength = :expected',
          ExpressionAttributeValues: { ':expected': expectedHistory },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async listAlerts(filter: AlertFilter): Promise<Alert[]> {
    if (!filter.useCase) throw new Error('listing alerts needs a use case');
    const items = await this.queryAll(
      {
        IndexName: 'byUseCase',
        KeyConditionExpression: 'useCaseKey = :key AND sortKey BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':key': useCaseKey(filter.useCase),
          ':from': `ALERT#${filter.since === undefined ? '' : iso(filter.since)}`,
          ':to': 'ALERT#~',
        },
        ScanIndexForward: false,
      },
      Math.min(filter.limit ?? MAX_LIST, MAX_LIST),
      (item) =>
        (!filter.deviceId || item.deviceId === filter.deviceId) &&
        (!filter.delivery || item.delivery === filter.delivery) &&
        (!filter.statuses || filter.statuses.includes(item.status as Alert['status'])),
    );
    return items.map((item) => parseJson(item.alert) as Alert);
  }

  private queryAll(
    input: QueryInput,
    limit?: number,
    keep?: (item: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>[]> {
    return queryAll(this.client, this.tableName, input, limit, keep);
  }

  async addSilence(silence: Silence): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: useCaseKey(silence.useCase),
          sk: `SILENCE#${silence.id}`,
          endsAt: silence.to,
          expiresAt: Math.floor(silence.to / 1000) + SUPPRESSION_TTL_SECONDS,
          silence: JSON.stringify(silence),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async silences(useCase: string, at?: number): Promise<Silence[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': useCaseKey(useCase), ':prefix': 'SILENCE#' },
    });
    return items
      .map((item) => parseJson(item.silence) as Silence)
      .filter((s) => at === undefined || (s.from <= at && at < s.to));
  }

  async recordSuppression(s: Suppression): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: useCaseKey(s.useCase),
          sk: `SUPPRESSION#${iso(s.at)}#${s.deviceId}#${s.rule}`,
          expiresAt: Math.floor(s.at / 1000) + SUPPRESSION_TTL_SECONDS,
          suppression: JSON.stringify(s),
        },
      }),
    );
  }

  async recordFeedback(f: FeedbackRecord): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: useCaseKey(f.useCase),
          sk: `FEEDBACK#${iso(f.at)}#${f.alertId}`,
          feedback: JSON.stringify(f),
        },
      }),
    );
  }

  async feedback(useCase: string, since = 0): Promise<FeedbackRecord[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': useCaseKey(useCase),
        ':from': `FEEDBACK#${iso(since)}`,
        ':to': 'FEEDBACK#~',
      },
    });
    return items.map((item) => parseJson(item.feedback) as FeedbackRecord);
  }
}
