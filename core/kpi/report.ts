import type { UseCaseManifest } from '../usecase/manifest.ts';
import { computeKpiDay, DAY_MS, isAdditive, kpiValue, type KpiDay, type KpiReads } from './kpi.ts';

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
  /** The value over the report's days; null when the pipeline does not compute it or has no data. */
  readonly current: number | null;
  /** Change against the baseline, in percent. */
  readonly change: number | null;
  /** Whether the current value reaches the target (a reduction at or below its weakest bound). */
  readonly onTarget: boolean | null;
  /** Each day's value, oldest first, for the trend. */
  readonly trend: readonly { readonly day: string; readonly value: number | null }[];
  /** How the plant measures it (the manifest's `measuredBy`). */
  readonly measuredBy: string;
  /** The same, when the pipeline does not compute it: it is measured outside. */
  readonly measuredOutside: string | null;
}

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * Each KPI of a use case over the last `days` full days before `now`: its value, against its
 * baseline and target, and its daily trend. Days already computed (the `kpis` table) are taken
 * from `known`; the rest are computed from the store.
 */
export async function kpiReport(
  manifest: UseCaseManifest,
  reads: KpiReads,
  now: number,
  days: number,
  known: readonly KpiDay[] = [],
): Promise<KpiReportRow[]> {
  if (!Number.isInteger(days) || days < 1 || days > 366)
    throw new Error(`days must be a whole number from 1 to 366, got ${days}`);
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const dayStarts = Array.from({ length: days }, (_, index) => today - (days - index) * DAY_MS);
  const rows: KpiReportRow[] = [];
  for (const kpi of manifest.kpis) {
    const { low, high } = kpi.target;
    const targetRange = {
      low: round(kpi.baseline.value * (1 + low / 100)),
      high: round(kpi.baseline.value * (1 + high / 100)),
    };
    const common = {
      useCase: manifest.id,
      kpi: kpi.id,
      description: kpi.description,
      unit: kpi.baseline.unit,
      period: kpi.period,
      baseline: kpi.baseline.value,
      target: kpi.target.text,
      targetRange,
      measuredBy: kpi.measuredBy,
    };
    const computation = kpi.compute;
    if (!computation) {
      rows.push({
        ...common,
        current: null,
        change: null,
        onTarget: null,
        trend: [],
        measuredOutside: kpi.measuredBy,
      });
      continue;
    }
    const perDay: KpiDay[] = [];
    for (const day of dayStarts) {
      perDay.push(
        known.find((row) => row.kpi === kpi.id && row.useCase === manifest.id && row.day === day) ??
          (await computeKpiDay(manifest.id, kpi.id, computation, day, reads)),
      );
    }
    const additive = isAdditive(computation);
    const current = kpiValue(perDay, additive, kpi.period);
    // A reduction is met at its weakest bound (-12% of "-18% to -12%"); an increase at its lowest.
    const reduction = high <= 0;
    rows.push({
      ...common,
      current: current === null ? null : round(current),
      change:
        current === null || kpi.baseline.value === 0
          ? null
          : round(((current - kpi.baseline.value) / kpi.baseline.value) * 100, 1),
      onTarget:
        current === null ? null : reduction ? current <= targetRange.high : current >= targetRange.low,
      trend: perDay.map((day) => {
        const value = kpiValue([day], additive, kpi.period);
        return {
          day: new Date(day.day).toISOString().slice(0, 10),
          value: value === null ? null : round(value),
        };
      }),
      measuredOutside: null,
    });
  }
  return rows;
}
