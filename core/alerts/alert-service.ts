import type { ScoredDevice } from '../baseline/device-scoring.ts';
import type { BaselineStore } from '../baseline/ports.ts';
import { requestCalibration } from '../baseline/rebaseline.ts';
import type { Clock } from '../ingest/ports.ts';
import { requirePermission, SYSTEM, type Actor } from '../operators/actor.ts';
import { emptyTrack, evaluate, type EngineEvent, type Episode, type SilenceMatch } from './engine.ts';
import { clearAlert, decide, newAlert, type Alert, type Decision } from './lifecycle.ts';
import { groupOf, shiftStartOf, type AlertPolicy } from './policy.ts';
import type {
  AlertEventNotice,
  AlertNotifier,
  AlertStore,
  FeedbackRecord,
  NotificationBatcher,
  Silence,
  SilenceScope,
  StoredTrack,
} from './ports.ts';

/** Each use case's policy and the inference its alerts are about. */
export interface UseCaseAlerting {
  readonly policy: AlertPolicy;
  readonly inference: string;
}

export class AlertNotFound extends Error {
  override readonly name = 'AlertNotFound';
}

/** A silence that cannot be: it ends before it starts, has no reason, or names an unknown group. */
export class InvalidSilence extends Error {
  override readonly name = 'InvalidSilence';
}

export class ConcurrentChange extends Error {
  override readonly name = 'ConcurrentChange';
}

/** What the console offers after a verdict: a `maintenance` false positive suggests a silence. */
export interface DecisionResult {
  readonly alert: Alert;
  readonly suggestedSilence?: {
    readonly scope: SilenceScope;
    readonly hours: number;
    readonly reason: string;
  };
  /** Set when the verdict started a new calibration of the device. */
  readonly rebaselined?: boolean;
}

const MAX_CONFLICTS = 5;
const SUGGESTED_SILENCE_HOURS = 4;

function covers(silence: Silence, useCase: string, deviceId: string, group: string, at: number): boolean {
  if (silence.useCase !== useCase || at < silence.from || at >= silence.to) return false;
  const { scope } = silence;
  if (scope.kind === 'use-case') return true;
  if (scope.kind === 'group') return scope.group === group;
  return scope.deviceId === deviceId;
}

/**
 * Decides when a person is interrupted, and learns from their answer. Runs the alert policy over
 * each device's scored readings with a transactional outbox: the track and the events it produced
 * are saved together (conditionally on the track's revision), then the events are applied, each
 * idempotently, so a crash or a concurrent batch neither loses an alert nor opens one twice.
 */
export class AlertService {
  constructor(
    private readonly store: AlertStore,
    private readonly baselines: BaselineStore,
    private readonly notifier: AlertNotifier,
    private readonly grouper: NotificationBatcher,
    private readonly clock: Clock,
    private readonly useCases: ReadonlyMap<string, UseCaseAlerting>,
  ) {}

  private alerting(useCase: string): UseCaseAlerting {
    const found = this.useCases.get(useCase);
    if (!found)
      throw new Error(
        `no alert policy for use case "${useCase}" (known: ${[...this.useCases.keys()].join(', ')})`,
      );
    return found;
  }

  /** Runs the policy over newly scored readings. */
  async process(devices: readonly ScoredDevice[]): Promise<void> {
    // One read of the silences per use case and batch, not per device.
    const silences = new Map<string, Promise<Silence[]>>();
    const silencesOf = (useCase: string) => {
      const found = silences.get(useCase) ?? this.store.silences(useCase);
      silences.set(useCase, found);
      return found;
    };
    for (const device of devices) {
      if (device.inferences.length > 0 && this.useCases.has(device.useCase)) {
        await this.processDevice(device, await silencesOf(device.useCase));
      }
    }
  }

  private async processDevice(device: ScoredDevice, silences: readonly Silence[]): Promise<void> {
    const { useCase, deviceId } = device;
    const { policy, inference } = this.alerting(useCase);
    const group = groupOf(policy, useCase, deviceId);
    for (let attempt = 1; attempt <= MAX_CONFLICTS; attempt++) {
      const stored: StoredTrack = (await this.store.getTrack(useCase, deviceId, inference)) ?? {
        ...emptyTrack(useCase, deviceId, inference),
        outbox: [],
      };
      // A previous run saved these but may not have applied them (a crash, a lost race).
      await this.apply(stored.outbox, stored, group);
      const silenceAt = (time: number): SilenceMatch | undefined =>
        silences.find((silence) => covers(silence, useCase, deviceId, group, time));
      const { track, events } = evaluate(policy, stored, device.inferences, silenceAt);
      // A quiet device leaves its track as it was: nothing to write.
      if (events.length === 0 && stored.outbox.length === 0 && track === stored) return;
      const next: StoredTrack = { ...track, revision: stored.revision + 1, outbox: events };
      if (!(await this.store.saveTrack(next))) continue;
      await this.apply(events, next, group);
      if (events.length > 0) await this.store.saveTrack({ ...next, revision: next.revision + 1, outbox: [] });
      return;
    }
    throw new ConcurrentChange(
      `alert track of ${useCase}/${deviceId} changed under ${MAX_CONFLICTS} attempts in a row`,
    );
  }

