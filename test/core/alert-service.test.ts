import { describe, expect, it } from 'vitest';
import { AlertService, ConcurrentChange } from '../../core/alerts/alert-service.ts';
import { NotificationGrouper } from '../../core/alerts/grouping.ts';
import { InMemoryAlertStore } from '../../core/alerts/in-memory.ts';
import { InvalidTransition } from '../../core/alerts/lifecycle.ts';
import { alertPolicySchema } from '../../core/alerts/policy.ts';
import type { AlertEventNotice, AlertNotifier, GroupNotification } from '../../core/alerts/ports.ts';
import type { ScoredDevice } from '../../core/baseline/device-scoring.ts';
import { InMemoryBaselineStore } from '../../core/baseline/in-memory.ts';
import { PermissionDenied, type Actor } from '../../core/operators/actor.ts';
import { repeat, scripted } from '../support/inferences.ts';

const policy = alertPolicySchema.parse({
  open: { anomalousReadings: 5, withinSeconds: 10 },
  clearAfterSeconds: 20,
  cooldownSeconds: 60,
  caps: { perDevice: 2, perUseCase: 3 },
  groupWindowSeconds: 30,
  groups: { 'line-1': ['p1', 'p2'] },
});
const OPERATOR: Actor = { name: 'olu', role: 'operator' };
const ENGINEER: Actor = { name: 'dana', role: 'reliability-engineer' };

class RecordingNotifier implements AlertNotifier {
  readonly events: AlertEventNotice[] = [];
  readonly notifications: GroupNotification[] = [];
  publish(events: readonly AlertEventNotice[]): Promise<void> {
    this.events.push(...events);
    return Promise.resolve();
  }
  notify(notification: GroupNotification): Promise<void> {
    this.notifications.push(notification);
    return Promise.resolve();
  }
}

function setup(store = new InMemoryAlertStore()) {
  let now = 1_000_000;
  const clock = { now: () => now };
  const notifier = new RecordingNotifier();
  const baselines = new InMemoryBaselineStore();
  const service = new AlertService(
    store,
    baselines,
    notifier,
    new NotificationGrouper(() => policy.groupWindowSeconds * 1000),
    clock,
    new Map([['uc', { policy, inference: 'pump-anomaly' }]]),
  );
  return { service, store, notifier, baselines, advance: (ms: number) => (now += ms) };
}

const device = (script: string, start = 0, deviceId = 'p1'): ScoredDevice => ({
  useCase: 'uc',
  deviceId,
  inferences: scripted(script, start, deviceId),
});

