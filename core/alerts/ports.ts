import type { Actor } from '../operators/actor.ts';
import type { AlertTrack, EngineEvent, SuppressionRule } from './engine.ts';
import type { Alert, AlertStatus, Delivery } from './lifecycle.ts';

/** A track with the events its last evaluation produced and that are not applied yet (an outbox). */
export interface StoredTrack extends AlertTrack {
  readonly outbox: readonly EngineEvent[];
}

export type SilenceScope =
  | { readonly kind: 'device'; readonly deviceId: string }
  | { readonly kind: 'group'; readonly group: string }
  | { readonly kind: 'use-case' };

/**
 * A period in which a device, group or use case interrupts nobody. A maintenance window also
 * re-baselines the devices it covers when it ends: their normal may have changed.
 */
export interface Silence {
  readonly id: string;
  readonly useCase: string;
  readonly scope: SilenceScope;
  readonly kind: 'silence' | 'maintenance';
  readonly from: number;
  readonly to: number;
  readonly reason: string;
  readonly createdBy: Actor;
  readonly createdAt: number;
}

export interface Suppression {
  readonly useCase: string;
  readonly deviceId: string;
  readonly inference: string;
  readonly rule: SuppressionRule | 'cap';
  readonly ref: string;
  readonly at: number;
  readonly score: number;
}

/**
 * What an operator's verdict teaches: `normal` windows join the next model's normal data,
 * `anomaly` windows are labelled examples, `sensor-fault` goes to sensor health.
 */
export interface FeedbackRecord {
  readonly alertId: string;
  readonly useCase: string;
  readonly deviceId: string;
  readonly inference: string;
  readonly label: 'normal' | 'anomaly' | 'sensor-fault' | 'maintenance' | 'other';
  /** The false-positive reason code or the failure mode. */
  readonly detail: string;
  readonly workOrder: string | null;
  /** The readings the verdict is about. */
  readonly from: number;
  readonly to: number;
  /** The sensor that contributed most, for `sensor-fault`. */
  readonly sensor: string | null;
  readonly note: string;
  readonly actor: Actor;
  readonly at: number;
}

export interface AlertFilter {
  readonly useCase?: string;
  readonly deviceId?: string;
  readonly statuses?: readonly AlertStatus[];
  /** `digest`: the alerts over the shift's caps, which interrupted nobody. */
  readonly delivery?: Delivery;
  /** Alerts opened at or after this time. */
  readonly since?: number;
  readonly limit?: number;
}

export interface ShiftCaps {
  readonly shiftStart: number;
  readonly perDevice: number;
  readonly perUseCase: number;
}

/** Alerts and their state: DynamoDB in the cloud, DuckDB tables on one machine. */
export interface AlertStore {
  getTrack(useCase: string, deviceId: string, inference: string): Promise<StoredTrack | undefined>;
  /** Saves only if the stored revision is `track.revision - 1` (or absent for revision 1). */
  saveTrack(track: StoredTrack): Promise<boolean>;
  /**
   * Keeps a new alert once (a second call with the same id answers what the first decided) and
   * decides its delivery atomically against the shift's caps: `notify`, or `digest` once the
   * device or the use case has had its share of notified alerts this shift.
   */
  openAlert(alert: Alert, caps: ShiftCaps): Promise<'notify' | 'digest'>;
  getAlert(id: string): Promise<Alert | undefined>;
  /** Replaces an alert only if its stored history still has `expectedHistory` entries. */
  replaceAlert(alert: Alert, expectedHistory: number): Promise<boolean>;
  listAlerts(filter: AlertFilter): Promise<Alert[]>;
  addSilence(silence: Silence): Promise<void>;
  /** Silences of the use case in force at `at` (or all not yet ended when `at` is omitted). */
  silences(useCase: string, at?: number): Promise<Silence[]>;
  recordSuppression(suppression: Suppression): Promise<void>;
  recordFeedback(feedback: FeedbackRecord): Promise<void>;
  feedback(useCase: string, since?: number): Promise<FeedbackRecord[]>;
}

export type AlertEventType = 'Alert Opened' | 'Alert Acknowledged' | 'Alert Resolved' | 'Feedback Given';

/** One alert's change, for machines (an EventBridge bus, the console's live feed). */
export interface AlertEventNotice {
  readonly type: AlertEventType;
  readonly alert: Alert;
  readonly at: number;
}

/** A notification to people: one per group and window, however many alerts it holds. */
export interface GroupNotification {
  readonly useCase: string;
  readonly group: string;
  readonly alerts: readonly Alert[];
  readonly at: number;
}

export interface AlertNotifier {
  /** Machine events, one per alert change. */
  publish(events: readonly AlertEventNotice[]): Promise<void>;
  /** A grouped notification to people (SNS in the cloud). */
  notify(notification: GroupNotification): Promise<void>;
}

/**
 * Holds notified alerts for their group's window, so one notification carries every alert of a
 * group opened close together: in memory in one process, a table item and a delayed message in
 * the cloud (the window spans invocations).
 */
export interface NotificationBatcher {
  add(alert: Alert, at: number): Promise<void>;
  /** The notifications whose window has ended by `now` (all held ones with `flushAll`). */
  due(now: number, flushAll?: boolean): Promise<GroupNotification[]>;
}
