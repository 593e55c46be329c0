import { z } from 'zod';
import { requirePermission, type Actor } from '../operators/actor.ts';
import type { Contributor, Episode, Severity } from './engine.ts';

export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved', 'false-positive', 'confirmed'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/**
 * Why an operator calls an alert a false positive, and what that changes:
 * `sensor-fault` goes to sensor health; `new-normal` re-baselines the device; `normal-operation`
 * makes the alert's window normal data for the next model version; `maintenance` suggests a
 * silence; `other` is kept for review.
 */
export const FALSE_POSITIVE_REASONS = [
  'sensor-fault',
  'new-normal',
  'normal-operation',
  'maintenance',
  'other',
] as const;
export type FalsePositiveReason = (typeof FALSE_POSITIVE_REASONS)[number];

/** `digest`: over the shift's cap, kept in the digest instead of interrupting anyone. */
export type Delivery = 'notify' | 'digest';

export interface AlertTransition {
  readonly from: AlertStatus | null;
  readonly to: AlertStatus;
  readonly actor: Actor;
  readonly at: number;
  readonly note: string;
}

export type Verdict =
  | { readonly kind: 'false-positive'; readonly reason: FalsePositiveReason; readonly note: string }
  | {
      readonly kind: 'confirmed';
      readonly failureMode: string;
      readonly workOrder: string | null;
      readonly note: string;
    };

export interface Alert {
  readonly id: string;
  readonly useCase: string;
  readonly deviceId: string;
  readonly inference: string;
  readonly group: string;
  readonly status: AlertStatus;
  readonly severity: Severity;
  readonly delivery: Delivery;
  readonly openedAt: number;
  readonly firstAnomalyAt: number;
  readonly lastAnomalyAt: number;
  /** When the condition cleared; null while it lasts. */
  readonly clearedAt: number | null;
  readonly peakScore: number;
  readonly threshold: number;
  readonly contributors: readonly Contributor[];
  readonly baselineVersion: number | null;
  readonly modelVersion: string | null;
  readonly verdict: Verdict | null;
  /** Every change of status, oldest first: who, with which role, when and why. */
  readonly history: readonly AlertTransition[];
}

export function newAlert(
  episode: Episode,
  where: { useCase: string; deviceId: string; inference: string; group: string },
  delivery: Delivery,
  actor: Actor,
): Alert {
  return {
    id: episode.alertId,
    ...where,
    status: 'open',
    severity: episode.severity,
    delivery,
    openedAt: episode.openedAt,
    firstAnomalyAt: episode.firstAnomalyAt,
    lastAnomalyAt: episode.lastAnomalyAt,
    clearedAt: null,
    peakScore: episode.peakScore,
    threshold: episode.threshold,
    contributors: episode.contributors,
    baselineVersion: episode.baselineVersion,
    modelVersion: episode.modelVersion,
    verdict: null,
    history: [
      {
        from: null,
        to: 'open',
        actor,
        at: episode.openedAt,
        note: `${episode.severity}: score ${episode.peakScore.toFixed(2)} over threshold ${episode.threshold.toFixed(2)} persisted`,
      },
    ],
  };
}

const text = z.string().max(2000);

/** A person's decision on an alert, as the API and CLI take it. */
export const decisionSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('acknowledge'), note: text.default('') }),
  z.strictObject({ action: z.literal('resolve'), note: text.default('') }),
  z.strictObject({
    action: z.literal('false-positive'),
    reason: z.enum(FALSE_POSITIVE_REASONS),
    note: text.default(''),
  }),
  z.strictObject({
    action: z.literal('confirm'),
    failureMode: z.string().trim().min(1, 'name the failure mode').max(200),
    workOrder: z.string().trim().min(1).max(100).optional(),
    note: text.default(''),
  }),
  z.strictObject({ action: z.literal('undo') }),
]);

export type Decision = z.output<typeof decisionSchema>;

export class InvalidTransition extends Error {
  override readonly name = 'InvalidTransition';
}

