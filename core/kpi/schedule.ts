import type { UseCaseManifest } from '../usecase/manifest.ts';
import { computeKpiDay } from './computations.ts';
import { DAY_MS, isFullDay, type KpiComputation, type KpiDay, type KpiReads } from './kpi.ts';

/** Full days behind today a scheduled run makes sure are computed (after an outage, say). */
export const KPI_BACKFILL_DAYS = 7;

/**
 * How long after a day ends late readings may still arrive for it (a device's backlog after an
 * outage, a history sent at commissioning): until then each run computes the day again.
 */
export const KPI_SETTLE_MS = DAY_MS;

/** A day as a store keeps it: with when it was computed (null where the store did not say). */
export interface StoredKpiDay extends KpiDay {
  readonly computedAt: number | null;
}

/** The days a store keeps, for reading back (the console's KPI figures). */
export interface KeptKpiDays {
  /** Every day kept for the use case from `since` (00:00 UTC of a day) on. */
  since(useCase: string, since: number): Promise<StoredKpiDay[]>;
}

/** The key of one KPI day, for what a store already holds. */
export function kpiDayKey(day: Pick<KpiDay, 'useCase' | 'kpi' | 'day'>): string {
  return `${day.useCase}/${day.kpi}/${day.day}`;
}

/**
 * Whether a kept day stands: computed from a full day's data, once late data could no longer
 * change it. A day without data (before the store existed, during an outage) or computed too
 * early is computed again, so a zero never stands in for a day nobody measured.
 */
export function isFinal(row: StoredKpiDay): boolean {
  return isFullDay(row) && row.computedAt !== null && row.computedAt >= row.day + DAY_MS + KPI_SETTLE_MS;
}

/** The keys of the kept days that stand: the rest are computed again. */
export function finalKeys(rows: readonly StoredKpiDay[]): Set<string> {
  return new Set(rows.filter(isFinal).map(kpiDayKey));
}

/**
 * The full days of the last week whose computed KPIs of a use case do not stand yet (see
 * `isFinal`), computed. A day is computed once it is over; `skip` leaves out the computations a
 * store cannot run (SQL written for another store).
 */
export async function computeMissingKpiDays(
  manifest: UseCaseManifest,
  reads: KpiReads,
  final: ReadonlySet<string>,
  now: number,
  skip: (computation: KpiComputation) => boolean = () => false,
): Promise<KpiDay[]> {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const computed: KpiDay[] = [];
  for (const kpi of manifest.kpis) {
    if (!kpi.compute || skip(kpi.compute)) continue;
    for (let back = KPI_BACKFILL_DAYS; back >= 1; back--) {
      const day = today - back * DAY_MS;
      if (final.has(kpiDayKey({ useCase: manifest.id, kpi: kpi.id, day }))) continue;
      computed.push(await computeKpiDay(manifest.id, kpi.id, kpi.compute, day, reads));
    }
  }
  const broken = computed.filter(
    (row) => !Number.isFinite(row.numerator) || !Number.isFinite(row.denominator),
  );
  if (broken.length > 0)
    throw new Error(
      `KPI ${broken.map((row) => `${row.useCase}/${row.kpi}`).join(', ')} computed to a value that is not a number: check its definition`,
    );
  return computed;
}