  /** Applies engine events; each is idempotent, so applying an outbox twice changes nothing. */
  private async apply(events: readonly EngineEvent[], track: StoredTrack, group: string): Promise<void> {
    const { useCase, deviceId, inference } = track;
    const notices: AlertEventNotice[] = [];
    for (const event of events) {
      switch (event.kind) {
        case 'open': {
          const opened = await this.open(event.episode, track, group);
          if (opened) notices.push({ type: 'Alert Opened', alert: opened, at: event.episode.openedAt });
          break;
        }
        case 'suppressed':
          await this.store.recordSuppression({
            useCase,
            deviceId,
            inference,
            rule: event.rule,
            ref: event.ref,
            at: event.at,
            score: event.score,
          });
          break;
        case 'escalate':
          await this.update(event.alertId, (alert) =>
            alert.severity === event.severity ? undefined : { ...alert, severity: event.severity },
          );
          break;
        case 'progress':
          await this.update(event.alertId, (alert) =>
            alert.lastAnomalyAt >= event.lastAnomalyAt && alert.peakScore >= event.peakScore
              ? undefined
              : {
                  ...alert,
                  lastAnomalyAt: Math.max(alert.lastAnomalyAt, event.lastAnomalyAt),
                  peakScore: Math.max(alert.peakScore, event.peakScore),
                  contributors: event.peakScore > alert.peakScore ? event.contributors : alert.contributors,
                },
          );
          break;
        case 'clear': {
          const cleared = await this.update(event.alertId, (alert) =>
            alert.clearedAt !== null
              ? undefined
              : clearAlert({ ...alert, lastAnomalyAt: event.lastAnomalyAt }, event.at, SYSTEM),
          );
          if (
            cleared?.status === 'resolved' &&
            cleared.history[cleared.history.length - 1]?.actor.role === 'system'
          ) {
            notices.push({ type: 'Alert Resolved', alert: cleared, at: event.at });
          }
          break;
        }
      }
    }
    if (notices.length > 0) await this.notifier.publish(notices);
  }

  /**
   * Opens the episode's alert under the caps: notified (batched), or kept as capped and counted
   * as a suppression. Answers the alert when it is new, undefined when it was opened before.
   */
  private async open(episode: Episode, track: StoredTrack, group: string): Promise<Alert | undefined> {
    const { useCase, deviceId, inference } = track;
    const { policy } = this.alerting(useCase);
    const existing = await this.store.getAlert(episode.alertId);
    if (existing) {
      // An outbox applied again after a failure: batching is idempotent, so hand the alert
      // over again in case the failure came after it was opened and before it was batched.
      if (existing.delivery === 'notify' && existing.status === 'open') {
        await this.grouper.add(existing, this.clock.now());
      }
      return undefined;
    }
    const draft = newAlert(episode, { useCase, deviceId, inference, group }, 'notify', SYSTEM);
    const delivery = await this.store.openAlert(draft, {
      shiftStart: shiftStartOf(policy, episode.openedAt),
      perDevice: policy.caps.perDevice,
      perUseCase: policy.caps.perUseCase,
    });
    const alert = { ...draft, delivery };
    if (delivery === 'notify') await this.grouper.add(alert, this.clock.now());
    else
      await this.store.recordSuppression({
        useCase,
        deviceId,
        inference,
        rule: 'cap',
        ref: alert.id,
        at: alert.openedAt,
        score: alert.peakScore,
      });
    return alert;
  }

  /** Read-modify-write of one alert; `change` answers undefined when there is nothing to do. */
  private async update(id: string, change: (alert: Alert) => Alert | undefined): Promise<Alert | undefined> {
    for (let attempt = 1; attempt <= MAX_CONFLICTS; attempt++) {
      const alert = await this.store.getAlert(id);
      if (!alert) return undefined;
      const next = change(alert);
      if (!next) return undefined;
      if (await this.store.replaceAlert(next, alert.history.length)) return next;
    }
    throw new ConcurrentChange(`alert ${id} changed under ${MAX_CONFLICTS} attempts in a row`);
  }

  /** Sends the grouped notifications whose window has ended (all of them when stopping). */
  async flushNotifications(flushAll = false): Promise<number> {
    const due = await this.grouper.due(this.clock.now(), flushAll);
    for (const notification of due) await this.notifier.notify(notification);
    return due.length;
  }

