import { alarmMeasures, type AlarmMeasure } from '../alerts/alarm-measures.ts';
import { alarmPerformance, type AlarmPerformance, type SourceLoad } from '../alerts/alarm-performance.ts';
import type { Alert } from '../alerts/lifecycle.ts';
import { numberOrNull } from '../stores/cell-values.ts';
import { groupOf } from '../alerts/policy.ts';
import type { Silence } from '../alerts/ports.ts';
import type { BaselineState } from '../baseline/ports.ts';
import { kpiStanding, targetRange, type KpiStanding } from '../kpi/report.ts';
import type { KpiDay } from '../kpi/kpi.ts';
import type { UseCaseManifest } from '../usecase/manifest.ts';
import type { DeviceActivity, EdgeHealthSnapshot, ModelVersionView, SensorColumn, Series } from './ports.ts';

const DAY_MS = 24 * 3600_000;
/** A device is online when it was heard from within this many heartbeats (and at least 2 minutes). */
const ONLINE_HEARTBEATS = 3;
const MIN_ONLINE_WINDOW_MS = 120_000;
/** Plots get at most this many points: enough for a phone's width, light over a plant's Wi-Fi. */
export const MAX_PLOT_POINTS = 600;

/** A device's baseline state as people read it. */
export function deviceSummary(state: BaselineState) {
  return {
    useCase: state.useCase,
    deviceId: state.deviceId,
    state: state.calibration ? ('calibrating' as const) : ('monitoring' as const),
    baselineVersion: state.active?.version ?? null,
    baselineReason: state.active?.reason ?? null,
    activatedAt: state.active ? new Date(state.active.activatedAt).toISOString() : null,
    calibration: state.calibration
      ? {
          reason: state.calibration.reason,
          since:
            state.calibration.since === null
              ? 'next reading'
              : new Date(state.calibration.since).toISOString(),
          collected: state.calibration.collected,
          requestedBy: state.calibration.requestedBy,
          note: state.calibration.note,
        }
      : null,
  };
}

export type DeviceSummary = ReturnType<typeof deviceSummary>;

/** One row of the fleet view. */
export interface FleetDevice {
  readonly useCase: string;
  readonly deviceId: string;
  /** The alert policy's group: a site or a line. */
  readonly group: string;
  readonly online: boolean;
  readonly lastSeenAt: number | null;
  /** Readings buffered on the device and the age of the oldest, from its last health report. */
  readonly backlog: number | null;
  readonly oldestBufferedSeconds: number | null;
  readonly state: 'calibrating' | 'monitoring' | 'not scored';
  /** Calibration progress while calibrating: readings collected of those needed. */
  readonly calibration: { readonly collected: number; readonly needed: number } | null;
  readonly baselineVersion: number | null;
  readonly modelVersion: string | null;
  readonly openAlerts: number;
}

/** The fleet: every device known from its readings, health reports or baseline. */
export function fleetView(
  manifests: readonly UseCaseManifest[],
  baselines: readonly BaselineState[],
  activity: readonly DeviceActivity[],
  openAlerts: readonly Alert[],
  now: number,
): FleetDevice[] {
  const key = (useCase: string, deviceId: string) => `${useCase}\u0000${deviceId}`;
  const byKey = new Map<string, { baseline?: BaselineState; activity?: DeviceActivity }>();
  for (const state of baselines) byKey.set(key(state.useCase, state.deviceId), { baseline: state });
  for (const entry of activity) {
    const known = byKey.get(key(entry.useCase, entry.deviceId)) ?? {};
    byKey.set(key(entry.useCase, entry.deviceId), { ...known, activity: entry });
  }
  const alertCounts = new Map<string, number>();
  for (const alert of openAlerts) {
    const k = key(alert.useCase, alert.deviceId);
    alertCounts.set(k, (alertCounts.get(k) ?? 0) + 1);
  }
  const manifestsById = new Map(manifests.map((m) => [m.id, m]));
  const rows: FleetDevice[] = [];
  for (const [k, { baseline, activity: seen }] of byKey) {
    const useCase = baseline?.useCase ?? seen?.useCase ?? '';
    const deviceId = baseline?.deviceId ?? seen?.deviceId ?? '';
    const manifest = manifestsById.get(useCase);
    if (!manifest) continue;
    const heartbeatMs = (manifest.edge?.heartbeatSeconds ?? 60) * 1000;
    const lastSeenAt = latest(seen?.lastReadingAt ?? null, seen?.health?.receivedAt ?? null);
    const calibrating = baseline?.calibration;
    rows.push({
      useCase,
      deviceId,
      group: groupOf(manifest.alerts, useCase, deviceId),
      online:
        lastSeenAt !== null &&
        now - lastSeenAt <= Math.max(MIN_ONLINE_WINDOW_MS, ONLINE_HEARTBEATS * heartbeatMs),
      lastSeenAt,
      backlog: seen?.health?.queueDepth ?? null,
      oldestBufferedSeconds: seen?.health?.oldestAgeSeconds ?? null,
      state: !baseline ? 'not scored' : calibrating ? 'calibrating' : 'monitoring',
      calibration: calibrating
        ? { collected: calibrating.collected, needed: manifest.alerts.calibrationReadings }
        : null,
      baselineVersion: baseline?.active?.version ?? null,
      modelVersion: seen?.modelVersion ?? baseline?.active?.baseline.modelVersion ?? null,
      openAlerts: alertCounts.get(k) ?? 0,
    });
  }
  return rows.sort((a, b) => a.useCase.localeCompare(b.useCase) || a.deviceId.localeCompare(b.deviceId));
}