/** How long after a tap its author may take it back. */
export const UNDO_SECONDS = 10;
const UNDO_NOTE = 'undo ';

const FROM: Readonly<Record<Exclude<Decision['action'], 'undo'>, readonly AlertStatus[]>> = {
  acknowledge: ['open'],
  resolve: ['open', 'acknowledged'],
  // A verdict may follow the system's resolution: the condition cleared, the question remains.
  'false-positive': ['open', 'acknowledged', 'resolved'],
  confirm: ['open', 'acknowledged', 'resolved'],
};

const TO = {
  acknowledge: 'acknowledged',
  resolve: 'resolved',
  'false-positive': 'false-positive',
  confirm: 'confirmed',
} as const;

/**
 * Applies a decision to an alert and returns the new alert. Throws PermissionDenied for a role
 * that may not answer alerts, and InvalidTransition naming the status for a decision that does
 * not apply (acknowledging a closed alert, undoing someone else's tap or an old one).
 */
export function decide(alert: Alert, decision: Decision, actor: Actor, at: number): Alert {
  requirePermission(actor, 'answer-alerts');
  if (decision.action === 'undo') return undo(alert, actor, at);
  if (!FROM[decision.action].includes(alert.status)) {
    throw new InvalidTransition(
      `alert ${alert.id} is ${alert.status}: ${decision.action} applies to ${FROM[decision.action].join(' or ')} alerts`,
    );
  }
  const to = TO[decision.action];
  const verdict: Verdict | null =
    decision.action === 'false-positive'
      ? { kind: 'false-positive', reason: decision.reason, note: decision.note }
      : decision.action === 'confirm'
        ? {
            kind: 'confirmed',
            failureMode: decision.failureMode,
            workOrder: decision.workOrder ?? null,
            note: decision.note,
          }
        : alert.verdict;
  const note =
    decision.action === 'false-positive'
      ? [decision.reason, decision.note].filter(Boolean).join(': ')
      : decision.action === 'confirm'
        ? [decision.failureMode, decision.workOrder ? `work order ${decision.workOrder}` : '', decision.note]
            .filter(Boolean)
            .join('; ')
        : decision.note;
  return {
    ...alert,
    status: to,
    verdict,
    history: [...alert.history, { from: alert.status, to, actor, at, note }],
  };
}

function undo(alert: Alert, actor: Actor, at: number): Alert {
  const last = alert.history[alert.history.length - 1];
  if (!last?.from || last.actor.role === 'system' || last.note.startsWith(UNDO_NOTE)) {
    throw new InvalidTransition(`alert ${alert.id}: there is no decision of a person to undo`);
  }
  if (last.actor.name !== actor.name) {
    throw new InvalidTransition(
      `alert ${alert.id}: the last decision is ${last.actor.name}'s, not ${actor.name}'s`,
    );
  }
  if (at - last.at > UNDO_SECONDS * 1000) {
    throw new InvalidTransition(
      `alert ${alert.id}: the last decision is ${Math.round((at - last.at) / 1000)} s old; undo works for ${UNDO_SECONDS} s`,
    );
  }
  // A verdict only follows a status without one, so undoing it leaves none.
  const undoesVerdict = last.to === 'false-positive' || last.to === 'confirmed';
  return {
    ...alert,
    status: last.from,
    verdict: undoesVerdict ? null : alert.verdict,
    history: [
      ...alert.history,
      { from: alert.status, to: last.from, actor, at, note: `${UNDO_NOTE}${last.to}` },
    ],
  };
}

/** The system's resolution when the condition clears; a person's verdict stays. */
export function clearAlert(alert: Alert, at: number, actor: Actor): Alert {
  if (alert.status !== 'open' && alert.status !== 'acknowledged') return { ...alert, clearedAt: at };
  return {
    ...alert,
    status: 'resolved',
    clearedAt: at,
    history: [
      ...alert.history,
      {
        from: alert.status,
        to: 'resolved',
        actor,
        at,
        note: 'condition cleared: no anomalous reading for the policy’s quiet period',
      },
    ],
  };
}
