import type { UseCaseManifest } from '../usecase/manifest.ts';
import { computeKpiDay, DAY_MS, type KpiComputation, type KpiDay, type KpiReads } from './kpi.ts';

/** Full days behind today a scheduled run makes sure are computed (after an outage, say). */
export const KPI_BACKFILL_DAYS = 7;

/** The key of one KPI day, for what a store already holds. */
export function kpiDayKey(day: Pick<KpiDay, 'useCase' | 'kpi' | 'day'>): string {
  return `${day.useCase}/${day.kpi}/${day.day}`;
}

/**
 * The full days of the last week each computed KPI of a use case lacks, computed. A day is
 * computed once it is over; `skip` leaves out the computations a store cannot run (SQL written for
 * another store).
 */
export async function computeMissingKpiDays(
  manifest: UseCaseManifest,
  reads: KpiReads,
  known: ReadonlySet<string>,
  now: number,
  skip: (computation: KpiComputation) => boolean = () => false,
): Promise<KpiDay[]> {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const computed: KpiDay[] = [];
  for (const kpi of manifest.kpis) {
    if (!kpi.compute || skip(kpi.compute)) continue;
    for (let back = KPI_BACKFILL_DAYS; back >= 1; back--) {
      const day = today - back * DAY_MS;
      if (known.has(kpiDayKey({ useCase: manifest.id, kpi: kpi.id, day }))) continue;
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
