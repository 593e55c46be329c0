import {
  computationFields,
  DAY_MS,
  MAX_HOLD_MS,
  SILENCE_LOOKBACK_MS,
  type KpiComputation,
  type KpiDay,
  type KpiReading,
  type KpiReads,
} from './kpi.ts';

const HOUR_MS = 3_600_000;

/** One day's numerator and denominator (1 for a quantity); null when the day had nothing to count. */
type DayFigures = { numerator: number; denominator: number } | null;

type Builtin = Exclude<KpiComputation, { sql: string }>;
type BuiltinOf<K extends Builtin['builtin']> = Extract<Builtin, { builtin: K }>;
interface DayContext {
  readonly useCase: string;
  readonly from: number;
  readonly to: number;
  readonly reads: KpiReads;
}

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

function byDevice(readings: readonly KpiReading[]): Map<string, KpiReading[]> {
  const devices = new Map<string, KpiReading[]>();
  for (const reading of readings) {
    const list = devices.get(reading.deviceId);
    if (list) list.push(reading);
    else devices.set(reading.deviceId, [reading]);
  }
  return devices;
}

/** The spans each reading of each device holds for, clipped to [from, to). */
export function heldSpans(
  readings: readonly KpiReading[],
  to: number,
): { reading: KpiReading; hours: number }[] {
  const spans: { reading: KpiReading; hours: number }[] = [];
  for (const list of byDevice(readings).values()) {
    list.sort((a, b) => a.time - b.time);
    list.forEach((reading, index) => {
      const next = list[index + 1]?.time ?? to;
      const held = Math.min(next, to, reading.time + MAX_HOLD_MS) - reading.time;
      if (held > 0) spans.push({ reading, hours: held / HOUR_MS });
    });
  }
  return spans;
}

