import { computeKpiSpan, heldSpans, timeWeightedMean, valueOf } from '../computations.ts';
import {
  computationFields,
  DAY_MS,
  isFullDay,
  type KpiComputation,
  type KpiReading,
  type KpiReads,
} from '../kpi.ts';
import { variableFields, type MvSpec, type VariableSpec } from './baseline-spec.ts';
import type { MvPoint } from './change-point.ts';

/**
 * The points of an M&V baseline or reporting period from the store: per hour, day or week, the
 * KPI's quantity (the dependent value) and each independent variable. Intervals without a full
 * span of data are left out, never taken as zeros (IPMVP: missing data are excluded, not filled).
 */

const HOUR_MS = 3_600_000;
export const INTERVAL_MS: Readonly<Record<MvSpec['interval'], number>> = {
  hour: HOUR_MS,
  day: DAY_MS,
  week: 7 * DAY_MS,
};

export interface TimedPoint extends MvPoint {
  /** Start of the interval (epoch ms). */
  readonly from: number;
}

/** [from, to) split into whole intervals (a trailing part that is not whole is left out). */
export function intervalStarts(from: number, to: number, interval: MvSpec['interval']): number[] {
  const step = INTERVAL_MS[interval];
  const starts: number[] = [];
  for (let start = from; start + step <= to; start += step) starts.push(start);
  return starts;
}

/** One variable's value over an interval, from the readings' held spans. */
function variableValue(variable: VariableSpec, spans: ReturnType<typeof heldSpans>): number | undefined {
  if (variable.aggregate === 'hours-above')
    return spans.reduce(
      (sum, { reading, hours }) =>
        (valueOf(reading, variable.field) ?? -Infinity) > variable.above ? sum + hours : sum,
      0,
    );
  return timeWeightedMean(spans, variable.field);
}

/**
 * The point of each whole interval of [from, to) with a full span of data and every variable:
 * the KPI's numerator, and the variables as the spec aggregates them.
 */
export async function periodPoints(
  useCase: string,
  kpi: string,
  computation: KpiComputation,
  spec: Pick<MvSpec, 'interval' | 'variables'>,
  from: number,
  to: number,
  reads: KpiReads,
): Promise<TimedPoint[]> {
  const points: TimedPoint[] = [];
  for (const start of intervalStarts(from, to, spec.interval)) {
    const point = await intervalPoint(useCase, kpi, computation, spec, start, reads);
    if (point) points.push(point);
  }
  return points;
}

/**
 * The point of the interval that starts at `start`, or null where it has no full span of data or
 * misses a variable (an outage: nothing measured, which is not a zero).
 */
export async function intervalPoint(
  useCase: string,
  kpi: string,
  computation: KpiComputation,
  spec: Pick<MvSpec, 'interval' | 'variables'>,
  start: number,
  reads: KpiReads,
): Promise<TimedPoint | null> {
  const fields = [...new Set([...variableFields(spec), ...computationFields(computation)])];
  const end = start + INTERVAL_MS[spec.interval];
  // One read of the interval serves the KPI and the variables alike.
  const readings = await reads.readings(useCase, fields, start, end);
  const value = await computeKpiSpan(useCase, kpi, computation, start, end, {
    ...bound(reads),
    readings: (u, f, a, b) =>
      u === useCase && a === start && b === end ? Promise.resolve(readings) : reads.readings(u, f, a, b),
  });
  if (!isFullDay(value) || readings.length === 0) return null;
  const spans = heldSpans(readings, end);
  const x: Record<string, number> = {};
  for (const [name, variable] of Object.entries(spec.variables)) {
    const measured = variableValue(variable, spans);
    if (measured !== undefined) x[name] = measured;
  }
  return Object.keys(x).length === Object.keys(spec.variables).length
    ? { from: start, y: value.numerator, x }
    : null;
}

/** A store's reads as plain functions, to serve one of them another way. */
function bound(reads: KpiReads): KpiReads {
  return {
    readings: (useCase, fields, from, to): Promise<KpiReading[]> => reads.readings(useCase, fields, from, to),
    devices: (useCase, from, to) => reads.devices(useCase, from, to),
    alerts: (useCase, from, to) => reads.alerts(useCase, from, to),
    sql: (query, from, to) => reads.sql(query, from, to),
    firstReading: (useCase, from, to) => reads.firstReading(useCase, from, to),
  };
}
