import { z } from 'zod';
import type { Alert } from '../alerts/lifecycle.ts';
import type { DataContract } from '../contracts/contract.ts';
import { numberOrNull } from '../stores/cell-values.ts';

/**
 * How a manifest's KPI is computed from what the pipeline holds: a built-in over readings and
 * alerts, or SQL over the store. Every computation yields, per day, a numerator and a
 * denominator; a period's value is the ratio of their sums (a rate: energy per degree-day, the
 * false-positive share) or, for a quantity that adds up over time (hours, kWh, euros), the daily
 * mean times the days of the KPI's period.
 */

const field = z
  .string()
  .regex(/^measures\.[A-Za-z][A-Za-z0-9]*$/, 'must be a sensor field like "measures.power"');

export const kpiComputationSchema = z.union([
  z.strictObject({
    /** Hours of alerts operators confirmed (open until cleared), fleet-wide: unplanned downtime's early part. */
    builtin: z.literal('confirmed-alert-hours'),
  }),
  z.strictObject({
    /**
     * Hours per day, fleet-wide, that devices were down as the pipeline sees it: while an alert
     * operators confirmed was open, or while the device was silent (no reading for longer than
     * `silentAfterMinutes`, which must exceed its edge heartbeat). An hour counts once when both hold.
     */
    builtin: z.literal('unplanned-downtime'),
    silentAfterMinutes: z.int().min(2).max(720).default(10),
  }),
  z.strictObject({
    /** Alerts opened per device and day: the load on the people who answer them. */
    builtin: z.literal('alert-load'),
  }),
  z.strictObject({
    /** Of the alerts answered, the share called false positives: operators' trust in the model. */
    builtin: z.literal('false-positive-share'),
  }),
  z.strictObject({
    /** Electrical energy (kWh) from a power measure in kW, or its cost with `pricePerKwh`. */
    builtin: z.literal('energy'),
    power: field,
    pricePerKwh: z.number().positive().optional(),
  }),
  z.strictObject({
    /** Energy (kWh) per cooling degree-day of the outdoor temperature above `baseTemperature`. */
    builtin: z.literal('energy-per-degree-day'),
    power: field,
    outdoorTemperature: field,
    baseTemperature: z.number().default(18),
  }),
  z.strictObject({
    /** Hours per device that `value` was more than `band` away from `reference` (while `when` holds). */
    builtin: z.literal('hours-outside-band'),
    value: field,
    reference: field,
    band: z.number().positive(),
    when: z.strictObject({ field, above: z.number() }).optional(),
  }),
  z.strictObject({
    /**
     * A SELECT over the local store answering `numerator` and, for a rate, `denominator` for the
     * day between `$from` and `$to` (TIMESTAMP literals). Read-only: it runs through the query API.
     */
    sql: z.string().min(1).max(8192),
    /** A quantity that adds up over days (true) or a rate of its sums (false). @default true */
    additive: z.boolean().default(true),
  }),
]);
export type KpiComputation = z.output<typeof kpiComputationSchema>;

/** The days a KPI's value covers: its baseline is per day, week, month (30 days) or year. */
export const kpiPeriodSchema = z.enum(['day', 'week', 'month', 'year']);
export type KpiPeriod = z.output<typeof kpiPeriodSchema>;
export const PERIOD_DAYS: Readonly<Record<KpiPeriod, number>> = { day: 1, week: 7, month: 30, year: 365 };

/** The sensor fields a computation reads. */
export function computationFields(computation: KpiComputation): string[] {
  if ('sql' in computation) return [];
  switch (computation.builtin) {
    case 'energy':
      return [computation.power];
    case 'energy-per-degree-day':
      return [computation.power, computation.outdoorTemperature];
    case 'hours-outside-band':
      return [
        computation.value,
        computation.reference,
        ...(computation.when ? [computation.when.field] : []),
      ];
    default:
      return [];
  }
}

export function isAdditive(computation: KpiComputation): boolean {
  if ('sql' in computation) return computation.additive;
  return ['confirmed-alert-hours', 'unplanned-downtime', 'energy', 'hours-outside-band'].includes(
    computation.builtin,
  );
}