export const valueOf = (reading: KpiReading, field: string): number | undefined => {
  const value = reading.values[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
};

/** A field's mean over the held spans, each reading weighted by how long it held; undefined without one. */
export function timeWeightedMean(
  spans: readonly { reading: KpiReading; hours: number }[],
  field: string,
): number | undefined {
  let weighted = 0;
  let hoursSeen = 0;
  for (const { reading, hours } of spans) {
    const value = valueOf(reading, field);
    if (value === undefined) continue;
    weighted += value * hours;
    hoursSeen += hours;
  }
  return hoursSeen > 0 ? weighted / hoursSeen : undefined;
}

const energyOf = (spans: readonly { reading: KpiReading; hours: number }[], power: string) =>
  spans.reduce((sum, { reading, hours }) => sum + (valueOf(reading, power) ?? 0) * hours, 0);

async function confirmedAlertHours({ useCase, from, to, reads }: DayContext): Promise<DayFigures> {
  const alerts = await reads.alerts(useCase, from, to);
  const hours = alerts
    .filter((alert) => alert.verdict?.kind === 'confirmed')
    .reduce((sum, alert) => {
      const start = Math.max(from, alert.firstAnomalyAt);
      const end = Math.min(to, alert.clearedAt ?? to);
      return sum + Math.max(0, end - start) / HOUR_MS;
    }, 0);
  return { numerator: hours, denominator: 1 };
}

async function unplannedDowntime(
  computation: BuiltinOf<'unplanned-downtime'>,
  { useCase, from, to, reads }: DayContext,
): Promise<DayFigures> {
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
  for (const [deviceId, list] of byDevice(readings)) {
    const minutes = list.map((reading) => reading.time).sort((a, b) => a - b);
    minutes.forEach((minute, index) => {
      // Silent from the end of a minute with readings to the next such minute, or the day's end.
      const silentFrom = minute + 60_000;
      const next = minutes[index + 1] ?? to;
      if (next - silentFrom > silentAfter) down(deviceId, silentFrom, next);
    });
  }
  const hours = [...downByDevice.values()].reduce((sum, spans) => sum + unionLength(spans), 0) / HOUR_MS;
  return { numerator: hours, denominator: 1 };
}

async function alertLoad({ useCase, from, to, reads }: DayContext): Promise<DayFigures> {
  const alerts = (await reads.alerts(useCase, from, to)).filter((alert) => alert.openedAt >= from);
  return { numerator: alerts.length, denominator: await reads.devices(useCase, from, to) };
}

async function falsePositiveShare({ useCase, from, to, reads }: DayContext): Promise<DayFigures> {
  const answered = (await reads.alerts(useCase, from, to)).filter(
    (alert) => alert.openedAt >= from && alert.verdict !== null,
  );
  const falsePositives = answered.filter((alert) => alert.verdict?.kind === 'false-positive');
  return { numerator: falsePositives.length, denominator: answered.length };
}

async function energy(
  computation: BuiltinOf<'energy'>,
  { useCase, from, to, reads }: DayContext,
): Promise<DayFigures> {
  const spans = heldSpans(await reads.readings(useCase, [computation.power], from, to), to);
  return { numerator: energyOf(spans, computation.power) * (computation.pricePerKwh ?? 1), denominator: 1 };
}

async function energyPerDegreeDay(
  computation: BuiltinOf<'energy-per-degree-day'>,
  { useCase, from, to, reads }: DayContext,
): Promise<DayFigures> {
  const spans = heldSpans(await reads.readings(useCase, computationFields(computation), from, to), to);
  // The day's mean outdoor temperature, time-weighted over every unit's readings (one site).
  const outdoor = timeWeightedMean(spans, computation.outdoorTemperature);
  const degreeDays = outdoor === undefined ? 0 : Math.max(0, outdoor - computation.baseTemperature);
  return { numerator: energyOf(spans, computation.power), denominator: degreeDays };
}

async function hoursOutsideBand(
  computation: BuiltinOf<'hours-outside-band'>,
  { useCase, from, to, reads }: DayContext,
): Promise<DayFigures> {
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
  return { numerator: devices > 0 ? hours / devices : 0, denominator: 1 };
}

function builtinFigures(computation: Builtin, context: DayContext): Promise<DayFigures> {
  switch (computation.builtin) {
    case 'confirmed-alert-hours':
      return confirmedAlertHours(context);
    case 'unplanned-downtime':
      return unplannedDowntime(computation, context);
    case 'alert-load':
      return alertLoad(context);
    case 'false-positive-share':
      return falsePositiveShare(context);
    case 'energy':
      return energy(computation, context);
    case 'energy-per-degree-day':
      return energyPerDegreeDay(computation, context);
    case 'hours-outside-band':
      return hoursOutsideBand(computation, context);
  }
}

/**
 * The share of the day the pipeline had the use case's readings for: from its first reading,
 * looked for a day back (a day before the store existed has none; the day it began, a part).
 */
async function coverageOf({ useCase, from, to, reads }: DayContext): Promise<number> {
  const first = await reads.firstReading(useCase, from - DAY_MS, to);
  if (first === null) return 0;
  return Math.min(1, Math.max(0, (to - Math.max(from, first)) / (to - from)));
}

/** The numerator, denominator and coverage of one KPI over one day. */
export function computeKpiDay(
  useCase: string,
  kpi: string,
  computation: KpiComputation,
  day: number,
  reads: KpiReads,
): Promise<KpiDay> {
  const from = Math.floor(day / DAY_MS) * DAY_MS;
  return computeKpiSpan(useCase, kpi, computation, from, from + DAY_MS, reads);
}

/**
 * The numerator, denominator and coverage of one KPI over [from, to): a day, or the hour or week
 * an M&V baseline is fitted on (`day` is then the span's start).
 */
export async function computeKpiSpan(
  useCase: string,
  kpi: string,
  computation: KpiComputation,
  from: number,
  to: number,
  reads: KpiReads,
): Promise<KpiDay> {
  const context: DayContext = { useCase, from, to, reads };
  const noData: KpiDay = { useCase, kpi, day: from, numerator: 0, denominator: 0, coverage: 0 };
  // A span before the store had any of the use case's readings: nothing to read, and no zero either.
  const coverage = await coverageOf(context);
  if (coverage === 0) return noData;
  const figures =
    'sql' in computation
      ? await reads
          .sql(computation.sql, context.from, context.to)
          .then(({ numerator, denominator }) => (numerator === null ? null : { numerator, denominator }))
      : await builtinFigures(computation, context);
  return figures === null ? noData : { ...noData, ...figures, coverage };
}
