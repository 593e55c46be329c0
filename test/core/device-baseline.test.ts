import { describe, expect, it } from 'vitest';
import { growthAt, learnAgeingProfile } from '../../core/model/ageing.ts';
import { scoreReadings, trainAnomalyModel } from '../../core/model/anomaly-model.ts';
import { calibrateBaseline, scoreWithBaseline } from '../../core/model/device-baseline.ts';
import { gaussian, seededRandom } from '../../core/simulation/random.ts';

const SENSORS = ['vibration', 'current', 'flow'];

/**
 * A pump at its own levels whose vibration wanders slowly (by `wander` of its level over an
 * hour), with noise that does not: what a 400-reading calibration cannot see.
 */
function pump(rows: number, seed: number, levels = [0.2, 2.4, 120], wander = 0.05): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: rows }, (_, i) => {
    const drift = 1 + wander * Math.sin((2 * Math.PI * i) / 7200);
    const load = gaussian(random);
    return [
      (levels[0] ?? 0) * drift * (1 + 0.005 * gaussian(random)),
      (levels[1] ?? 0) + 0.2 * load + 0.05 * gaussian(random),
      (levels[2] ?? 0) * (1 + 0.004 * load + 0.002 * gaussian(random)),
    ];
  });
}

const ages = (rows: number, calibration: number) =>
  Array.from({ length: rows }, (_, i) => Math.max(0, i - calibration));
const model = trainAnomalyModel({ sensors: SENSORS, rows: pump(4000, 1) }, { modelVersion: 'fleet-1' });

describe('ageing profile', () => {
  it('GIVEN training data with slow wander WHEN learned THEN the wandering sensor grows with age, in shares of its level', () => {
    const vibration = model.ageing?.sensors.find((s) => s.sensor === 'vibration');
    expect(vibration?.unit).toBe('relative');
    expect(vibration?.growth[0]).toBe(0);
    const last = vibration?.growth[vibration.growth.length - 1] ?? 0;
    expect(last).toBeGreaterThan(1e-4);
    // Never shrinking with age.
    vibration?.growth.forEach((g, i) => {
      expect(g).toBeGreaterThanOrEqual(vibration.growth[i - 1] ?? 0);
    });
  });

  it('GIVEN training data shorter than a calibration plus one step WHEN learned THEN there is no profile', () => {
    const short = pump(700, 2);
    expect(
      learnAgeingProfile(
        { sensors: SENSORS, rows: short },
        { calibrationRows: 400, smoothingWindow: 60, samplingSeconds: 1 },
      ),
    ).toBeUndefined();
    expect(
      trainAnomalyModel({ sensors: SENSORS, rows: short }, { modelVersion: 'short' }).ageing,
    ).toBeUndefined();
  });

  it('interpolates between steps and grows linearly beyond the last one', () => {
    expect(growthAt([0, 2, 4], 300, 150)).toBe(1);
    expect(growthAt([0, 2, 4], 300, 600)).toBe(4);
    expect(growthAt([0, 2, 4], 300, 3000)).toBeCloseTo(4 * (10 / 2.5));
    expect(growthAt([0, 2, 4], 300, -5)).toBe(0);
  });
});

