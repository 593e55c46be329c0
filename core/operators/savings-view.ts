import type { KpiReads } from '../kpi/kpi.ts';
import { mvFigures, mvReport, type MvFigures } from '../kpi/mv/mv-report.ts';
import { recentOpportunities, type Opportunity } from '../kpi/mv/opportunities.ts';
import type { UseCaseManifest } from '../usecase/manifest.ts';

/** What a use case's KPIs saved by M&V, and what the data recommends: the console's savings section. */
export interface UseCaseSavings {
  readonly useCase: string;
  /** Each KPI with a baseline (`mv:` in the manifest), with its figures. */
  readonly kpis: readonly { readonly id: string; readonly description: string; readonly mv: MvFigures }[];
  /** The supervisory recommendations of the last two weeks, with their estimates; none without `opportunities:`. */
  readonly recommendations: readonly Opportunity[];
  readonly currency: string | null;
}

/** The M&V of every KPI with a baseline, and the current recommendations, as of `now`. */
export async function useCaseSavings(
  manifest: UseCaseManifest,
  reads: KpiReads,
  now: number,
): Promise<UseCaseSavings> {
  const kpis: UseCaseSavings['kpis'][number][] = [];
  for (const kpi of manifest.kpis) {
    if (!kpi.mv) continue;
    const report = await mvReport(manifest, { ...kpi, mv: kpi.mv }, reads, now);
    kpis.push({ id: kpi.id, description: kpi.description, mv: mvFigures(report) });
  }
  const spec = manifest.opportunities;
  return {
    useCase: manifest.id,
    kpis,
    recommendations: spec ? await recentOpportunities(manifest.id, spec, reads, now) : [],
    currency: spec?.currency ?? null,
  };
}
