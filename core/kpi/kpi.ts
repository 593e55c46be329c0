import { z } from 'zod';
import type { Alert } from '../alerts/lifecycle.ts';
import type { DataContract } from '../contracts/contract.ts';
import { numberOrNull } from '../operators/views.ts';

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
  /** Runs a KPI's SQL for [from, to). */
  sql(query: string, from: number, to: number): Promise<{ numerator: number; denominator: number }>;
}

export interface KpiDay {
  readonly useCase: string;
  readonly kpi: string;
  /** 00:00 UTC of the day. */
  readonly day: number;
  readonly numerator: number;
  readonly denominator: number;
}

export const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

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

/** The total length of `spans` (start, end pairs), each instant counted once. */
function unionLength(spans: [number, number][]): number {
  spans.sort((a, b) => a[0] - b[0]);
  let total = 0;
  let reached = Number.NEGATIVE_INFINITY;
  for (const [start, end] of spans) {
    const from = Math.max(start, reached);
    if (end > from) total += end - from;
    reached = Math.max(reached, end);
  }
  return total;
}

/** The spans each reading of each device holds for, clipped to [from, to). */
function heldSpans(readings: readonly KpiReading[], to: number): { reading: KpiReading; hours: number }[] {
  const byDevice = new Map<string, KpiReading[]>();
  for (const reading of readings) {
    const list = byDevice.get(reading.deviceId);
    if (list) list.push(reading);
    else byDevice.set(reading.deviceId, [reading]);
  }
  const spans: { reading: KpiReading; hours: number }[] = [];
  for (const list of byDevice.values()) {
    list.sort((a, b) => a.time - b.time);
    list.forEach((reading, index) => {
      const next = list[index + 1]?.time ?? to;
      const held = Math.min(next, to, reading.time + MAX_HOLD_MS) - reading.time;
      if (held > 0) spans.push({ reading, hours: held / HOUR_MS });
    });
  }
  return spans;
}

