import type { UseCaseManifest } from '../../usecase/manifest.ts';
import { DAY_MS, type KpiReads } from '../kpi.ts';
import type { MvSpec } from './baseline-spec.ts';
import type { BaselineModel } from './change-point.ts';
import { defaultFitLimits, type FitLimits, type FitStatistics } from './fit-statistics.ts';
import { INTERVAL_MS, periodPoints, type TimedPoint } from './intervals.ts';
import {
  measureSavings,
  type FittedInterval,
  type ReportingInterval,
  type SavingsTotals,
} from './savings.ts';

/**
 * A KPI's measurement and verification from the store: its baseline period resolved to dates,
 * the points of the baseline and reporting periods read, the model fitted and judged, and the
 * savings so far. What `aiot kpi report`, the console and the bench show.
 */

type Kpi = UseCaseManifest['kpis'][number];

export interface MvReport {
  readonly status: 'qualified' | 'refused' | 'too little data';
  /** Why the baseline does not qualify, or what it lacks: empty when qualified. */
  readonly reasons: readonly string[];
  /** The unit of one interval's quantity: "EUR" of "EUR/month". */
  readonly unit: string;
  readonly interval: MvSpec['interval'];
  readonly form: MvSpec['form'];
  readonly variables: readonly string[];
  /** [from, to) of the baseline, and the start of reporting (ISO dates), when the data has begun. */
  readonly baselinePeriod: { readonly from: string; readonly to: string } | null;
  readonly reportingFrom: string | null;
  readonly limits: FitLimits;
  readonly fit: FitStatistics | null;
  readonly model: BaselineModel | null;
  /** Baseline intervals as measured and as the model fits them. */
  readonly fitted: readonly FittedInterval[];
  readonly reporting: readonly ReportingInterval[];
  readonly totals: SavingsTotals | null;
}

/** A report's figures without its intervals: what the console shows (an hourly baseline holds thousands). */
export type MvFigures = Omit<MvReport, 'fitted' | 'reporting'> & { readonly reportingIntervals: number };

export function mvFigures(report: MvReport): MvFigures {
  const { fitted: _fitted, reporting, ...figures } = report;
  return { ...figures, reportingIntervals: reporting.length };
}

const isoDate = (time: number) => new Date(time).toISOString().slice(0, 10);
const dayOf = (text: string) => Date.parse(`${text}T00:00:00Z`);

/** The unit of one interval's quantity: the KPI's unit without its period. */
export function quantityUnit(unit: string, period: string): string {
  return unit.endsWith(`/${period}`) ? unit.slice(0, -`/${period}`.length) : unit;
}

/**
 * The baseline period as times, and when reporting starts: a declared one as written, or the
 * first full days from the use case's first reading (null before it has any).
 */
export async function resolvePeriods(
  useCase: string,
  spec: MvSpec,
  reads: KpiReads,
  now: number,
): Promise<{ baseline: { from: number; to: number }; reportingFrom: number } | null> {
  let baseline: { from: number; to: number };
  if ('from' in spec.baselinePeriod) {
    baseline = { from: dayOf(spec.baselinePeriod.from), to: dayOf(spec.baselinePeriod.to) };
  } else {
    const first = await reads.firstReading(useCase, 0, now);
    if (first === null) return null;
    // The first day with data all day: the one after the first reading's, unless that began at midnight.
    const from = Math.ceil(first / DAY_MS) * DAY_MS;
    baseline = { from, to: from + spec.baselinePeriod.firstDays * DAY_MS };
  }
  const reportingFrom = spec.reportingFrom === undefined ? baseline.to : dayOf(spec.reportingFrom);
  return { baseline, reportingFrom };
}

/** Where a report's points come from: [from, to) of the KPI, whole intervals only. */
export type PointsOf = (from: number, to: number) => Promise<readonly TimedPoint[]>;

/**
 * The M&V of one KPI with a baseline, as of `now` (reporting ends at its last whole interval).
 * Its points are computed from the readings unless `pointsOf` serves them (those a store kept).
 */
export async function mvReport(
  manifest: Pick<UseCaseManifest, 'id'>,
  kpi: Kpi & { readonly mv: MvSpec },
  reads: KpiReads,
  now: number,
  pointsOf?: PointsOf,
): Promise<MvReport> {
  const spec = kpi.mv;
  const base = {
    unit: quantityUnit(kpi.baseline.unit, kpi.period),
    interval: spec.interval,
    form: spec.form,
    variables: Object.keys(spec.variables),
    limits: spec.limits ?? defaultFitLimits(spec.interval),
  };
  const empty = { fit: null, model: null, fitted: [], reporting: [], totals: null };
  const computation = kpi.compute;
  const periods = await resolvePeriods(manifest.id, spec, reads, now);
  if (!computation || !periods)
    return {
      ...base,
      ...empty,
      status: 'too little data',
      reasons: [computation ? 'the store has no readings of this use case yet' : 'the KPI is not computed'],
      baselinePeriod: null,
      reportingFrom: null,
    };
  const end = Math.floor(now / INTERVAL_MS[spec.interval]) * INTERVAL_MS[spec.interval];
  const read = (from: number, to: number) =>
    pointsOf
      ? pointsOf(from, Math.min(to, end))
      : periodPoints(manifest.id, kpi.id, computation, spec, from, Math.min(to, end), reads);
  const dates = {
    baselinePeriod: { from: isoDate(periods.baseline.from), to: isoDate(periods.baseline.to) },
    reportingFrom: isoDate(periods.reportingFrom),
  };
  // A model fitted on part of its period would change as the rest comes in: wait for all of it.
  if (end < periods.baseline.to)
    return {
      ...base,
      ...dates,
      ...empty,
      status: 'too little data',
      reasons: [
        `the baseline period runs until ${dates.baselinePeriod.to} (${Math.max(0, Math.floor((end - periods.baseline.from) / DAY_MS))} of ${Math.round((periods.baseline.to - periods.baseline.from) / DAY_MS)} days so far)`,
      ],
    };
  const baselinePoints = await read(periods.baseline.from, periods.baseline.to);
  const reportingPoints = periods.reportingFrom < end ? await read(periods.reportingFrom, end) : [];
  const outcome = measureSavings(
    { ...base, variables: base.variables, changePointOn: spec.changePointOn },
    baselinePoints,
    reportingPoints,
  );
  if (outcome.status === 'qualified')
    return { ...base, ...dates, ...outcome, reasons: [], model: outcome.model, fit: outcome.fit };
  return {
    ...base,
    ...dates,
    ...empty,
    status: outcome.status,
    reasons: outcome.reasons,
    ...('fit' in outcome ? { fit: outcome.fit ?? null, model: outcome.model ?? null } : {}),
  };
}