describe('AlertService', () => {
  it('GIVEN a fault WHEN its batches arrive THEN exactly one alert opens, with an event and one grouped notification', async () => {
    const { service, store, notifier, advance } = setup();
    for (let k = 0; k < 6; k++) await service.process([device(repeat('A', 10), k * 10)]);
    expect(store.alerts.size).toBe(1);
    const [alert] = store.alerts.values();
    expect(alert).toMatchObject({
      status: 'open',
      delivery: 'notify',
      group: 'line-1',
      lastAnomalyAt: 59_000,
    });
    expect(notifier.events.map((e) => e.type)).toEqual(['Alert Opened']);
    expect(await service.flushNotifications()).toBe(0);
    advance(30_000);
    expect(await service.flushNotifications()).toBe(1);
    expect(notifier.notifications[0]?.alerts.map((a) => a.id)).toEqual([alert?.id]);
  });

  it('GIVEN two processes WHEN they score batches of one device at once THEN one alert opens', async () => {
    const store = new InMemoryAlertStore();
    const a = setup(store);
    const b = setup(store);
    for (let k = 0; k < 6; k += 2) {
      await Promise.all([
        a.service.process([device(repeat('A', 10), k * 10)]),
        b.service.process([device(repeat('A', 10), (k + 1) * 10)]),
      ]);
    }
    expect(store.alerts.size).toBe(1);
    expect([...store.tracks.values()][0]?.episode?.lastAnomalyAt).toBe(59_000);
  });

  it('GIVEN a crash after the track was saved WHEN the next batch comes THEN the saved events are applied, once', async () => {
    const store = new InMemoryAlertStore();
    const failing = Object.assign(Object.create(store) as InMemoryAlertStore, {
      openAlert: () => Promise.reject(new Error('process killed')),
    });
    await expect(setup(failing).service.process([device(repeat('A', 10))])).rejects.toThrow('process killed');
    expect(store.alerts.size).toBe(0);
    expect([...store.tracks.values()][0]?.outbox.map((e) => e.kind)).toEqual(['open', 'progress']);
    const { service, notifier } = setup(store);
    await service.process([device('.', 10)]);
    await service.process([device('.', 11)]);
    expect(store.alerts.size).toBe(1);
    expect(notifier.events.map((e) => e.type)).toEqual(['Alert Opened']);
  });

  it('GIVEN more alerts than the shift allows WHEN they open THEN the overflow goes to the digest, kept and counted', async () => {
    const { service, store } = setup();
    // Three episodes on p1 (cooldown 60 s), one each on p2 and p3.
    for (const start of [0, 100, 200])
      await service.process([device(`${repeat('A', 10)}${repeat('.', 25)}`, start)]);
    await service.process([device(repeat('A', 10), 0, 'p2')]);
    await service.process([device(repeat('A', 10), 0, 'p3')]);
    const byDevice = [...store.alerts.values()].map((a) => `${a.deviceId}:${a.delivery}`).sort();
    expect(byDevice).toEqual(['p1:digest', 'p1:notify', 'p1:notify', 'p2:notify', 'p3:digest']);
    expect(store.suppressions.filter((s) => s.rule === 'cap')).toHaveLength(2);
    // The digest is a listing of its own: kept, never dropped silently.
    expect(
      (await store.listAlerts({ useCase: 'uc', delivery: 'digest' })).map((a) => a.deviceId).sort(),
    ).toEqual(['p1', 'p3']);
  });

  it('GIVEN alerts of one group close together WHEN notified THEN they go out as one notification', async () => {
    const { service, notifier, advance } = setup();
    await service.process([device(repeat('A', 10), 0, 'p1')]);
    advance(10_000);
    await service.process([device(repeat('A', 10), 0, 'p2')]);
    await service.process([device(repeat('A', 10), 0, 'p9')]);
    advance(30_000);
    await service.flushNotifications();
    expect(notifier.notifications.map((n) => `${n.group}:${n.alerts.length}`).sort()).toEqual([
      'line-1:2',
      'uc:1',
    ]);
  });

  it('GIVEN an open alert WHEN an operator acknowledges it and the condition clears THEN each step records who, role and when', async () => {
    const { service, store, notifier } = setup();
    await service.process([device(repeat('A', 10))]);
    const [alert] = store.alerts.values();
    await service.decide(alert?.id ?? '', { action: 'acknowledge', note: 'on my way' }, OPERATOR);
    await service.process([device(repeat('.', 25), 10)]);
    const closed = await store.getAlert(alert?.id ?? '');
    expect(closed?.status).toBe('resolved');
    expect(
      closed?.history.map((t) => `${t.from ?? '-'}>${t.to} ${t.actor.name}/${t.actor.role} ${t.note}`),
    ).toEqual([
      '->open aiot-pipeline/system major: score 20.00 over threshold 10.00 persisted',
      'open>acknowledged olu/operator on my way',
      'acknowledged>resolved aiot-pipeline/system condition cleared: no anomalous reading for the policy’s quiet period',
    ]);
    expect(notifier.events.map((e) => e.type)).toEqual([
      'Alert Opened',
      'Alert Acknowledged',
      'Alert Resolved',
    ]);
  });

  it('GIVEN a false positive "new-normal" WHEN given THEN it is feedback, the device re-baselines, and its readings open nothing while calibrating', async () => {
    const { service, store, baselines, notifier } = setup();
    await service.process([device(repeat('A', 10))]);
    const [alert] = store.alerts.values();
    const result = await service.decide(
      alert?.id ?? '',
      { action: 'false-positive', reason: 'new-normal', note: 'valve set to 80%' },
      OPERATOR,
    );
    expect(result.rebaselined).toBe(true);
    expect(result.alert.verdict).toEqual({
      kind: 'false-positive',
      reason: 'new-normal',
      note: 'valve set to 80%',
    });
    expect((await baselines.get('uc', 'p1'))?.calibration).toMatchObject({
      reason: 'new-normal',
      requestedBy: OPERATOR,
      note: `alert ${alert?.id ?? ''} judged the new normal: valve set to 80%`,
    });
    expect(store.feedbackList).toEqual([
      expect.objectContaining({ label: 'normal', detail: 'new-normal', from: 0, to: 9000, actor: OPERATOR }),
    ]);
    expect(notifier.events.map((e) => e.type)).toEqual(['Alert Opened', 'Feedback Given']);
  });

  it('GIVEN other verdicts WHEN given THEN sensor faults name the sensor, maintenance suggests a silence, confirmations are labelled examples', async () => {
    const { service, store } = setup();
    for (const [i, id] of ['p1', 'p2', 'p3'].entries())
      await service.process([device(repeat('A', 10), i * 100, id)]);
    const [a1, a2, a3] = [...store.alerts.values()].sort((x, y) => x.deviceId.localeCompare(y.deviceId));
    await service.decide(
      a1?.id ?? '',
      { action: 'false-positive', reason: 'sensor-fault', note: '' },
      OPERATOR,
    );
    const maintenance = await service.decide(
      a2?.id ?? '',
      { action: 'false-positive', reason: 'maintenance', note: '' },
      OPERATOR,
    );
    expect(maintenance.suggestedSilence).toEqual({
      scope: { kind: 'device', deviceId: 'p2' },
      hours: 4,
      reason: `maintenance on p2 (alert ${a2?.id ?? ''})`,
    });
    await service.decide(
      a3?.id ?? '',
      { action: 'confirm', failureMode: 'bearing wear', workOrder: 'WO-77', note: '' },
      ENGINEER,
    );
    expect(
      store.feedbackList.map(
        (f) => `${f.deviceId} ${f.label} ${f.detail} ${f.sensor ?? '-'} ${f.workOrder ?? '-'}`,
      ),
    ).toEqual([
      'p1 sensor-fault sensor-fault flow -',
      'p2 maintenance maintenance - -',
      'p3 anomaly bearing wear - WO-77',
    ]);
  });

  it('refuses decisions that do not apply, by roles that may not, and a stale change', async () => {
    const { service, store, advance } = setup();
    await service.process([device(repeat('A', 10))]);
    const [alert] = store.alerts.values();
    const id = alert?.id ?? '';
    await expect(
      service.decide(id, { action: 'acknowledge', note: '' }, { name: 'ann', role: 'analyst' }),
    ).rejects.toThrow(PermissionDenied);
    await service.decide(id, { action: 'confirm', failureMode: 'cavitation', note: '' }, OPERATOR);
    await expect(service.decide(id, { action: 'acknowledge', note: '' }, OPERATOR)).rejects.toThrow(
      new InvalidTransition(`alert ${id} is confirmed: acknowledge applies to open alerts`),
    );
    await expect(service.decide(id, { action: 'undo' }, ENGINEER)).rejects.toThrow(
      "the last decision is olu's, not dana's",
    );
    const undone = await service.decide(id, { action: 'undo' }, OPERATOR);
    expect(undone.alert).toMatchObject({ status: 'open', verdict: null });
    advance(11_000);
    await service.decide(id, { action: 'acknowledge', note: '' }, OPERATOR);
    advance(11_000);
    await expect(service.decide(id, { action: 'undo' }, OPERATOR)).rejects.toThrow('undo works for 10 s');
    const racing = Object.assign(Object.create(store) as InMemoryAlertStore, {
      replaceAlert: () => Promise.resolve(false),
    });
    await expect(setup(racing).service.decide(id, { action: 'resolve', note: '' }, OPERATOR)).rejects.toThrow(
      ConcurrentChange,
    );
  });

  it('GIVEN a maintenance window on a group WHEN set THEN its devices raise nothing and re-baseline from its end', async () => {
    const { service, store, baselines } = setup();
    for (const id of ['p1', 'p2', 'p9']) {
      await baselines.save({ useCase: 'uc', deviceId: id, revision: 1 });
    }
    await expect(
      service.addSilence(
        {
          useCase: 'uc',
          scope: { kind: 'group', group: 'line-1' },
          kind: 'maintenance',
          from: 0,
          to: 3_600_000,
          reason: 'seal change',
        },
        OPERATOR,
        's1',
      ),
    ).rejects.toThrow(PermissionDenied);
    await service.addSilence(
      {
        useCase: 'uc',
        scope: { kind: 'group', group: 'line-1' },
        kind: 'maintenance',
        from: 0,
        to: 3_600_000,
        reason: 'seal change',
      },
      ENGINEER,
      's1',
    );
    const states = await baselines.list('uc');
    expect(
      states
        .map((s) => `${s.deviceId}:${s.calibration?.reason ?? '-'}:${s.calibration?.since ?? '-'}`)
        .sort(),
    ).toEqual(['p1:maintenance:3600000', 'p2:maintenance:3600000', 'p9:-:-']);
    await service.process([device(repeat('A', 20), 0, 'p2')]);
    expect(store.alerts.size).toBe(0);
    expect(store.suppressions.map((s) => `${s.rule}:${s.ref}`)).toEqual(['silence:s1']);
    await expect(
      service.addSilence(
        {
          useCase: 'uc',
          scope: { kind: 'group', group: 'line-9' },
          kind: 'silence',
          from: 0,
          to: 1,
          reason: 'x',
        },
        ENGINEER,
        's2',
      ),
    ).rejects.toThrow('unknown group "line-9" (groups of uc: line-1)');
  });
});
