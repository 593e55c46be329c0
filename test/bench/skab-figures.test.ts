import { describe, expect, it } from 'vitest';
import { fileOutcome, figuresOf } from '../../bench/skab-alert-figures.ts';
import { skabPartOf } from '../../bench/skab-split.ts';

describe('the SKAB split by file', () => {
  it.each([
    ['../shared/datasets/skab/valve1/0.csv', 'tuning'],
    ['../shared/datasets/skab/valve1/1.csv', 'held-out'],
    ['../shared/datasets/skab/other/14.csv', 'tuning'],
    ['../shared/datasets/skab/other/13.csv', 'held-out'],
    // A folder the split does not name was never tuned on, whatever its numbers.
    ['/data/skab/valve2/0.csv', 'held-out'],
    ['/data/plant/valve1-copy/2.csv', 'held-out'],
  ])('GIVEN %s THEN it is in the %s part', (file, part) => {
    expect(skabPartOf(file)).toBe(part);
  });
});

describe('the figures of readings and alerts', () => {
  // Rows 0-3 calibrate; then normal, an event at rows 6-8, normal again.
  const labels = [false, false, false, false, false, false, true, true, true, false, false, false];
  const where = { file: 'x.csv', part: 'held-out' as const };

  it('GIVEN an alert opened inside the event THEN it is caught, with its delay, and no false alert', () => {
    const flagged = new Map([
      [5, true],
      [7, true],
      [8, true],
    ]);
    const outcome = fileOutcome(where, labels, flagged, [{ from: 7, to: 9 }], 4);

    expect(outcome.counts).toEqual({ tp: 2, fp: 1, fn: 1, tn: 4 });
    expect(outcome).toMatchObject({ events: 1, caught: 1, covered: 1, falseAlerts: 0, delays: [1] });
    expect(outcome.normalReadings).toBe(5);
  });

  it('GIVEN an alert opened before the event and still open THEN the event is covered, not caught, and the alert is false', () => {
    const outcome = fileOutcome(where, labels, new Map(), [{ from: 5, to: 10 }], 4);

    expect(outcome).toMatchObject({ events: 1, caught: 0, covered: 1, falseAlerts: 1 });
  });

  it('GIVEN files of a part THEN readings are summed before the ratios, and false alerts are per hour of normal readings', () => {
    const caught = fileOutcome(where, labels, new Map([[7, true]]), [{ from: 7, to: 8 }], 4);
    const missed = fileOutcome(where, labels, new Map([[10, true]]), [{ from: 10, to: 11 }], 4);

    const figures = figuresOf([caught, missed]);

    // TP 1, FP 1, FN 5: F1 = 2 / (2 + 1 + 5)
    expect(figures.f1).toBeCloseTo(0.25);
    expect(figures).toMatchObject({ files: 2, events: 2, eventsCaught: 1, falseAlerts: 1 });
    expect(figures.falseAlertsPerDeviceHour).toBeCloseTo(1 / (10 / 3600));
    expect(figures.medianDelaySeconds).toBe(1);
  });
});
