/**
 * On-device filters for one sensor's stream, pure and stateful per sensor. Each decides, per
 * reading, whether it is worth sending and what value to send; the agent combines them.
 */

export type FilterDecision =
  | { readonly action: 'send'; readonly value: number }
  | { readonly action: 'suppress'; readonly reason: string };

/** Sends a reading only when it moved at least `band` from the last one sent, or `maxSilenceMs` passed. */
export class DeadbandFilter {
  private lastSent: { value: number; time: number } | undefined;

  constructor(
    private readonly band: number,
    private readonly maxSilenceMs: number,
  ) {
    if (!(band >= 0)) throw new Error(`deadband must be 0 or more, got ${band}`);
    if (!(maxSilenceMs > 0)) throw new Error(`maxSilenceMs must be above 0, got ${maxSilenceMs}`);
  }

  decide(time: number, value: number): FilterDecision {
    const last = this.lastSent;
    if (last && Math.abs(value - last.value) < this.band && time - last.time < this.maxSilenceMs) {
      return { action: 'suppress', reason: `within deadband ${this.band} of ${last.value}` };
    }
    this.lastSent = { value, time };
    return { action: 'send', value };
  }
}

/** Refuses a reading whose change per second from the previous reading exceeds what the physics allows. */
export class RateOfChangeFilter {
  private previous: { value: number; time: number } | undefined;

  constructor(private readonly maxPerSecond: number) {
    if (!(maxPerSecond > 0)) throw new Error(`maxPerSecond must be above 0, got ${maxPerSecond}`);
  }

  decide(time: number, value: number): FilterDecision {
    const previous = this.previous;
    if (previous && time > previous.time) {
      const rate = Math.abs(value - previous.value) / ((time - previous.time) / 1000);
      if (rate > this.maxPerSecond) {
        return { action: 'suppress', reason: `changes ${rate.toFixed(3)}/s, above ${this.maxPerSecond}/s` };
      }
    }
    this.previous = { value, time };
    return { action: 'send', value };
  }
}

export type HampelMode = 'flag' | 'replace';

/**
 * Hampel filter over the last `window` readings (causal): a reading further than `threshold`
 * scaled median absolute deviations from the window median is an isolated outlier. In `flag` mode
 * it is suppressed with the reason; in `replace` mode the median is sent instead. The window keeps
 * raw values: an isolated spike cannot move the median, while a real step becomes the median once
 * it is the majority of the window. A window with no spread (MAD 0) cannot judge, so it sends.
 */
export class HampelFilter {
  private readonly recent: number[] = [];

  constructor(
    private readonly window: number,
    private readonly threshold: number,
    private readonly mode: HampelMode,
  ) {
    if (!Number.isInteger(window) || window < 3)
      throw new Error(`window must be an integer of at least 3, got ${window}`);
    if (!(threshold > 0)) throw new Error(`threshold must be above 0, got ${threshold}`);
  }

  decide(_time: number, value: number): FilterDecision {
    const history = this.recent.slice();
    this.recent.push(value);
    if (this.recent.length > this.window) this.recent.shift();
    if (history.length < this.window - 1) return { action: 'send', value };
    const median = medianOf(history);
    // 1.4826 makes the MAD a consistent estimate of the standard deviation for normal noise.
    const scale = 1.4826 * medianOf(history.map((v) => Math.abs(v - median)));
    if (scale === 0 || Math.abs(value - median) <= this.threshold * scale) return { action: 'send', value };
    return this.mode === 'replace'
      ? { action: 'send', value: median }
      : {
          action: 'suppress',
          reason: `spike: ${value} is ${(Math.abs(value - median) / scale).toFixed(1)} MADs from ${median}`,
        };
  }
}

function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