const valueOf = (reading: KpiReading, field: string): number | undefined => {
  const value = reading.values[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
};

/** The numerator and denominator of one KPI over one day. */
export async function computeKpiDay(
  useCase: string,
  kpi: string,
  computation: KpiComputation,
  day: number,
  reads: KpiReads,
): Promise<KpiDay> {
  const from = Math.floor(day / DAY_MS) * DAY_MS;
  const to = from + DAY_MS;
  const result = (numerator: number, denominator = 1): KpiDay => ({
    useCase,
    kpi,
    day: from,
    numerator,
    denominator,
  });
  if ('sql' in computation) {
    const { numerator, denominator } = await reads.sql(computation.sql, from, to);
    return result(numerator, denominator);
  }
  switch (computation.builtin) {
    case 'confirmed-alert-hours': {
      const alerts = await reads.alerts(useCase, from, to);
      const hours = alerts
        .filter((alert) => alert.verdict?.kind === 'confirmed')
        .reduce((sum, alert) => {
          const start = Math.max(from, alert.firstAnomalyAt);
          const end = Math.min(to, alert.clearedAt ?? to);
          return sum + Math.max(0, end - start) / HOUR_MS;
        }, 0);
      return result(hours);
    }
    case 'unplanned-downtime': {
      const silentAfter = computation.silentAfterMinutes * 60_000;
      const [alerts, readings] = await Promise.all([
        reads.alerts(useCase, from, to),
        reads.readings(useCase, [], from - SILENCE_LOOKBACK_MS, to),
      ]);
      const downByDevice = new Map<string, [number, number][]>();
      const down = (deviceId: string, start: number, end: number) => {
        const span: [number, number] = [Math.max(from, start), Math.min(to, end)];
        if (span[1] <= span[0]) return;
        const spans = downByDevice.get(deviceId);
        if (spans) spans.push(span);
        else downByDevice.set(deviceId, [span]);
      };
      for (const alert of alerts)
        if (alert.verdict?.kind === 'confirmed')
          down(alert.deviceId, alert.firstAnomalyAt, alert.clearedAt ?? to);
      const minutesByDevice = new Map<string, number[]>();
      for (const reading of readings) {
        const minutes = minutesByDevice.get(reading.deviceId);
        if (minutes) minutes.push(reading.time);
        else minutesByDevice.set(reading.deviceId, [reading.time]);
      }
      for (const [deviceId, minutes] of minutesByDevice) {
        minutes.sort((a, b) => a - b);
        minutes.forEach((minute, index) => {
          // Silent from the end of a minute with readings to the next such minute, or the day's end.
          const silentFrom = minute + 60_000;
          const next = minutes[index + 1] ?? to;
          if (next - silentFrom > silentAfter) down(deviceId, silentFrom, next);
        });
      }
      const hours = [...downByDevice.values()].reduce((sum, spans) => sum + unionLength(spans), 0) / HOUR_MS;
      return result(hours);
    }
    case 'alert-load': {
      const alerts = (await reads.alerts(useCase, from, to)).filter((alert) => alert.openedAt >= from);
      return result(alerts.length, await reads.devices(useCase, from, to));
    }
    case 'false-positive-share': {
      const answered = (await reads.alerts(useCase, from, to)).filter(
        (alert) => alert.openedAt >= from && alert.verdict !== null,
      );
      const falsePositives = answered.filter((alert) => alert.verdict?.kind === 'false-positive');
      return result(falsePositives.length, answered.length);
    }
    case 'energy': {
      const spans = heldSpans(await reads.readings(useCase, [computation.power], from, to), to);
      const kwh = spans.reduce(
        (sum, { reading, hours }) => sum + (valueOf(reading, computation.power) ?? 0) * hours,
        0,
      );
      return result(kwh * (computation.pricePerKwh ?? 1));
    }
    case 'energy-per-degree-day': {
      const readings = await reads.readings(useCase, computationFields(computation), from, to);
      const spans = heldSpans(readings, to);
      const kwh = spans.reduce(
        (sum, { reading, hours }) => sum + (valueOf(reading, computation.power) ?? 0) * hours,
        0,
      );
      // The day's mean outdoor temperature, time-weighted over every unit's readings (one site).
      let weighted = 0;
      let hoursSeen = 0;
      for (const { reading, hours } of spans) {
        const outdoor = valueOf(reading, computation.outdoorTemperature);
        if (outdoor === undefined) continue;
        weighted += outdoor * hours;
        hoursSeen += hours;
      }
      const degreeDays = hoursSeen > 0 ? Math.max(0, weighted / hoursSeen - computation.baseTemperature) : 0;
      return result(kwh, degreeDays);
    }
    case 'hours-outside-band': {
      const readings = await reads.readings(useCase, computationFields(computation), from, to);
      const devices = new Set(readings.map((reading) => reading.deviceId)).size;
      const hours = heldSpans(readings, to).reduce((sum, { reading, hours: held }) => {
        const value = valueOf(reading, computation.value);
        const reference = valueOf(reading, computation.reference);
        if (value === undefined || reference === undefined) return sum;
        if (
          computation.when &&
          !((valueOf(reading, computation.when.field) ?? -Infinity) > computation.when.above)
        )
          return sum;
        return Math.abs(value - reference) > computation.band ? sum + held : sum;
      }, 0);
      return result(devices > 0 ? hours / devices : 0);
    }
  }
}

/** A KPI's value over days: the ratio of sums, or for a quantity, the daily mean times the period. */
export function kpiValue(
  days: readonly Pick<KpiDay, 'numerator' | 'denominator'>[],
  additive: boolean,
  period: KpiPeriod,
): number | null {
  if (days.length === 0) return null;
  const numerator = days.reduce((sum, day) => sum + day.numerator, 0);
  if (additive) return (numerator / days.length) * PERIOD_DAYS[period];
  const denominator = days.reduce((sum, day) => sum + day.denominator, 0);
  return denominator > 0 ? numerator / denominator : null;
}
