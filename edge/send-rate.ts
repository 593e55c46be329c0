/**
 * A token bucket for publishes: `rate` a second on average, bursts of a tenth of a second's worth,
 * so a fleet back online does not stampede the broker.
 */
export class SendRate {
  private tokens: number;
  private lastRefill: number;

  constructor(
    private readonly rate: number,
    now = Date.now(),
  ) {
    this.tokens = this.burst;
    this.lastRefill = now;
  }

  private get burst(): number {
    return Math.max(1, Math.ceil(this.rate / 10));
  }

  /** Adds what the time since the last refill earned, up to the burst. */
  refill(now = Date.now()): void {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastRefill) / 1000) * this.rate);
    this.lastRefill = now;
  }

  /** Takes a token when there is one. */
  take(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  get available(): boolean {
    return this.tokens >= 1;
  }

  /** Milliseconds until the next token. */
  get waitMs(): number {
    return Math.ceil(((1 - this.tokens) * 1000) / this.rate);
  }
}
