import { describe, expect, it } from 'vitest';
import { StatusLine, type StatusSource } from '../../local/runtime/status-line.ts';

/** A terminal of the given width that keeps what is written to it. */
function terminal(columns: number) {
  const written: string[] = [];
  const stream = {
    isTTY: true,
    columns,
    write: (text: string) => written.push(text) > 0,
  } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

const source = (stored: number): StatusSource => ({
  counters: { received: 120, stored, duplicates: 0, quarantined: 2, refused: 1, retried: 0, batches: 0 },
  queueDepth: 4,
  deadLetters: 0,
  devices: 20,
  scoring: { scored: stored - 10, anomalies: 3, skipped: 0, latency: { p50: 1.25, p99: 4.5 } },
  calibration: 'hvac-energy 0/10 calibrated (slowest 189/400 readings)',
});

describe('the status line of npm start', () => {
  it('GIVEN an 80-column terminal THEN what a newcomer looks for is on it: stored, scored and anomalies', () => {
    const { stream, written } = terminal(80);
    let stored = 1000;
    const line = new StatusLine(() => source(stored), stream);
    line.render(0);
    stored = 1500;
    line.render(10_000);

    const shown = written.at(-1) ?? '';
    expect(shown.startsWith('\r\x1b[2K')).toBe(true);
    const visible = shown.slice('\r\x1b[2K'.length);
    expect(visible.length).toBeLessThanOrEqual(79);
    expect(visible).toMatch(/^devices 20 \| stored 1500 \(50\.0\/s\) \| scored 1490 \| anomalies 3 \| /);
  });

  it('GIVEN a wide terminal THEN every figure is there, latency and calibration included', () => {
    const { stream, written } = terminal(400);
    new StatusLine(() => source(1000), stream).render(0);

    const visible = (written.at(-1) ?? '').slice('\r\x1b[2K'.length);
    expect(visible).toBe(
      'devices 20 | stored 1000 (-/s) | scored 990 | anomalies 3 | p50/p99 1.3/4.5 ms' +
        ' | calibrating: hvac-energy 0/10 calibrated (slowest 189/400 readings)' +
        ' | in 120 msgs (-/s) | queue 4 | quarantined 2 | refused 1 | dup 0 | dead-letter 0',
    );
  });

  it('GIVEN output to a log, not a terminal THEN it writes a timestamped line at most every interval', () => {
    const written: string[] = [];
    const log = {
      isTTY: false,
      write: (text: string) => written.push(text) > 0,
    } as unknown as NodeJS.WriteStream;
    const line = new StatusLine(() => source(1000), log, 10_000);

    line.render(10_000);
    line.render(15_000);
    line.render(20_000);

    expect(written).toHaveLength(2);
    expect(written[0]).toMatch(/^1970-01-01T00:00:10\.000Z devices 20 \| stored 1000/);
  });
});