function latest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

/** Alerts opened on one day (UTC), and what that means per device. */
export interface DailyAlertLoad {
  readonly day: string;
  readonly alerts: number;
  readonly perDevice: number;
}

export interface UseCaseSummary {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly kpis: readonly {
    readonly id: string;
    readonly description: string;
    readonly baseline: { readonly value: number; readonly unit: string };
    /** The target as written ("-30%") and the value it means, from the baseline. */
    readonly target: string;
    readonly targetValue: { readonly low: number; readonly high: number };
    readonly measuredBy: string;
    /** The sensors and inferences that serve this KPI. */
    readonly servedBy: readonly string[];
    /** The period the value covers ("month"). */
    readonly period: string;
    /**
     * Its value over the window's full days of data, as the KPI schedule kept them, and where it
     * stands; null for a KPI measured outside the pipeline.
     */
    readonly standing: KpiStanding | null;
  }[];
  readonly devices: number;
  readonly openAlerts: number;
  readonly days: number;
  readonly alertLoad: readonly DailyAlertLoad[];
  /** Of the alerts answered in the window, the share closed as false positives: operators' trust as a number. */
  readonly verdicts: {
    readonly falsePositives: number;
    readonly confirmed: number;
    readonly falsePositiveShare: number | null;
    readonly byReason: Readonly<Record<string, number>>;
  };
  /** The last day's alarm load for one operator position, as ISA-18.2 reads it. */
  readonly alarmLoad: AlarmLoad;
  /** The newest model versions, candidates among them; null where the API has no registry to read. */
  readonly models: readonly ModelVersionView[] | null;
}

export interface AlarmLoad {
  readonly hours: number;
  readonly measures: readonly AlarmMeasure[];
  readonly badActors: readonly SourceLoad[];
  readonly chattering: AlarmPerformance['chattering'];
  readonly stale: readonly Pick<Alert, 'id' | 'deviceId' | 'status' | 'openedAt'>[];
}

/** The alarm figures of the alerts opened in the last `hours` before `now` (one position). */
export function alarmLoad(alerts: readonly Alert[], now: number, hours = 24): AlarmLoad {
  const report = alarmPerformance(alerts, { from: now - hours * 3_600_000, to: now + 1 });
  return {
    hours,
    measures: alarmMeasures(report),
    badActors: report.badActors,
    chattering: report.chattering,
    stale: report.stale.map(({ id, deviceId, status, openedAt }) => ({ id, deviceId, status, openedAt })),
  };
}

/**
 * Each computed KPI over the `days` full days before `now`, from the days the KPI schedule kept:
 * a day it has not kept counts as no data.
 */
function standings(
  manifest: UseCaseManifest,
  kept: readonly KpiDay[],
  now: number,
  days: number,
): Map<string, KpiStanding> {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const dayStarts = Array.from({ length: days }, (_, index) => today - (days - index) * DAY_MS);
  const result = new Map<string, KpiStanding>();
  for (const kpi of manifest.kpis) {
    const compute = kpi.compute;
    if (!compute) continue;
    const perDay = dayStarts.map(
      (day): KpiDay =>
        kept.find((row) => row.kpi === kpi.id && row.day === day) ?? {
          useCase: manifest.id,
          kpi: kpi.id,
          day,
          numerator: 0,
          denominator: 0,
          coverage: 0,
        },
    );
    result.set(kpi.id, kpiStanding({ ...kpi, compute }, perDay));
  }
  return result;
}