describe('device baseline', () => {
  it('GIVEN a pump at other levels than the training fleet WHEN scored against the fleet normal THEN it alarms, and against its own baseline it does not', () => {
    const other = pump(3000, 3, [0.03, 1.3, 32]);
    const fleet = scoreReadings(model, { sensors: SENSORS, rows: other });
    expect(fleet.slice(400).filter((r) => r.anomalous).length).toBeGreaterThan(2000);
    const baseline = calibrateBaseline(model, { sensors: SENSORS, rows: other.slice(0, 400) });
    const own = scoreWithBaseline(model, baseline, { sensors: SENSORS, rows: other }, ages(3000, 400));
    expect(own.slice(400).filter((r) => r.anomalous)).toHaveLength(0);
    expect(baseline.modelVersion).toBe('fleet-1');
    expect(baseline.rows).toBe(400);
  });

  it('GIVEN a baseline calibrated on 400 readings WHEN the pump wanders normally for hours THEN it stays quiet', () => {
    const rows = pump(12_000, 4);
    const baseline = calibrateBaseline(model, { sensors: SENSORS, rows: rows.slice(0, 400) });
    const scored = scoreWithBaseline(model, baseline, { sensors: SENSORS, rows }, ages(rows.length, 400));
    const flagged = scored.slice(400).filter((r) => r.anomalous).length;
    expect(flagged / (rows.length - 400)).toBeLessThan(0.02);
    // Without the ageing the same baseline would page all day.
    const unaged = scoreWithBaseline(
      model,
      baseline,
      { sensors: SENSORS, rows },
      ages(rows.length, rows.length),
    );
    expect(unaged.slice(400).filter((r) => r.anomalous).length / (rows.length - 400)).toBeGreaterThan(0.2);
  });

  it('GIVEN a young baseline WHEN flow drops by 3% THEN it is flagged within the smoothing window, naming flow', () => {
    const rows = pump(1200, 5).map((row, i) =>
      i >= 700 ? [row[0] ?? 0, row[1] ?? 0, (row[2] ?? 0) * 0.97] : row,
    );
    const baseline = calibrateBaseline(model, { sensors: SENSORS, rows: rows.slice(0, 400) });
    const scored = scoreWithBaseline(model, baseline, { sensors: SENSORS, rows }, ages(rows.length, 400));
    const first = scored.findIndex((r) => r.anomalous);
    expect(first).toBeGreaterThanOrEqual(700);
    expect(first).toBeLessThan(700 + model.params.smoothingWindow);
    expect(scored[first]?.contributors[0]?.sensor).toBe('flow');
  });

  it('GIVEN a window of history and new readings WHEN scored from the first new one THEN the new readings score as in the whole window', () => {
    const rows = pump(1000, 6);
    const baseline = calibrateBaseline(model, { sensors: SENSORS, rows: rows.slice(0, 400) });
    const all = ages(rows.length, 400);
    const whole = scoreWithBaseline(model, baseline, { sensors: SENSORS, rows }, all);
    const from = 930;
    const scored = scoreWithBaseline(model, baseline, { sensors: SENSORS, rows }, all, from);
    expect(scored).toHaveLength(70);
    scored.forEach((result, i) => {
      expect(result.score).toBeCloseTo(whole[from + i]?.score ?? NaN, 9);
      expect(result.warm).toBe(true);
    });
  });

  it('marks readings scored with less than a full smoothing window as not warm', () => {
    const rows = pump(100, 6);
    const baseline = calibrateBaseline(model, { sensors: SENSORS, rows: pump(400, 7) });
    const scored = scoreWithBaseline(model, baseline, { sensors: SENSORS, rows }, ages(100, 0));
    expect(scored.findIndex((r) => r.warm)).toBe(model.params.smoothingWindow - 1);
  });

  it('refuses a baseline of another model, unknown sensors and mismatched ages, naming them', () => {
    const baseline = calibrateBaseline(model, { sensors: SENSORS, rows: pump(400, 8) });
    const retrained = { ...model, modelVersion: 'fleet-2' };
    expect(() =>
      scoreWithBaseline(retrained, baseline, { sensors: SENSORS, rows: pump(10, 9) }, ages(10, 0)),
    ).toThrow('the baseline was calibrated with model fleet-1, not fleet-2: re-baseline the device');
    expect(() =>
      calibrateBaseline(model, { sensors: [...SENSORS, 'noise'], rows: pump(400, 10).map((r) => [...r, 1]) }),
    ).toThrow('calibration readings have sensors model fleet-1 does not know: noise');
    expect(() =>
      scoreWithBaseline(model, baseline, { sensors: SENSORS, rows: pump(10, 11) }, ages(5, 0)),
    ).toThrow('5 ages for 10 readings');
    expect(() => calibrateBaseline(model, { sensors: SENSORS, rows: pump(20, 12) })).toThrow(
      'training needs at least 40 readings, got 20',
    );
  });
});
