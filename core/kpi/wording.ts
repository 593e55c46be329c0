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
