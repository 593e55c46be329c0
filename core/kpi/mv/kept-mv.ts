import { DAY_MS, type KpiReads } from '../kpi.ts';
import { KPI_BACKFILL_DAYS, KPI_SETTLE_MS } from '../schedule.ts';
import type { UseCaseManifest } from '../../usecase/manifest.ts';
import type { MvSpec } from './baseline-spec.ts';
import type { BaselineModel } from './change-point.ts';
import { INTERVAL_MS, intervalPoint, intervalStarts, type TimedPoint } from './intervals.ts';
import { mvReport, resolvePeriods, type MvReport } from './mv-report.ts';

/**
 * M&V as the KPI schedules keep it: each interval's point (the KPI's quantity and the variables)
 * computed once, when late data can no longer change it, like a KPI day; the baseline fitted and
 * the savings measured from the kept points on every run. A run reads at most a fortnight of
 * readings per KPI, so a schedule that starts a year late catches up over a few runs instead of
 * reading the year at once.
 */

type Kpi = UseCaseManifest['kpis'][number];
type MvKpi = Kpi & { readonly mv: MvSpec };

/** One M&V interval as a store keeps it. */
export interface KeptMvPoint {
  readonly useCase: string;
  readonly kpi: string;
  /** Start of the interval (epoch ms). */
  readonly from: number;
  /** The KPI's quantity over the interval; null where the interval had no full data (left out of the fit). */
  readonly y: number | null;
  readonly x: Readonly<Record<string, number>>;
  readonly computedAt: number;
}

/** A KPI's savings as a store keeps them: the figures of `aiot kpi report`, flat. */
export interface KeptSavings {
  readonly useCase: string;
  readonly kpi: string;
  readonly computedAt: number;
  readonly status: MvReport['status'];
  readonly reasons: readonly string[];
  readonly unit: string;
  readonly interval: MvSpec['interval'];
  /** ISO dates: [from, to) of the baseline, and the start of reporting; null before data. */
  readonly baselineFrom: string | null;
  readonly baselineTo: string | null;
  readonly reportingFrom: string | null;
  readonly cvRmsePct: number | null;
  readonly nmbePct: number | null;
  readonly r2: number | null;
  readonly reportingIntervals: number;
  /** Reporting-period totals: measured, what the baseline predicts, and their difference. */
  readonly measured: number | null;
  readonly predicted: number | null;
  readonly savings: number | null;
  readonly savingsPct: number | null;
  readonly uncertainty68Pct: number | null;
  readonly uncertainty90Pct: number | null;
  /** The fitted model, for an analyst to predict an interval by hand. */
  readonly model: BaselineModel | null;
}

/** Readings a run reads per KPI at most: the rest of a catch-up waits for the next run. */
export const MV_READ_BUDGET_MS = 14 * DAY_MS;

/**
 * Whether a kept point stands: computed once late data could no longer change it. An interval
 * without data is computed again while a backlog may still fill it (the backfill week).
 */
export function mvPointStands(point: KeptMvPoint, interval: MvSpec['interval']): boolean {
  const end = point.from + INTERVAL_MS[interval];
  const settled = point.y === null ? end + KPI_BACKFILL_DAYS * DAY_MS : end + KPI_SETTLE_MS;
  return point.computedAt >= settled;
}

/** The KPIs of a use case that have a baseline and are computed from readings (`sql` runs locally only where allowed). */
export function mvKpis(manifest: UseCaseManifest, runsSql: boolean): MvKpi[] {
  return manifest.kpis.flatMap((kpi) =>
    kpi.mv && kpi.compute && (runsSql || !('sql' in kpi.compute)) ? [{ ...kpi, mv: kpi.mv }] : [],
  );
}

/**
 * The points of one KPI a run computes: the whole intervals from the baseline's start to `now`
 * that do not stand among `kept`, oldest first, within the read budget.
 */
export async function computeMvPoints(
  useCase: string,
  kpi: MvKpi,
  reads: KpiReads,
  kept: readonly KeptMvPoint[],
  now: number,
  budgetMs: number = MV_READ_BUDGET_MS,
): Promise<KeptMvPoint[]> {
  const computation = kpi.compute;
  const periods = await resolvePeriods(useCase, kpi.mv, reads, now);
  if (!computation || !periods) return [];
  const standing = new Set(kept.filter((point) => mvPointStands(point, kpi.mv.interval)).map((p) => p.from));
  const start = Math.min(periods.baseline.from, periods.reportingFrom);
  const step = INTERVAL_MS[kpi.mv.interval];
  const due = intervalStarts(start, now, kpi.mv.interval).filter((from) => !standing.has(from));
  const computed: KeptMvPoint[] = [];
  for (const from of due.slice(0, Math.max(1, Math.floor(budgetMs / step)))) {
    const point = await intervalPoint(useCase, kpi.id, computation, kpi.mv, from, reads);
    computed.push({ useCase, kpi: kpi.id, from, y: point?.y ?? null, x: point?.x ?? {}, computedAt: now });
  }
  return computed;
}