/** One device's reading as the KPI reads it: measure values by sensor field. */
export interface KpiReading {
  readonly deviceId: string;
  readonly time: number;
  readonly values: Readonly<Record<string, number | null>>;
}

/** The store columns of the sensor fields a KPI reads, checked against the contract. */
export function kpiColumns(contract: DataContract, fields: readonly string[]): string[] {
  return fields.map((field) => {
    const measure = contract.measures[field.replace(/^measures\./, '')];
    if (!measure) throw new Error(`"${field}" is not a measure of ${contract.ref}`);
    return measure.column;
  });
}

/**
 * A reading from a store's row of minute means, whose values every KPI read names `v0`, `v1`… in
 * the order of `fields`.
 */
export function kpiReadingFromRow(
  deviceId: string,
  time: number,
  fields: readonly string[],
  row: Readonly<Record<string, unknown>>,
): KpiReading {
  return {
    deviceId,
    time,
    values: Object.fromEntries(fields.map((field, index) => [field, numberOrNull(row[`v${index}`])])),
  };
}

/** What the computations read: the store's readings, its alerts, and SQL for the `sql` kind. */
export interface KpiReads {
  /**
   * Readings of the use case in [from, to) with the given sensor fields, oldest first: each
   * device's means per minute at most (a minute is finer than any KPI needs).
   */
  readings(useCase: string, fields: readonly string[], from: number, to: number): Promise<KpiReading[]>;
  /** Devices of the use case with readings in [from, to). */
  devices(useCase: string, from: number, to: number): Promise<number>;
  /** Alerts of the use case opened before `to` that were still open at `from` or later. */
  alerts(useCase: string, from: number, to: number): Promise<Alert[]>;
  /**
   * Runs a KPI's SQL for [from, to): a null numerator (a sum over no rows) is a day without data,
   * not a zero.
   */
  sql(query: string, from: number, to: number): Promise<{ numerator: number | null; denominator: number }>;
  /** The time of the use case's first reading in [from, to), or null when it has none there. */
  firstReading(useCase: string, from: number, to: number): Promise<number | null>;
}

export interface KpiDay {
  readonly useCase: string;
  readonly kpi: string;
  /** 00:00 UTC of the day. */
  readonly day: number;
  readonly numerator: number;
  readonly denominator: number;
  /**
   * The share of the day the pipeline had the use case's readings for (from its first reading on,
   * looking a day back): 0 for a day before the store existed, a fraction for the day it began.
   * Only full days count towards a KPI's value; the rest are no data, never zeros.
   */
  readonly coverage: number;
}

export const DAY_MS = 86_400_000;

/** A day counts towards a KPI's value when the pipeline had its data for at least this share of it. */
export const FULL_DAY = 0.99;

export const isFullDay = (day: Pick<KpiDay, 'coverage'>): boolean => day.coverage >= FULL_DAY;

/**
 * A reading's value holds until the next reading of its device, but never longer than this: past
 * it the device was silent (an outage), and silence is not integrated.
 */
export const MAX_HOLD_MS = 10 * 60_000;

/**
 * How far before a day its silences are traced back: a device silent for longer than this before
 * the day is out of service (decommissioned, or stopped as planned), not down.
 */
export const SILENCE_LOOKBACK_MS = DAY_MS;

/**
 * A KPI's value over the full days among `days`: the ratio of sums, or for a quantity, the daily
 * mean times the period. Null without a full day (or, for a rate, with nothing to divide by).
 */
export function kpiValue(
  given: readonly Pick<KpiDay, 'numerator' | 'denominator' | 'coverage'>[],
  additive: boolean,
  period: KpiPeriod,
): number | null {
  const days = given.filter(isFullDay);
  if (days.length === 0) return null;
  const numerator = days.reduce((sum, day) => sum + day.numerator, 0);
  if (additive) return (numerator / days.length) * PERIOD_DAYS[period];
  const denominator = days.reduce((sum, day) => sum + day.denominator, 0);
  return denominator > 0 ? numerator / denominator : null;
}
