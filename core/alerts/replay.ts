import { median } from '../model/statistics.ts';
import type { InferenceRecord } from '../inference/inference-records.ts';
import { InMemoryBaselineStore } from '../baseline/in-memory.ts';
import { AlertService } from './alert-service.ts';
import { NotificationGrouper } from './grouping.ts';
import { InMemoryAlertStore } from './in-memory.ts';
import type { AlertPolicy } from './policy.ts';
import type { AlertNotifier, Silence } from './ports.ts';

/** A labelled stretch of one device's readings: a confirmed fault, or a window judged normal. */
export interface LabelledWindow {
  readonly deviceId: string;
  readonly from: number;
  readonly to: number;
}

export interface ReplayResult {
  readonly devices: number;
  readonly deviceDays: number;
  readonly alerts: number;
  readonly notified: number;
  readonly digest: number;
  readonly alertsPerDeviceDay: number;
  readonly notifications: number;
  readonly suppressed: { readonly silence: number; readonly cooldown: number; readonly cap: number };
  /** Labelled anomaly windows, and those an alert opened during. */
  readonly events: number;
  readonly eventsCaught: number;
  /** Median seconds from a caught window's start to its alert. */
  readonly medianDelaySeconds: number | null;
  /** Alerts that opened inside windows judged normal: the false alarms the policy would still raise. */
  readonly alertsOnNormal: number;
  /** Each alert's device and span, opened until cleared (or its last anomaly, if still open). */
  readonly spans: readonly { readonly deviceId: string; readonly from: number; readonly to: number }[];
}

const DAY_MS = 24 * 3600_000;

/** Seconds from each labelled window's start to the first alert that opened in it, for the windows one did. */
function delaysOf(
  alerts: readonly { deviceId: string; openedAt: number }[],
  windows: readonly LabelledWindow[],
): number[] {
  return windows.flatMap((window) => {
    const opened = alerts
      .filter((a) => a.deviceId === window.deviceId && a.openedAt >= window.from && a.openedAt <= window.to)
      .map((a) => a.openedAt);
    return opened.length > 0 ? [(Math.min(...opened) - window.from) / 1000] : [];
  });
}

/** Counts the notifications a replay would have sent, and sends none. */
class CountingNotifier implements AlertNotifier {
  notifications = 0;
  publish(): Promise<void> {
    return Promise.resolve();
  }
  notify(): Promise<void> {
    this.notifications += 1;
    return Promise.resolve();
  }
}

/**
 * Replays stored scores under a policy through the same AlertService as live data, with an
 * in-memory store, and counts what people would have seen: alerts per device-day, what the
 * digest, silences and cooldowns held back, and how the labelled windows fare (caught, delay,
 * alerts on windows judged normal). Nothing is written anywhere.
 */
export async function replayPolicy(input: {
  readonly useCase: string;
  readonly inference: string;
  readonly policy: AlertPolicy;
  /** Each device's scored readings in time order. */
  readonly devices: ReadonlyMap<string, readonly InferenceRecord[]>;
  readonly silences?: readonly Silence[];
  readonly anomalies?: readonly LabelledWindow[];
  readonly normal?: readonly LabelledWindow[];
}): Promise<ReplayResult> {
  const store = new InMemoryAlertStore();
  for (const silence of input.silences ?? []) await store.addSilence(silence);
  let now = 0;
  const notifier = new CountingNotifier();
  const service = new AlertService(
    store,
    new InMemoryBaselineStore(),
    notifier,
    new NotificationGrouper(() => input.policy.groupWindowSeconds * 1000),
    { now: () => now },
    new Map([[input.useCase, { policy: input.policy, inference: input.inference }]]),
  );
  // Devices advance together in time, so caps and grouping see the fleet as it happened.
  const all = [...input.devices.values()].flat().sort((a, b) => a.time - b.time);
  const CHUNK_MS = 60_000;
  let index = 0;
  let deviceDays = 0;
  for (const readings of input.devices.values()) {
    const first = readings[0]?.time;
    const last = readings[readings.length - 1]?.time;
    if (first !== undefined && last !== undefined) deviceDays += Math.max(last - first, 1000) / DAY_MS;
  }
  while (index < all.length) {
    const chunkEnd = (all[index]?.time ?? 0) + CHUNK_MS;
    const byDevice = new Map<string, InferenceRecord[]>();
    while (index < all.length && (all[index]?.time ?? 0) < chunkEnd) {
      const reading = all[index];
      index += 1;
      if (!reading) continue;
      byDevice.set(reading.deviceId, [...(byDevice.get(reading.deviceId) ?? []), reading]);
    }
    now = chunkEnd;
    await service.process(
      [...byDevice].map(([deviceId, inferences]) => ({ useCase: input.useCase, deviceId, inferences })),
    );
    await service.flushNotifications();
  }
  await service.flushNotifications(true);

  const alerts = [...store.alerts.values()];
  const caught = delaysOf(alerts, input.anomalies ?? []);
  const onNormal = alerts.filter((a) =>
    (input.normal ?? []).some((w) => w.deviceId === a.deviceId && a.openedAt >= w.from && a.openedAt <= w.to),
  ).length;
  const count = (rule: string) => store.suppressions.filter((s) => s.rule === rule).length;
  return {
    devices: input.devices.size,
    deviceDays,
    alerts: alerts.length,
    notified: alerts.filter((a) => a.delivery === 'notify').length,
    digest: alerts.filter((a) => a.delivery === 'digest').length,
    alertsPerDeviceDay: deviceDays > 0 ? alerts.length / deviceDays : 0,
    notifications: notifier.notifications,
    suppressed: { silence: count('silence'), cooldown: count('cooldown'), cap: count('cap') },
    events: input.anomalies?.length ?? 0,
    eventsCaught: caught.length,
    medianDelaySeconds: median(caught),
    alertsOnNormal: onNormal,
    spans: alerts.map((a) => ({
      deviceId: a.deviceId,
      from: a.openedAt,
      to: a.clearedAt ?? a.lastAnomalyAt,
    })),
  };
}
