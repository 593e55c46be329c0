/**
 * On-device filters, pure and stateful. Each judges one stream of readings; the edge
 * preprocessor decides what a verdict does to the whole multi-measure reading.
 */
import { median } from '../model/statistics.ts';

/**
 * Report by exception: a reading is worth sending when any field moved by more than its band
 * since the last reading sent, or when `heartbeatMs` passed without sending (so silence still
 * proves the device is alive). Fields without a band send on any change.
 */
export class DeadbandGate {
  private lastSent: { time: number; values: Readonly<Record<string, number>> } | undefined;

  constructor(
    private readonly bands: Readonly<Record<string, number>>,
    private readonly heartbeatMs: number,
  ) {
    for (const [field, band] of Object.entries(bands))
      if (!(band >= 0)) throw new Error(`deadband of ${field} must be 0 or more, got ${band}`);
    if (!(heartbeatMs > 0)) throw new Error(`heartbeat must be above 0 ms, got ${heartbeatMs}`);
  }

  /** Undefined when the reading should be sent (and is remembered as sent), else why not. */
  suppressReason(time: number, values: Readonly<Record<string, number>>): string | undefined {
    const last = this.lastSent;
    if (last && time - last.time < this.heartbeatMs) {
      const moved = Object.entries(values).some(([field, value]) => {
        const previous = last.values[field];
        return previous === undefined || Math.abs(value - previous) > (this.bands[field] ?? 0);
      });
      if (!moved) return 'every field within its deadband';
    }
    this.lastSent = { time, values };
    return undefined;
  }
}

/**
 * Physical plausibility: a value that moves more than `maxPerSecond` per second (and more than
 * `maxPerSecond` in any sub-second step) from the last accepted value is a glitch, not a measurement. The last accepted value stays the reference, so one bad
 * reading does not make the next good one look like a jump.
 */
export class RateOfChangeFilter {
  private previous: { value: number; time: number } | undefined;

  constructor(private readonly maxPerSecond: number) {
    if (!(maxPerSecond > 0)) throw new Error(`maxPerSecond must be above 0, got ${maxPerSecond}`);
  }

  /** Undefined when plausible (and remembered), else the reason. */
  violation(time: number, value: number): string | undefined {
    const previous = this.previous;
    if (previous && time > previous.time) {
      // Sub-second readings get a whole second's budget: over a few ms, sensor noise alone would
      // look like an impossible rate.
      const rate = Math.abs(value - previous.value) / Math.max(1, (time - previous.time) / 1000);
      if (rate > this.maxPerSecond) return `changes ${round(rate)}/s, above ${this.maxPerSecond}/s`;
    }
    return undefined;
  }

  accept(time: number, value: number): void {
    this.previous = { value, time };
  }
}

export type SpikeVerdict =
  { readonly spike: false } | { readonly spike: true; readonly median: number; readonly deviations: number };

/**
 * Hampel filter over the last `window` readings (causal): a reading further than `threshold`
 * scaled median absolute deviations from the window median is an isolated outlier. The window
 * keeps raw values: an isolated spike cannot move the median, while a real step becomes the
 * median once it is the majority of the window. A window with no spread (MAD 0) cannot judge.
 */
export class HampelFilter {
  private readonly recent: number[] = [];

  constructor(
    private readonly window: number,
    private readonly threshold: number,
  ) {
    if (!Number.isInteger(window) || window < 3)
      throw new Error(`window must be an integer of at least 3, got ${window}`);
    if (!(threshold > 0)) throw new Error(`threshold must be above 0, got ${threshold}`);
  }

  check(value: number): SpikeVerdict {
    const full = this.recent.length >= this.window - 1;
    const history = full ? this.recent.slice() : undefined;
    this.recent.push(value);
    if (this.recent.length > this.window - 1) this.recent.shift();
    if (!history) return { spike: false };
    const center = median(history) ?? 0;
    // 1.4826 makes the MAD a consistent estimate of the standard deviation for normal noise.
    const scale = 1.4826 * (median(history.map((v) => Math.abs(v - center))) ?? 0);
    if (scale === 0) return { spike: false };
    const deviations = Math.abs(value - center) / scale;
    return deviations > this.threshold ? { spike: true, median: center, deviations } : { spike: false };
  }
}

/** Tumbling-window mean of every field, aligned to multiples of `windowMs` since the epoch. */
export class WindowMean {
  private current: { start: number; count: number; sums: Record<string, number> } | undefined;

  constructor(private readonly windowMs: number) {
    if (!(windowMs > 0)) throw new Error(`aggregation window must be above 0 ms, got ${windowMs}`);
  }

  /** Adds a reading; returns the previous window's mean when this reading starts a new window. */
  add(time: number, values: Readonly<Record<string, number>>): WindowResult | undefined {
    const start = Math.floor(time / this.windowMs) * this.windowMs;
    const closed = this.current && this.current.start !== start ? this.flush() : undefined;
    this.current ??= { start, count: 0, sums: {} };
    this.current.count += 1;
    for (const [field, value] of Object.entries(values))
      this.current.sums[field] = (this.current.sums[field] ?? 0) + value;
    return closed;
  }

  /** The open window's mean, if any (at shutdown). */
  flush(): WindowResult | undefined {
    const window = this.current;
    this.current = undefined;
    if (!window) return undefined;
    const values: Record<string, number> = {};
    for (const [field, sum] of Object.entries(window.sums)) values[field] = sum / window.count;
    return { time: window.start, values, count: window.count };
  }
}

export interface WindowResult {
  /** Start of the window. */
  readonly time: number;
  readonly values: Readonly<Record<string, number>>;
  readonly count: number;
}

function round(value: number): string {
  return Number(value.toPrecision(4)).toString();
}