  /**
   * A person's decision on an alert, with its effects: a false positive or a confirmation is
   * feedback for the next model; `new-normal` re-baselines the device; `maintenance` suggests a
   * silence. Throws AlertNotFound, PermissionDenied, InvalidTransition or ConcurrentChange.
   */
  async decide(alertId: string, decision: Decision, actor: Actor): Promise<DecisionResult> {
    const now = this.clock.now();
    const before = await this.store.getAlert(alertId);
    if (!before) throw new AlertNotFound(`no alert ${alertId}`);
    const alert = decide(before, decision, actor, now);
    if (!(await this.store.replaceAlert(alert, before.history.length))) {
      throw new ConcurrentChange(`alert ${alertId} changed while you decided; look at it again`);
    }
    const notices: AlertEventNotice[] = [];
    const result: {
      alert: Alert;
      suggestedSilence?: DecisionResult['suggestedSilence'];
      rebaselined?: boolean;
    } = {
      alert,
    };
    if (decision.action === 'acknowledge') notices.push({ type: 'Alert Acknowledged', alert, at: now });
    if (decision.action === 'resolve') notices.push({ type: 'Alert Resolved', alert, at: now });
    if (decision.action === 'false-positive' || decision.action === 'confirm') {
      notices.push({ type: 'Feedback Given', alert, at: now });
      await this.store.recordFeedback(this.feedbackOf(alert, decision, actor, now));
      if (decision.action === 'false-positive' && decision.reason === 'new-normal') {
        await requestCalibration(this.baselines, {
          useCase: alert.useCase,
          deviceId: alert.deviceId,
          reason: 'new-normal',
          note: `alert ${alert.id} judged the new normal${decision.note ? `: ${decision.note}` : ''}`,
          actor,
          at: now,
        });
        result.rebaselined = true;
      }
      if (decision.action === 'false-positive' && decision.reason === 'maintenance') {
        result.suggestedSilence = {
          scope: { kind: 'device', deviceId: alert.deviceId },
          hours: SUGGESTED_SILENCE_HOURS,
          reason: `maintenance on ${alert.deviceId} (alert ${alert.id})`,
        };
      }
    }
    await this.notifier.publish(notices);
    return result;
  }

  private feedbackOf(alert: Alert, decision: Decision, actor: Actor, at: number): FeedbackRecord {
    const base = {
      alertId: alert.id,
      useCase: alert.useCase,
      deviceId: alert.deviceId,
      inference: alert.inference,
      from: alert.firstAnomalyAt,
      to: alert.clearedAt ?? Math.max(alert.lastAnomalyAt, alert.openedAt),
      actor,
      at,
      workOrder: null,
      sensor: null,
      note: 'note' in decision ? decision.note : '',
    };
    if (decision.action === 'confirm') {
      return {
        ...base,
        label: 'anomaly',
        detail: decision.failureMode,
        workOrder: decision.workOrder ?? null,
      };
    }
    if (decision.action !== 'false-positive') throw new Error(`${decision.action} gives no feedback`);
    const label: FeedbackRecord['label'] =
      decision.reason === 'sensor-fault'
        ? 'sensor-fault'
        : decision.reason === 'maintenance'
          ? 'maintenance'
          : decision.reason === 'other'
            ? 'other'
            : 'normal';
    return {
      ...base,
      label,
      detail: decision.reason,
      sensor: decision.reason === 'sensor-fault' ? (alert.contributors[0]?.sensor ?? null) : null,
    };
  }

  /**
   * Sets a silence or maintenance window. A maintenance window of a device, group or use case
   * also starts a new calibration of each device it covers from its end: their normal may change.
   */
  async addSilence(
    input: Omit<Silence, 'id' | 'createdBy' | 'createdAt'>,
    actor: Actor,
    id: string,
  ): Promise<Silence> {
    requirePermission(actor, 'silence');
    const { policy } = this.alerting(input.useCase);
    if (!(input.to > input.from)) throw new InvalidSilence('a silence must end after it starts');
    if (input.reason.trim() === '') throw new InvalidSilence('a silence needs a reason');
    if (
      input.scope.kind === 'group' &&
      !(input.scope.group in policy.groups) &&
      input.scope.group !== input.useCase
    ) {
      throw new InvalidSilence(
        `unknown group "${input.scope.group}" (groups of ${input.useCase}: ${Object.keys(policy.groups).join(', ') || 'none'})`,
      );
    }
    const silence: Silence = {
      ...input,
      reason: input.reason.trim(),
      id,
      createdBy: actor,
      createdAt: this.clock.now(),
    };
    await this.store.addSilence(silence);
    if (silence.kind === 'maintenance') {
      const devices = (await this.baselines.list(silence.useCase)).filter((state) =>
        covers(
          silence,
          silence.useCase,
          state.deviceId,
          groupOf(policy, silence.useCase, state.deviceId),
          silence.from,
        ),
      );
      for (const state of devices) {
        await requestCalibration(this.baselines, {
          useCase: silence.useCase,
          deviceId: state.deviceId,
          reason: 'maintenance',
          note: `maintenance window ${silence.id}: ${silence.reason}`,
          actor,
          at: this.clock.now(),
          since: silence.to,
        });
      }
    }
    return silence;
  }
}
