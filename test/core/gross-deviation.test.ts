import { describe, expect, it } from 'vitest';
import { scoreReadings, trainAnomalyModel } from '../../core/model/anomaly-model.ts';
import { calibrateBaseline, scoreWithBaseline } from '../../core/model/device-baseline.ts';
import { slowWandering } from '../../core/model/gross-deviation.ts';
import { gaussian, seededRandom } from '../../core/simulation/random.ts';

const SENSORS = ['vibration', 'current'];

/** A slowly wandering vibration (left out as slow) and a noise-like current; `kick` adds to the vibration from `from` on. */
function pump(rows: number, seed: number, kick = 0, from = rows): number[][] {
  const random = seededRandom(seed);
  let wander = 0;
  return Array.from({ length: rows }, (_, i) => {
    wander = 0.995 * wander + 0.01 * gaussian(random);
    return [1 + wander + (i >= from ? kick : 0), 3 + 0.1 * gaussian(random)];
  });
}

describe('gross deviation of the signals left out as slow', () => {
  const train = (grossDeviation: number) =>
    trainAnomalyModel(
      { sensors: SENSORS, rows: pump(3000, 1) },
      { modelVersion: 'g', params: { grossDeviation } },
    );

  it('GIVEN the check off THEN a slow signal a hundred spreads off is still not scored; GIVEN it on THEN it is, and named', () => {
    const readings = { sensors: SENSORS, rows: pump(400, 2, 10, 200) };
    const off = train(0);
    expect(off.untracked.map((u) => u.sensor)).toEqual(['vibration']);
    expect(
      scoreReadings(off, readings)
        .slice(300)
        .some((r) => r.anomalous),
    ).toBe(false);

    const on = train(20);
    const scored = scoreReadings(on, readings);
    expect(scored.slice(0, 200).some((r) => r.anomalous)).toBe(false);
    expect(scored.slice(300).every((r) => r.anomalous)).toBe(true);
    expect(scored[399]?.contributors[0]?.sensor).toBe('vibration');
  });

  it('GIVEN a device baseline THEN the check uses the level and spread of its own calibration', () => {
    const model = train(20);
    const rows = pump(700, 3, 10, 500);
    const baseline = calibrateBaseline(model, { sensors: SENSORS, rows: rows.slice(0, 400) });
    expect(baseline.untracked[0]).toMatchObject({ sensor: 'vibration', mean: expect.any(Number) as unknown });
    const scored = scoreWithBaseline(
      model,
      baseline,
      { sensors: SENSORS, rows },
      rows.map(() => 0),
    );
    expect(scored.slice(400, 500).some((r) => r.anomalous)).toBe(false);
    expect(scored.slice(600).every((r) => r.anomalous)).toBe(true);
  });

  it('GIVEN an old baseline THEN the spread of its slow signals has grown with the square root of its age: a wander that would page a new one does not, a gross change still does', () => {
    expect(slowWandering(0, 900)).toBe(1);
    expect(slowWandering(3 * 900, 900)).toBe(2);
    const model = train(20);
    const rows = pump(700, 3);
    const baseline = calibrateBaseline(model, { sensors: SENSORS, rows: rows.slice(0, 400) });
    const spread = baseline.untracked[0]?.scale ?? 0;
    // The vibration 40 spreads off its calibrated level: past the check's 20 at once, inside it two days on.
    const moved = rows.map((row, i) =>
      i >= 500 ? [(baseline.untracked[0]?.mean ?? 0) + 40 * spread, row[1] ?? 0] : row,
    );
    const scoreAt = (ageSeconds: number) =>
      scoreWithBaseline(
        model,
        baseline,
        { sensors: SENSORS, rows: moved },
        moved.map(() => ageSeconds),
      ).slice(600);

    expect(scoreAt(0).every((r) => r.anomalous)).toBe(true);
    expect(scoreAt(2 * 86_400).some((r) => r.anomalous)).toBe(false);
    // A hundred times further is gross at any age a baseline reaches.
    const far = rows.map((row, i) =>
      i >= 500 ? [(baseline.untracked[0]?.mean ?? 0) + 4000 * spread, row[1] ?? 0] : row,
    );
    expect(
      scoreWithBaseline(
        model,
        baseline,
        { sensors: SENSORS, rows: far },
        far.map(() => 2 * 86_400),
      )
        .slice(600)
        .every((r) => r.anomalous),
    ).toBe(true);
  });
});