/** The savings from the kept points, once every interval of the baseline period is kept. */
export async function keptSavings(
  useCase: string,
  kpi: MvKpi,
  reads: KpiReads,
  kept: readonly KeptMvPoint[],
  now: number,
): Promise<{ readonly savings: KeptSavings; readonly report: MvReport }> {
  const byStart = new Map(kept.map((point) => [point.from, point]));
  const pointsOf = (from: number, to: number): Promise<TimedPoint[]> =>
    Promise.resolve(
      intervalStarts(from, to, kpi.mv.interval).flatMap((start) => {
        const point = byStart.get(start);
        return point && point.y !== null ? [{ from: start, y: point.y, x: point.x }] : [];
      }),
    );
  let report = await mvReport({ id: useCase }, kpi, reads, now, pointsOf);
  // The report resolved the baseline period already (a store query): its dates, not a second query.
  const baseline = report.baselinePeriod && {
    from: Date.parse(`${report.baselinePeriod.from}T00:00:00Z`),
    to: Date.parse(`${report.baselinePeriod.to}T00:00:00Z`),
  };
  if (baseline && now >= baseline.to) {
    const starts = intervalStarts(baseline.from, baseline.to, kpi.mv.interval);
    const missing = starts.filter((start) => !byStart.has(start)).length;
    // A model fitted on part of its period would change as the rest is computed: wait for all of it.
    if (missing > 0)
      report = {
        ...report,
        status: 'too little data',
        reasons: [
          `the baseline is being computed: ${starts.length - missing} of ${starts.length} ${kpi.mv.interval}s so far`,
        ],
        fit: null,
        model: null,
        fitted: [],
        reporting: [],
        totals: null,
      };
  }
  return { savings: flatSavings(useCase, kpi.id, report, now), report };
}

function flatSavings(useCase: string, kpi: string, report: MvReport, computedAt: number): KeptSavings {
  return {
    useCase,
    kpi,
    computedAt,
    status: report.status,
    reasons: report.reasons,
    unit: report.unit,
    interval: report.interval,
    baselineFrom: report.baselinePeriod?.from ?? null,
    baselineTo: report.baselinePeriod?.to ?? null,
    reportingFrom: report.reportingFrom,
    cvRmsePct: report.fit?.cvRmsePct ?? null,
    nmbePct: report.fit?.nmbePct ?? null,
    r2: report.fit?.r2 ?? null,
    reportingIntervals: report.reporting.length,
    measured: report.totals?.measured ?? null,
    predicted: report.totals?.predicted ?? null,
    savings: report.totals?.savings ?? null,
    savingsPct: report.totals?.savingsPct ?? null,
    uncertainty68Pct: report.totals?.uncertainty68Pct ?? null,
    uncertainty90Pct: report.totals?.uncertainty90Pct ?? null,
    model: report.model,
  };
}

/** What a store keeps the M&V of a use case in. */
export interface MvKeeping {
  /** Every point kept for the use case's KPI. */
  points(useCase: string, kpi: string): Promise<KeptMvPoint[]>;
  putPoints(points: readonly KeptMvPoint[]): Promise<void>;
  putSavings(savings: readonly KeptSavings[]): Promise<void>;
}

export interface MvRun {
  readonly points: number;
  readonly savings: readonly KeptSavings[];
  /** Each KPI's report, for a store that also plots it (measured against the baseline). */
  readonly reports: ReadonlyMap<string, MvReport>;
}

/** One run for a use case: the points that do not stand computed and kept, then the savings measured and kept. */
export async function updateMv(
  manifest: UseCaseManifest,
  reads: KpiReads,
  keeping: MvKeeping,
  now: number,
  options: { readonly runsSql: boolean; readonly budgetMs?: number },
): Promise<MvRun> {
  let points = 0;
  const savings: KeptSavings[] = [];
  const reports = new Map<string, MvReport>();
  for (const kpi of mvKpis(manifest, options.runsSql)) {
    const kept = await keeping.points(manifest.id, kpi.id);
    const computed = await computeMvPoints(manifest.id, kpi, reads, kept, now, options.budgetMs);
    if (computed.length > 0) await keeping.putPoints(computed);
    points += computed.length;
    const merged = new Map(kept.map((point) => [point.from, point]));
    for (const point of computed) merged.set(point.from, point);
    const measured = await keptSavings(manifest.id, kpi, reads, [...merged.values()], now);
    savings.push(measured.savings);
    reports.set(kpi.id, measured.report);
  }
  if (savings.length > 0) await keeping.putSavings(savings);
  return { points, savings, reports };
}
