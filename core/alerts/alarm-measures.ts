import { CHATTER, ISA_18_2_TARGETS, type AlarmPerformance } from './alarm-performance.ts';

/** One line of the alarm-load report: the figure, ISA-18.2's target beside it, and whether it is met. */
export interface AlarmMeasure {
  readonly measure: string;
  readonly value: string;
  readonly target: string;
  /** Null where the target is no pass mark (the count itself, or few sources to share the load). */
  readonly met: boolean | null;
}

const fixed = (value: number, digits = 2) => value.toFixed(digits);
const percent = (share: number) => `${(100 * share).toFixed(1)}%`;

/**
 * The report's figures against the targets, worded once for `aiot alerts report` and the console's
 * use-case page. The share of the 10 worst sources is a target only with more than 10 sources.
 */
export function alarmMeasures(report: AlarmPerformance): AlarmMeasure[] {
  const t = ISA_18_2_TARGETS;
  return [
    {
      measure: 'alerts notified (digest apart)',
      value: `${report.alerts} (${report.digest} digest)`,
      target: '',
      met: null,
    },
    {
      measure: 'per position per day',
      value: fixed(report.perPositionPerDay, 1),
      target: `~${t.perDay.acceptable}, at most ${t.perDay.manageable}`,
      met: report.perPositionPerDay <= t.perDay.manageable,
    },
    {
      measure: 'per position per 10 minutes, average',
      value: fixed(report.perPositionPerTenMinutes),
      target: `~${t.perTenMinutes.acceptable}, at most ${t.perTenMinutes.manageable}`,
      met: report.perPositionPerTenMinutes <= t.perTenMinutes.manageable,
    },
    {
      measure: 'busiest 10 minutes',
      value: fixed(report.peakTenMinutes, 0),
      target: `under ${t.floodAlerts}`,
      met: report.peakTenMinutes < t.floodAlerts,
    },
    {
      measure: `time in flood (${t.floodAlerts}+ in 10 minutes)`,
      value: percent(report.floodShare),
      target: `under ${percent(t.floodShare)}`,
      met: report.floodShare < t.floodShare,
    },
    {
      measure: 'share of the 10 worst sources',
      value: percent(report.topTenShare),
      target: `under ${percent(t.topTenShare)} (with many sources)`,
      met: report.badActors.length < 10 ? null : report.topTenShare < t.topTenShare,
    },
    {
      measure: `chattering sources (${CHATTER.count}+ in a minute)`,
      value: String(report.chattering.length),
      target: '0',
      met: report.chattering.length === 0,
    },
    {
      measure: 'stale (open over a day)',
      value: String(report.stale.length),
      target: `under ${t.staleMax}`,
      met: report.stale.length < t.staleMax,
    },
  ];
}