/** A use case's page: its KPIs (with their kept daily values) and what its alerts cost and earn. */
export function useCaseSummary(
  manifest: UseCaseManifest,
  alerts: readonly Alert[],
  devices: number,
  now: number,
  days: number,
  kept: readonly KpiDay[] = [],
): UseCaseSummary {
  const figures = standings(manifest, kept, now, days);
  const firstDay = Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS;
  const perDay = new Map<number, number>();
  for (let day = firstDay; day <= now; day += DAY_MS) perDay.set(day, 0);
  const inWindow = alerts.filter((alert) => alert.openedAt >= firstDay);
  for (const alert of inWindow) {
    const day = Math.floor(alert.openedAt / DAY_MS) * DAY_MS;
    perDay.set(day, (perDay.get(day) ?? 0) + 1);
  }
  const falsePositives = inWindow.filter((alert) => alert.verdict?.kind === 'false-positive');
  const confirmed = inWindow.filter((alert) => alert.verdict?.kind === 'confirmed').length;
  const byReason: Record<string, number> = {};
  for (const alert of falsePositives) {
    if (alert.verdict?.kind !== 'false-positive') continue;
    byReason[alert.verdict.reason] = (byReason[alert.verdict.reason] ?? 0) + 1;
  }
  const answered = falsePositives.length + confirmed;
  return {
    id: manifest.id,
    name: manifest.name,
    description: manifest.description,
    kpis: manifest.kpis.map((kpi) => ({
      id: kpi.id,
      description: kpi.description,
      baseline: kpi.baseline,
      target: kpi.target.text,
      targetValue: targetRange(kpi),
      measuredBy: kpi.measuredBy,
      period: kpi.period,
      standing: figures.get(kpi.id) ?? null,
      servedBy: [
        ...manifest.sensors.filter((s) => s.kpi === kpi.id).map((s) => s.field),
        ...manifest.inferences.filter((i) => i.kpi === kpi.id).map((i) => `inference ${i.id}`),
      ],
    })),
    devices,
    openAlerts: alerts.filter((alert) => alert.status === 'open').length,
    days,
    alertLoad: [...perDay].map(([day, count]) => ({
      day: new Date(day).toISOString().slice(0, 10),
      alerts: count,
      perDevice: devices > 0 ? round(count / devices) : 0,
    })),
    verdicts: {
      falsePositives: falsePositives.length,
      confirmed,
      falsePositiveShare: answered > 0 ? round(falsePositives.length / answered) : null,
      byReason,
    },
    alarmLoad: alarmLoad(alerts, now),
    models: null,
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Whether a silence or maintenance window covers the device (now or later). */
export function silenceCovers(silence: Silence, manifest: UseCaseManifest, deviceId: string): boolean {
  if (silence.useCase !== manifest.id) return false;
  const { scope } = silence;
  if (scope.kind === 'use-case') return true;
  if (scope.kind === 'group') return scope.group === groupOf(manifest.alerts, manifest.id, deviceId);
  return scope.deviceId === deviceId;
}

/** The bucket width that keeps a plot of `from`..`to` under MAX_PLOT_POINTS (never below a second). */
export function bucketFor(from: number, to: number): number {
  return Math.max(1000, Math.ceil((to - from) / MAX_PLOT_POINTS / 1000) * 1000);
}

/**
 * Readings and scores, each already averaged per bucket by the store (rows with the bucket's start
 * as `t` and a value per column), on one time axis: null where one of them has no bucket.
 */
export function seriesFromBuckets(
  sensors: readonly SensorColumn[],
  readings: readonly Readonly<Record<string, unknown>>[],
  scores: readonly Readonly<Record<string, unknown>>[],
): Series {
  const times = [...new Set([...readings, ...scores].map((row) => Number(row.t)))].sort((a, b) => a - b);
  const readingAt = new Map(readings.map((row) => [Number(row.t), row]));
  const scoreAt = new Map(scores.map((row) => [Number(row.t), row]));
  return {
    times,
    values: Object.fromEntries(
      sensors.map(({ sensor, column }) => [
        sensor,
        times.map((t) => numberOrNull(readingAt.get(t)?.[column])),
      ]),
    ),
    scores: times.map((t) => numberOrNull(scoreAt.get(t)?.score)),
    thresholds: times.map((t) => numberOrNull(scoreAt.get(t)?.threshold)),
  };
}

/**
 * The devices of a use case heard from, scored or reporting health: when each was last heard from,
 * with which model, and its last health report. What the cloud stores' reads have in common.
 */
export function deviceActivities(
  useCase: string,
  lastReadingAt: ReadonlyMap<string, number | null>,
  modelVersion: ReadonlyMap<string, string | null>,
  health: ReadonlyMap<string, EdgeHealthSnapshot>,
): DeviceActivity[] {
  const devices = new Set([...lastReadingAt.keys(), ...modelVersion.keys(), ...health.keys()]);
  devices.delete('');
  return [...devices].map((deviceId) => ({
    useCase,
    deviceId,
    lastReadingAt: lastReadingAt.get(deviceId) ?? null,
    modelVersion: modelVersion.get(deviceId) ?? null,
    health: health.get(deviceId) ?? null,
  }));
}
