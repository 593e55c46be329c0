import { quantile } from '../model/statistics.ts';

/**
 * The drift checks, each a pure function over a device's recent series: what a scheduled run (a
 * Lambda in the cloud, a timer in the local runtime) and `aiot drift check` compute alike.
 */

const HOUR_MS = 3600_000;
/** Counter widths devices use: a `seq` that falls back from near one of these wrapped around. */
const COUNTER_LIMITS = [2 ** 16, 2 ** 31, 2 ** 32];
/** How close to a counter's limit the last value must be, and how small the next, to read as a wrap. */
const WRAP_MARGIN = 1000;

export interface SequencePoint {
  readonly time: number;
  readonly seq: number;
}

export interface GapCount {
  readonly received: number;
  /** Readings the device numbered but the store never got. */
  readonly missing: number;
  /** Times the counter started again (a restart, a firmware update): no loss is counted across one. */
  readonly restarts: number;
  /** Received and missing per hour (its start, epoch ms), a missing run counted in the hour it ended. */
  readonly perHour: readonly { readonly hour: number; readonly received: number; readonly missing: number }[];
}

/**
 * Readings lost between device and store, from the gaps in a device's `seq` (which the edge agent
 * assigns after its filters, so filtered readings are not gaps). A counter that wraps at 2^16,
 * 2^31 or 2^32 continues; one that drops anywhere else restarted, and nothing is counted across it.
 */
export function countGaps(points: readonly SequencePoint[]): GapCount {
  const sorted = [...points].sort((a, b) => a.time - b.time);
  const hours = new Map<number, { received: number; missing: number }>();
  let missing = 0;
  let restarts = 0;
  let previous: SequencePoint | undefined;
  for (const point of sorted) {
    if (previous && point.time === previous.time && point.seq === previous.seq) continue;
    const hour = Math.floor(point.time / HOUR_MS) * HOUR_MS;
    const bucket = hours.get(hour) ?? { received: 0, missing: 0 };
    bucket.received += 1;
    if (previous) {
      const lost = lostBetween(previous.seq, point.seq);
      if (lost === 'restart') restarts += 1;
      else {
        missing += lost;
        bucket.missing += lost;
      }
    }
    hours.set(hour, bucket);
    previous = point;
  }
  return {
    received: [...hours.values()].reduce((sum, h) => sum + h.received, 0),
    missing,
    restarts,
    perHour: [...hours].map(([hour, counts]) => ({ hour, ...counts })),
  };
}

function lostBetween(previous: number, next: number): number | 'restart' {
  if (next > previous) return next - previous - 1;
  const limit = COUNTER_LIMITS.find((l) => previous >= l - WRAP_MARGIN && previous < l);
  if (limit !== undefined && next < WRAP_MARGIN) return limit - 1 - previous + next;
  return 'restart';
}

export interface ValuePoint {
  readonly time: number;
  readonly value: number;
}

/**
 * How long a sensor has shown exactly the same value, up to its latest reading (milliseconds), and
 * that value: a live sensor's last digits move, a stuck one's do not.
 */
export function flatRun(
  points: readonly ValuePoint[],
): { readonly ms: number; readonly value: number } | undefined {
  const sorted = [...points].sort((a, b) => a.time - b.time);
  const last = sorted.at(-1);
  if (!last) return undefined;
  let start = last.time;
  for (let i = sorted.length - 2; i >= 0; i--) {
    const point = sorted[i];
    if (!point || point.value !== last.value) break;
    start = point.time;
  }
  return { ms: last.time - start, value: last.value };
}

/** Share of `values` outside [min, max]. */
export function outOfRangeShare(
  values: readonly number[],
  range: { readonly min: number; readonly max: number },
): number {
  if (values.length === 0) return 0;
  return values.filter((v) => v < range.min || v > range.max).length / values.length;
}

/**
 * A sensor's noise: the median absolute difference between successive readings. It ignores the
 * level and slow trends, so a wandering process does not read as noise, and a loose connection,
 * failing bearing or failing sensor (more) or a frozen or over-filtered one (less) does.
 */
export function noiseLevel(values: readonly number[]): number | undefined {
  if (values.length < 3) return undefined;
  const steps = values.slice(1).map((value, i) => Math.abs(value - (values[i] ?? value)));
  return quantile(
    [...steps].sort((a, b) => a - b),
    0.5,
  );
}

/** Cumulative counters of an edge agent's health report, and when it arrived. */
export interface HealthSample {
  readonly receivedAt: number;
  /** The device's clock when it sent the report, where the store kept it. */
  readonly deviceTime: number | null;
  readonly readings: number;
  readonly spikes: Readonly<Record<string, number>>;
}

/**
 * Share of the readings the agent took in the window that its spike filter flagged, per measure,
 * from the change of its counters between the first and last report (after a restart of the agent
 * the counters begin again, and a single report has nothing to compare with: then the last
 * report's own figures count).
 */
export function spikeShares(reports: readonly HealthSample[]): Record<string, number> {
  const sorted = [...reports].sort((a, b) => a.receivedAt - b.receivedAt);
  const first = sorted[0];
  const last = sorted.at(-1);
  if (!first || !last) return {};
  // One report (the cloud keeps the last): its counters since the agent started.
  const restarted = sorted.length === 1 || last.readings < first.readings;
  const readings = restarted ? last.readings : last.readings - first.readings;
  if (readings <= 0) return {};
  return Object.fromEntries(
    Object.entries(last.spikes).map(([measure, count]) => [
      measure,
      (restarted ? count : count - (first.spikes[measure] ?? 0)) / readings,
    ]),
  );
}

/**
 * How far the device's clock is from the arrival clock, in seconds (positive: the device is behind),
 * the median over the window's health reports, which an agent sends the moment it writes them.
 */
export function clockSkewSeconds(reports: readonly HealthSample[]): number | undefined {
  const skews = reports
    .flatMap((r) => (r.deviceTime === null ? [] : [(r.receivedAt - r.deviceTime) / 1000]))
    .sort((a, b) => a - b);
  if (skews.length === 0) return undefined;
  return quantile(skews, 0.5);
}

/** The p-th quantile of `values` (0..1), or undefined for none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  return quantile(
    [...values].sort((a, b) => a - b),
    p,
  );
}
