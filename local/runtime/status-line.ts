import type { RuntimeCounters } from './options.ts';

export interface StatusSource {
  readonly counters: Readonly<RuntimeCounters>;
  readonly queueDepth: number;
  readonly deadLetters: number;
  readonly devices: number;
  readonly scoring?: {
    /** Readings scored, calibration readings among them. */
    scored: number;
    anomalies: number;
    skipped: number;
    latency?: { p50: number; p99: number };
  };
  /** Use cases still calibrating, said briefly; empty once every device is calibrated. */
  readonly calibration?: string;
}

/**
 * The live console line: totals and per-second rates. On a terminal it rewrites one line; in a
 * log (CI, pipes) it prints a line every `logEveryMs` instead of flooding the output.
 */
export class StatusLine {
  private timer: NodeJS.Timeout | undefined;
  private previous: { at: number; received: number; stored: number } | undefined;
  private lastLogged = 0;

  constructor(
    private readonly source: () => StatusSource,
    private readonly stream: NodeJS.WriteStream = process.stdout,
    private readonly logEveryMs = 10_000,
  ) {}

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => this.render(), intervalMs);
    this.timer.unref();
  }

  render(now = Date.now()): string {
    const source = this.source();
    const { counters } = source;
    const line = this.fields(source, now).join(' | ');
    this.previous = { at: now, received: counters.received, stored: counters.stored };
    if (this.stream.isTTY) {
      // One terminal line: a longer one would wrap, and the next rewrite would leave its tail behind.
      const width = Math.max(20, (this.stream.columns || 200) - 1);
      this.stream.write(`\r\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
    } else if (now - this.lastLogged >= this.logEveryMs) {
      this.lastLogged = now;
      this.stream.write(`${new Date(now).toISOString()} ${line}\n`);
    }
    return line;
  }

  /**
   * What a newcomer looks for first comes first (stored, scored, anomalies, calibration), so a
   * narrow terminal cuts the plumbing figures, not those.
   */
  private fields(source: StatusSource, now: number): string[] {
    const { counters, queueDepth, deadLetters, devices, scoring, calibration } = source;
    const elapsed = this.previous ? (now - this.previous.at) / 1000 : 0;
    const rate = (current: number, before: number | undefined) =>
      elapsed > 0 && before !== undefined ? ((current - before) / elapsed).toFixed(1) : '-';
    const latency = scoring?.latency;
    return [
      `devices ${devices}`,
      `stored ${counters.stored} (${rate(counters.stored, this.previous?.stored)}/s)`,
      ...(scoring
        ? [
            `scored ${scoring.scored}`,
            `anomalies ${scoring.anomalies}`,
            `p50/p99 ${latency ? `${latency.p50.toFixed(1)}/${latency.p99.toFixed(1)} ms` : '-'}`,
          ]
        : []),
      ...(calibration ? [`calibrating: ${calibration}`] : []),
      `in ${counters.received} msgs (${rate(counters.received, this.previous?.received)}/s)`,
      `queue ${queueDepth}`,
      `quarantined ${counters.quarantined}`,
      `refused ${counters.refused}`,
      `dup ${counters.duplicates}`,
      `dead-letter ${deadLetters}`,
      ...(scoring && scoring.skipped > 0 ? [`unscored ${scoring.skipped}`] : []),
    ];
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.stream.isTTY) this.stream.write('\n');
  }
}
