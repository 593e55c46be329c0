import type { Alert } from './lifecycle.ts';

/**
 * Alarm-system performance as plant managers read it (ISA-18.2 / IEC 62682, EEMUA 191): how many
 * alerts reached an operator position per day and per 10 minutes, how much of the time was in
 * flood, which few sources make most of the load, and which alerts chatter or go stale. Only
 * notified alerts count towards the load: a capped alert goes to the shift's digest and
 * interrupts nobody.
 */
export const TEN_MINUTES_MS = 10 * 60_000;
const DAY_MS = 24 * 3_600_000;

/** ISA-18.2's performance targets per operator position (its table of recommended metrics). */
export const ISA_18_2_TARGETS = {
  /** About 150 a day is very likely acceptable; 300 is the most one can manage. */
  perDay: { acceptable: 150, manageable: 300 },
  /** About 1 in 10 minutes is very likely acceptable; 2 is the most one can manage. */
  perTenMinutes: { acceptable: 1, manageable: 2 },
  /** A flood starts at 10 alerts in 10 minutes; below 1 % of the time in flood. */
  floodAlerts: 10,
  floodShare: 0.01,
  /** The 10 most frequent sources: 1 % to at most 5 % of the load. */
  topTenShare: 0.05,
  /** Chattering: zero. Stale (open over a day): fewer than 5 at any time. */
  staleAfterMs: DAY_MS,
  staleMax: 5,
} as const;

/** Chattering, as EEMUA 191 and ISA-18.2 count it: 3 or more from one source within a minute. */
export const CHATTER = { count: 3, windowMs: 60_000 } as const;

export interface AlarmSource {
  readonly useCase: string;
  readonly deviceId: string;
  readonly inference: string;
}

export interface SourceLoad extends AlarmSource {
  readonly alerts: number;
  readonly share: number;
}

export interface AlarmPerformance {
  readonly from: number;
  readonly to: number;
  readonly positions: number;
  /** Notified alerts opened in the window; digest ones are counted apart. */
  readonly alerts: number;
  readonly digest: number;
  readonly perPositionPerDay: number;
  readonly perPositionPerTenMinutes: number;
  /** The busiest 10 minutes of the window, per position. */
  readonly peakTenMinutes: number;
  /** Share of the window's 10-minute periods with `floodAlerts` or more per position. */
  readonly floodShare: number;
  /** The sources making most of the load, most first, at most 10. */
  readonly badActors: readonly SourceLoad[];
  readonly topTenShare: number;
  /** Sources that opened `CHATTER.count` or more within `CHATTER.windowMs`, with how often. */
  readonly chattering: readonly (AlarmSource & { readonly bursts: number })[];
  /** Alerts still open or acknowledged at `to`, opened over `staleAfterMs` before it. */
  readonly stale: readonly Alert[];
}

const sourceKey = (a: AlarmSource) => `${a.useCase}\u0000${a.deviceId}\u0000${a.inference}`;

/** How often one source's sorted opening times hold `count` within `windowMs` (non-overlapping bursts). */
function bursts(times: readonly number[]): number {
  let found = 0;
  for (let i = 0; i + CHATTER.count - 1 < times.length;) {
    const last = times[i + CHATTER.count - 1] ?? Infinity;
    if (last - (times[i] ?? 0) <= CHATTER.windowMs) {
      found += 1;
      i += CHATTER.count;
    } else i += 1;
  }
  return found;
}

/**
 * The alarm-system figures of the alerts opened in [from, to), for `positions` operator positions
 * sharing them (@default 1).
 */
export function alarmPerformance(
  alerts: readonly Alert[],
  window: { readonly from: number; readonly to: number; readonly positions?: number },
): AlarmPerformance {
  const { from, to } = window;
  const positions = window.positions ?? 1;
  if (!(to > from))
    throw new Error(`the report needs a window that ends after it starts, got ${from} to ${to}`);
  if (!Number.isInteger(positions) || positions < 1)
    throw new Error(`positions must be a whole number of at least 1, got ${positions}`);
  const inWindow = alerts.filter((a) => a.openedAt >= from && a.openedAt < to);
  const notified = inWindow.filter((a) => a.delivery === 'notify');
  const periods = Math.ceil((to - from) / TEN_MINUTES_MS);
  const perPeriod = new Array<number>(periods).fill(0);
  for (const a of notified) {
    const index = Math.floor((a.openedAt - from) / TEN_MINUTES_MS);
    perPeriod[index] = (perPeriod[index] ?? 0) + 1;
  }
  // Each source once, as its three names, with its opening times in order.
  const bySource = new Map<string, { source: AlarmSource; times: number[] }>();
  for (const a of [...notified].sort((x, y) => x.openedAt - y.openedAt)) {
    const entry = bySource.get(sourceKey(a)) ?? {
      source: { useCase: a.useCase, deviceId: a.deviceId, inference: a.inference },
      times: [],
    };
    entry.times.push(a.openedAt);
    bySource.set(sourceKey(a), entry);
  }
  const loads = [...bySource.values()]
    .map(({ source, times }) => ({
      ...source,
      alerts: times.length,
      share: times.length / Math.max(1, notified.length),
    }))
    .sort((a, b) => b.alerts - a.alerts || sourceKey(a).localeCompare(sourceKey(b)));
  const badActors = loads.slice(0, 10);
  const chattering = [...bySource.values()]
    .map(({ source, times }) => ({ ...source, bursts: bursts(times) }))
    .filter((s) => s.bursts > 0);
  const stale = alerts.filter(
    (a) =>
      (a.status === 'open' || a.status === 'acknowledged') && a.openedAt < to - ISA_18_2_TARGETS.staleAfterMs,
  );
  return {
    from,
    to,
    positions,
    alerts: notified.length,
    digest: inWindow.length - notified.length,
    perPositionPerDay: notified.length / positions / ((to - from) / DAY_MS),
    perPositionPerTenMinutes: notified.length / positions / ((to - from) / TEN_MINUTES_MS),
    peakTenMinutes: Math.max(0, ...perPeriod) / positions,
    floodShare:
      perPeriod.filter((n) => n / positions >= ISA_18_2_TARGETS.floodAlerts).length / Math.max(1, periods),
    badActors,
    topTenShare: badActors.reduce((sum, s) => sum + s.alerts, 0) / Math.max(1, notified.length),
    chattering,
    stale,
  };
}
