import type { Alert } from '../../alerts/lifecycle.ts';
import type { UseCaseManifest } from '../../usecase/manifest.ts';
import type { KpiReads } from '../kpi.ts';
import type { FitStatistics } from './fit-statistics.ts';
import { INTERVAL_MS, periodPoints } from './intervals.ts';
import { quantityUnit } from './mv-report.ts';
import { measureSavings, type SavingsTotals } from './savings.ts';

/**
 * What fixing one fault saved: "fixing this stuck valve saved 410 kWh (EUR 74) in 12 days, ± 18%".
 * The baseline is the device itself while the fault lasted (from the alert's first anomaly to its
 * clear), hour by hour, as a linear model of the KPI's M&V variables (a fault rarely lasts long
 * enough to span the weather a change point needs); the savings are what that model predicts for
 * the hours since the fix minus what the device used. Retrofit isolation, in IPMVP's terms.
 */

const HOUR_MS = INTERVAL_MS.hour;
/** KPIs built on alerts and verdicts, which a fix's own alert would measure. */
const ALERT_BUILT = new Set([
  'unplanned-downtime',
  'confirmed-alert-hours',
  'alert-load',
  'false-positive-share',
]);
/** How far after the fix savings are counted: a quarter of a year, then it is the site's normal. */
export const FIX_REPORTING_DAYS = 90;

export interface FixSavings {
  readonly alertId: string;
  readonly status: 'measured' | 'not fixed' | 'no baseline' | 'refused' | 'too little data';
  readonly reasons: readonly string[];
  /** The KPI the alert's inference serves, whose quantity the savings are in. */
  readonly kpi: string | null;
  readonly unit: string | null;
  /** When the condition cleared after the confirmed fault: the fix. */
  readonly fixedAt: number | null;
  /** Hours of the fault the baseline was fitted on, and hours measured since the fix. */
  readonly faultHours: number;
  readonly hoursSinceFix: number;
  readonly fit: FitStatistics | null;
  readonly totals: SavingsTotals | null;
  /** The savings in kWh, when the KPI is energy priced per kWh. */
  readonly kwh: number | null;
}

/** Reads of one device only: the site's readings filtered to it. */
function deviceReads(reads: KpiReads, deviceId: string): KpiReads {
  return {
    readings: async (useCase, fields, from, to) =>
      (await reads.readings(useCase, fields, from, to)).filter((reading) => reading.deviceId === deviceId),
    devices: () => Promise.resolve(1),
    alerts: async (useCase, from, to) =>
      (await reads.alerts(useCase, from, to)).filter((alert) => alert.deviceId === deviceId),
    sql: (query, from, to) => reads.sql(query, from, to),
    firstReading: (useCase, from, to) => reads.firstReading(useCase, from, to),
  };
}

/** The savings since a confirmed fault's fix, or why there are none to show. */
export async function fixSavings(
  manifest: Pick<UseCaseManifest, 'id' | 'kpis' | 'inferences'>,
  alert: Alert,
  reads: KpiReads,
  now: number,
): Promise<FixSavings> {
  const kpiId = manifest.inferences.find((inference) => inference.id === alert.inference)?.kpi ?? null;
  const kpi = manifest.kpis.find((candidate) => candidate.id === kpiId);
  const empty = {
    alertId: alert.id,
    kpi: kpiId,
    unit: kpi ? quantityUnit(kpi.baseline.unit, kpi.period) : null,
    fixedAt: alert.verdict?.kind === 'confirmed' ? alert.clearedAt : null,
    faultHours: 0,
    hoursSinceFix: 0,
    fit: null,
    totals: null,
    kwh: null,
  };
  if (!kpi?.compute || !kpi.mv)
    return {
      ...empty,
      status: 'no baseline',
      reasons: [`the KPI this alert serves (${kpiId ?? 'none'}) has no measured baseline (kpis[].mv)`],
    };
  // Downtime counts the confirmed alert itself: "savings" after it would be the alert's own end.
  if ('builtin' in kpi.compute && ALERT_BUILT.has(kpi.compute.builtin))
    return {
      ...empty,
      status: 'no baseline',
      reasons: [
        `the KPI this alert serves (${kpi.id}) counts alerts themselves; savings per fix are measured for KPIs read from the device's readings (energy, hours outside a band)`,
      ],
    };
  if (alert.verdict?.kind !== 'confirmed' || alert.clearedAt === null)
    return {
      ...empty,
      status: 'not fixed',
      reasons: ['savings are measured once operators confirmed the fault and its condition cleared'],
    };
  const computation = kpi.compute;
  const single = deviceReads(reads, alert.deviceId);
  const spec = { interval: 'hour' as const, variables: kpi.mv.variables };
  const faultFrom = Math.floor(alert.firstAnomalyAt / HOUR_MS) * HOUR_MS;
  const fixedHour = Math.ceil(alert.clearedAt / HOUR_MS) * HOUR_MS;
  const until = Math.min(Math.floor(now / HOUR_MS) * HOUR_MS, fixedHour + FIX_REPORTING_DAYS * 24 * HOUR_MS);
  const read = (from: number, to: number) =>
    to > from ? periodPoints(manifest.id, kpi.id, computation, spec, from, to, single) : Promise.resolve([]);
  const baseline = await read(faultFrom, Math.floor(alert.clearedAt / HOUR_MS) * HOUR_MS);
  const reporting = await read(fixedHour, until);
  const outcome = measureSavings(
    { interval: 'hour', form: 'linear', variables: Object.keys(kpi.mv.variables) },
    baseline,
    reporting,
  );
  const counts = { faultHours: baseline.length, hoursSinceFix: reporting.length };
  if (outcome.status !== 'qualified')
    return {
      ...empty,
      ...counts,
      status: outcome.status,
      reasons: outcome.reasons,
      fit: 'fit' in outcome ? (outcome.fit ?? null) : null,
    };
  const price =
    'builtin' in kpi.compute && kpi.compute.builtin === 'energy' ? kpi.compute.pricePerKwh : undefined;
  return {
    ...empty,
    ...counts,
    status: 'measured',
    reasons: [],
    fit: outcome.fit,
    totals: outcome.totals,
    kwh: outcome.totals && price ? outcome.totals.savings / price : null,
  };
}
