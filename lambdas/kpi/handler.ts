import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { systemClock, type Clock } from '../../core/ingest/ports.ts';
import { DAY_MS, type KpiDay, type KpiReads } from '../../core/kpi/kpi.ts';
import { computeMissingKpiDays, finalKeys, KPI_BACKFILL_DAYS } from '../../core/kpi/schedule.ts';
import { updateMv, type KeptSavings, type MvKeeping } from '../../core/kpi/mv/kept-mv.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { DynamoDbAlertStore } from '../adapters/dynamodb-alert-store.ts';
import { DynamoDbKpiDays } from '../adapters/dynamodb-kpi-days.ts';
import { DynamoDbMvKeeping } from '../adapters/dynamodb-mv.ts';
import { deploymentFromEnv } from '../shared/deployment.ts';
import { bundledEnv, requireEnv } from '../shared/env.ts';
import { logger, metrics } from '../shared/powertools.ts';
import { kpiReadsFromEnv, mvSeriesFromEnv } from '../shared/telemetry-backend.ts';
import type { InfluxMvSeries } from '../adapters/influx-mv-series.ts';

/** What the schedule sends: which use case's KPIs to compute. */
const eventSchema = z.strictObject({ useCase: z.string().min(1) });

export interface KpiDependencies {
  readonly manifests: ReadonlyMap<string, UseCaseManifest>;
  readonly readsOf: (manifest: UseCaseManifest) => KpiReads;
  readonly days: Pick<DynamoDbKpiDays, 'since' | 'put'>;
  /** Where the M&V points and savings of the KPIs with a baseline are kept. */
  readonly mv: MvKeeping;
  /** Where each use case's M&V series go for the dashboards. @default - nowhere (LiveAnalytics) */
  readonly mvSeries?: ((useCase: string) => Pick<InfluxMvSeries, 'write'>) | undefined;
  readonly clock: Clock;
}

export interface KpiRun {
  readonly useCase: string;
  readonly computed: readonly KpiDay[];
  /** KPIs written in SQL for the local store, which the cloud does not run. */
  readonly skipped: readonly string[];
  /** M&V points computed this run, and each KPI's savings as kept. */
  readonly mvPoints: number;
  readonly savings: readonly KeptSavings[];
}

/**
 * Computes one use case's KPIs when its schedule fires: every computed KPI's full days of the
 * last week that do not stand yet in the `kpis` table (missing, without data, or recent enough for
 * late readings), with the same code as the local runtime, then keeps them.
 */
export function createKpiHandler(deps: KpiDependencies) {
  return async (event: unknown, context?: Context): Promise<KpiRun> => {
    if (context) logger.addContext(context);
    const { useCase } = eventSchema.parse(event);
    const manifest = deps.manifests.get(useCase);
    if (!manifest)
      throw new Error(`unknown use case "${useCase}" (${[...deps.manifests.keys()].join(', ')})`);
    const now = deps.clock.now();
    const since = Math.floor(now / DAY_MS) * DAY_MS - KPI_BACKFILL_DAYS * DAY_MS;
    const known = finalKeys(await deps.days.since(useCase, since));
    const skipped = manifest.kpis.filter((kpi) => kpi.compute && 'sql' in kpi.compute).map((kpi) => kpi.id);
    const reads = deps.readsOf(manifest);
    const computed = await computeMissingKpiDays(
      manifest,
      reads,
      known,
      now,
      (computation) => 'sql' in computation,
    );
    await deps.days.put(computed, now);
    const mv = await updateMv(manifest, reads, deps.mv, now, { runsSql: false });
    const series = deps.mvSeries?.(useCase);
    for (const savings of mv.savings) {
      const report = mv.reports.get(savings.kpi);
      if (series && report) await series.write(savings, report);
    }
    metrics.addDimension('UseCase', useCase);
    metrics.addMetric('KpiDaysComputed', MetricUnit.Count, computed.length);
    metrics.addMetric('MvPointsComputed', MetricUnit.Count, mv.points);
    metrics.publishStoredMetrics();
    logger.info('KPIs computed', {
      useCase,
      days: computed.length,
      skipped,
      mvPoints: mv.points,
      savings: mv.savings.map((row) => ({ kpi: row.kpi, status: row.status, savingsPct: row.savingsPct })),
    });
    return { useCase, computed, skipped, mvPoints: mv.points, savings: mv.savings };
  };
}

/** Wires the computations from the environment the KpiSchedule construct sets. */
export function kpiDependenciesFromEnv(env: NodeJS.ProcessEnv = process.env): KpiDependencies {
  const { contracts, manifests } = deploymentFromEnv(env);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const alerts = new DynamoDbAlertStore(documents, requireEnv('ALERT_TABLE', env));
  return {
    manifests: new Map(manifests.map((manifest) => [manifest.id, manifest])),
    readsOf: kpiReadsFromEnv(env, contracts, alerts),
    days: new DynamoDbKpiDays(documents, requireEnv('KPI_TABLE', env)),
    mv: new DynamoDbMvKeeping(documents, requireEnv('KPI_TABLE', env)),
    mvSeries: mvSeriesFromEnv(env),
    clock: systemClock,
  };
}

let handlerInstance: ReturnType<typeof createKpiHandler> | undefined;

export const handler = async (event: unknown, context: Context): Promise<KpiRun> => {
  // Built on first call so that a missing variable fails the invocation with its name, not the import.
  handlerInstance ??= createKpiHandler(kpiDependenciesFromEnv(bundledEnv()));
  return handlerInstance(event, context);
};
