import type { UseCaseManifest } from '../usecase/manifest.ts';
import { computeKpiDay } from './computations.ts';
import {
  DAY_MS,
  isAdditive,
  isFullDay,
  kpiValue,
  PERIOD_DAYS,
  type KpiDay,
  type KpiPeriod,
  type KpiReads,
} from './kpi.ts';
import { mvReport, type MvReport } from './mv/mv-report.ts';
import { isFinal, type StoredKpiDay } from './schedule.ts';

/**
 * Where a KPI stands: against its target, or why no verdict is given yet. A verdict needs enough
 * full days of data: a week, or the KPI's period when that is shorter.
 */
export type KpiStatus = 'on target' | 'not yet' | 'too little data' | 'measured outside';

export interface KpiReportRow {
  readonly useCase: string;
  readonly kpi: string;
  readonly description: string;
  readonly unit: string;
  readonly period: string;
  readonly baseline: number;
  /** The target as written, and the values it means from the baseline (low..high). */
  readonly target: string;
  readonly targetRange: { readonly low: number; readonly high: number };
  /** The value over the report's full days of data; null when the pipeline does not compute it or has none. */
  readonly current: number | null;
  /** Change against the baseline, in percent. */
  readonly change: number | null;
  /** Whether the current value reaches the target; null without a verdict (see `status`). */
  readonly onTarget: boolean | null;
  readonly status: KpiStatus;
  /** Days the report covers, and those with a full day of data: only these make `current`. */
  readonly days: number;
  readonly fullDays: number;
  /** Full days a verdict needs. */
  readonly daysNeeded: number;
  /** Each day's value, oldest first, for the trend: null for a day without a full day of data. */
  readonly trend: readonly { readonly day: string; readonly value: number | null }[];
  /** How the plant measures it (the manifest's `measuredBy`). */
  readonly measuredBy: string;
  /** The same, when the pipeline does not compute it: it is measured outside. */
  readonly measuredOutside: string | null;
  /** Savings against the KPI's measured baseline (M&V), when the manifest declares one. */
  readonly mv: MvReport | null;
}

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Full days of data a KPI needs before the report says whether it is on target. */
export function daysNeeded(period: KpiPeriod): number {
  return Math.min(7, PERIOD_DAYS[period]);
}

/** The values a KPI's target means, from its baseline: "-18% to -12%" of 9800 is 8036 to 8624. */
export function targetRange(kpi: Pick<UseCaseManifest['kpis'][number], 'baseline' | 'target'>): {
  readonly low: number;
  readonly high: number;
} {
  return {
    low: round(kpi.baseline.value * (1 + kpi.target.low / 100)),
    high: round(kpi.baseline.value * (1 + kpi.target.high / 100)),
  };
}

/** What a KPI's days add up to: its value over the full ones, against the baseline and target. */
export interface KpiStanding {
  readonly current: number | null;
  readonly change: number | null;
  readonly onTarget: boolean | null;
  readonly status: Exclude<KpiStatus, 'measured outside'>;
  readonly fullDays: number;
  readonly daysNeeded: number;
  readonly trend: readonly { readonly day: string; readonly value: number | null }[];
}

type ComputedKpi = UseCaseManifest['kpis'][number] & {
  readonly compute: NonNullable<UseCaseManifest['kpis'][number]['compute']>;
};

/**
 * A computed KPI over its days (in order, one per day; a day without a full day of data counts
 * for nothing): the report's and the console's figures alike.
 */
export function kpiStanding(kpi: ComputedKpi, perDay: readonly KpiDay[]): KpiStanding {
  const additive = isAdditive(kpi.compute);
  const current = kpiValue(perDay, additive, kpi.period);
  const fullDays = perDay.filter(isFullDay).length;
  const needed = daysNeeded(kpi.period);
  const range = targetRange(kpi);
  // A reduction is met at its weakest bound (-12% of "-18% to -12%"); an increase at its lowest.
  const onTarget =
    current === null || fullDays < needed
      ? null
      : kpi.target.high <= 0
        ? current <= range.high
        : current >= range.low;
  return {
    current: current === null ? null : round(current),
    change:
      current === null || kpi.baseline.value === 0
        ? null
        : round(((current - kpi.baseline.value) / kpi.baseline.value) * 100, 1),
    onTarget,
    status: onTarget === null ? 'too little data' : onTarget ? 'on target' : 'not yet',
    fullDays,
    daysNeeded: needed,
    trend: perDay.map((day) => {
      const value = kpiValue([day], additive, kpi.period);
      return {
        day: new Date(day.day).toISOString().slice(0, 10),
        value: value === null ? null : round(value),
      };
    }),
  };
}

/** The days of the report for one KPI: kept ones that stand, the rest computed now. */
async function daysOf(
  manifest: UseCaseManifest,
  kpiId: string,
  computation: NonNullable<UseCaseManifest['kpis'][number]['compute']>,
  dayStarts: readonly number[],
  reads: KpiReads,
  known: readonly StoredKpiDay[],
): Promise<KpiDay[]> {
  const perDay: KpiDay[] = [];
  for (const day of dayStarts) {
    const kept = known.find((row) => row.kpi === kpiId && row.useCase === manifest.id && row.day === day);
    perDay.push(
      kept && isFinal(kept) ? kept : await computeKpiDay(manifest.id, kpiId, computation, day, reads),
    );
  }
  return perDay;
}

/**
 * Each KPI of a use case over the last `days` full days before `now`: its value over the days with
 * data, against its baseline and target, and its daily trend. Days the runtime kept that stand are
 * taken from `known`; the rest are computed from the store.
 */
export async function kpiReport(
  manifest: UseCaseManifest,
  reads: KpiReads,
  now: number,
  days: number,
  known: readonly StoredKpiDay[] = [],
): Promise<KpiReportRow[]> {
  if (!Number.isInteger(days) || days < 1 || days > 366)
    throw new Error(`days must be a whole number from 1 to 366, got ${days}`);
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const dayStarts = Array.from({ length: days }, (_, index) => today - (days - index) * DAY_MS);
  const rows: KpiReportRow[] = [];
  for (const kpi of manifest.kpis) {
    const common = {
      useCase: manifest.id,
      kpi: kpi.id,
      description: kpi.description,
      unit: kpi.baseline.unit,
      period: kpi.period,
      baseline: kpi.baseline.value,
      target: kpi.target.text,
      targetRange: targetRange(kpi),
      measuredBy: kpi.measuredBy,
      days,
      daysNeeded: daysNeeded(kpi.period),
    };
    const computation = kpi.compute;
    if (!computation) {
      rows.push({
        ...common,
        ...{
          current: null,
          change: null,
          onTarget: null,
          status: 'measured outside',
          fullDays: 0,
          trend: [],
        },
        measuredOutside: kpi.measuredBy,
        mv: null,
      });
      continue;
    }
    const perDay = await daysOf(manifest, kpi.id, computation, dayStarts, reads, known);
    rows.push({
      ...common,
      ...kpiStanding({ ...kpi, compute: computation }, perDay),
      measuredOutside: null,
      mv: kpi.mv ? await mvReport(manifest, { ...kpi, mv: kpi.mv }, reads, now) : null,
    });
  }
  return rows;
}
