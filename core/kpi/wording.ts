/**
 * How KPI figures are said, on a terminal, in the HTML report and in the console alike. No
 * imports: the console's page takes these without the rest of the KPI code.
 */

/**
 * A value with its unit, and the period it covers unless the unit says it already:
 * "9800 EUR/month", "0.42 kWh/m3 over a week".
 */
export function withUnit(value: number | string, unit: string, period: string): string {
  return unit.endsWith(`/${period}`) ? `${value} ${unit}` : `${value} ${unit} over a ${period}`;
}

/** The status as people read it: "too little data (2 of 7 full days)". */
export function statusText(row: {
  readonly status: string;
  readonly fullDays: number;
  readonly daysNeeded: number;
}): string {
  return row.status === 'too little data'
    ? `too little data (${row.fullDays} of ${row.daysNeeded} full days)`
    : row.status;
}

/** A figure as people read it: whole numbers above 100, one decimal below. */
export function figure(value: number): string {
  return Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-GB') : value.toFixed(1);
}

/** "saved 1,234 EUR (11.2%) in 28 days, ± 18% at 90% confidence". */
export function savingsText(
  totals: {
    readonly savings: number;
    readonly savingsPct: number;
    readonly uncertainty68Pct: number;
    readonly uncertainty90Pct: number;
  },
  unit: string,
  intervals: number,
  interval: string,
): string {
  const verb = totals.savings >= 0 ? 'saved' : 'used';
  const uncertainty = Number.isFinite(totals.uncertainty90Pct)
    ? `± ${Math.round(totals.uncertainty90Pct)}% at 90% confidence (± ${Math.round(totals.uncertainty68Pct)}% at 68%)`
    : 'uncertainty unbounded';
  return `${verb} ${figure(Math.abs(totals.savings))} ${unit} (${figure(Math.abs(totals.savingsPct))}%${totals.savings >= 0 ? '' : ' more'}) in ${intervals} ${interval}${intervals === 1 ? '' : 's'}, ${uncertainty}`;
}

/** "CV(RMSE) 4.2% (≤ 30), NMBE 0.0% (± 10), R² 0.91, 21 days". */
export function fitText(
  fit: { readonly cvRmsePct: number; readonly nmbePct: number; readonly r2: number; readonly n: number },
  limits: { readonly cvRmsePct: number; readonly nmbePct: number },
  interval: string,
): string {
  return `CV(RMSE) ${fit.cvRmsePct.toFixed(1)}% (≤ ${limits.cvRmsePct}), NMBE ${fit.nmbePct.toFixed(1)}% (± ${limits.nmbePct}), R² ${fit.r2.toFixed(2)}, ${fit.n} ${interval}s`;
}

/**
 * What fixing a fault saved, as the alert's page says it: "fixing this stuck valve saved 410 kWh
 * (74 EUR) in 12 days, ± 18% at 90% confidence"; or why it is not measured.
 */
export function fixSavingsText(
  savings: {
    readonly status: string;
    readonly reasons: readonly string[];
    readonly unit: string | null;
    readonly hoursSinceFix: number;
    readonly kwh: number | null;
    readonly totals: { readonly savings: number; readonly uncertainty90Pct: number } | null;
  },
  failureMode: string | undefined,
): string {
  if (savings.status !== 'measured' || !savings.totals)
    return `savings not measured: ${savings.reasons.join('; ')}`;
  const what = failureMode ? `fixing this ${failureMode}` : 'the fix';
  const saved = savings.totals.savings >= 0 ? 'saved' : 'cost';
  const amount = Math.abs(savings.totals.savings);
  const money =
    savings.kwh === null
      ? `${figure(amount)} ${savings.unit ?? ''}`.trim()
      : `${figure(Math.abs(savings.kwh))} kWh (${figure(amount)} ${savings.unit ?? ''})`;
  const span =
    savings.hoursSinceFix >= 48
      ? `${Math.round(savings.hoursSinceFix / 24)} days`
      : `${savings.hoursSinceFix} hours`;
  const uncertainty = Number.isFinite(savings.totals.uncertainty90Pct)
    ? `± ${Math.round(savings.totals.uncertainty90Pct)}% at 90% confidence`
    : 'uncertainty unbounded';
  return `${what} ${saved} ${money} in ${span}, ${uncertainty}`;
}

/** A KPI's M&V as its figures say it: the savings, or why there are none yet. */
export function mvSummary(mv: {
  readonly status: string;
  readonly reasons: readonly string[];
  readonly reportingFrom: string | null;
  readonly totals: Parameters<typeof savingsText>[0] | null;
  readonly unit: string;
  readonly reportingIntervals: number;
  readonly interval: string;
}): string {
  if (mv.status !== 'qualified') return `${mv.status}: ${mv.reasons.join('; ')}`;
  if (!mv.totals) return `baseline qualified; reporting starts ${mv.reportingFrom ?? ''}`;
  return savingsText(mv.totals, mv.unit, mv.reportingIntervals, mv.interval);
}

/** The baseline as people check it: "2026-11-02 to 2026-11-23: 3PC on outdoorTemp, change point 14.2; CV(RMSE) …". */
export function mvBaseline(mv: {
  readonly baselinePeriod: { readonly from: string; readonly to: string } | null;
  readonly form: string;
  readonly variables: readonly string[];
  readonly model: { readonly changePoint?: number | undefined } | null;
  readonly fit: Parameters<typeof fitText>[0] | null;
  readonly limits: Parameters<typeof fitText>[1];
  readonly interval: string;
}): string {
  const period = mv.baselinePeriod ? `${mv.baselinePeriod.from} to ${mv.baselinePeriod.to}` : 'not begun';
  const changePoint =
    mv.model?.changePoint === undefined ? '' : `, change point ${mv.model.changePoint.toFixed(1)}`;
  const fit = mv.fit ? `; ${fitText(mv.fit, mv.limits, mv.interval)}` : '';
  return `${period}: ${mv.form} on ${mv.variables.join(', ')}${changePoint}${fit}`;
}
