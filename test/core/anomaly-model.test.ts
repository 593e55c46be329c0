import { describe, expect, it } from 'vitest';
import {
  anomalyModelSchema,
  scoreReadings,
  trainAnomalyModel,
  type SensorTable,
} from '../../core/model/anomaly-model.ts';
import { gaussian, seededRandom } from '../../core/simulation/random.ts';

const SENSORS = ['vibration', 'current', 'pressure', 'flow'];

/** Correlated noise around fixed levels, like a machine in steady normal operation. */
function normalOperation(rows: number, seed: number): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: rows }, () => {
    const load = gaussian(random);
    return [
      0.03 + 0.002 * gaussian(random),
      1.3 + 0.05 * load + 0.01 * gaussian(random),
      0.4 + 0.02 * load + 0.01 * gaussian(random),
      32 + 0.8 * load + 0.3 * gaussian(random),
    ];
  });
}

function table(rows: number[][], sensors = SENSORS): SensorTable {
  return { sensors, rows };
}

const model = trainAnomalyModel(table(normalOperation(800, 1)), { modelVersion: 'test-1' });
const firstAnomaly = (rows: number[][]) => scoreReadings(model, table(rows)).findIndex((r) => r.anomalous);

describe('anomaly model', () => {
  it('raises no alarm on clean noise from the same process', () => {
    const scored = scoreReadings(model, table(normalOperation(3000, 2)));
    expect(scored.filter((r) => r.anomalous)).toHaveLength(0);
  });

  it('detects a step within its smoothing window and names the sensor', () => {
    const rows = normalOperation(600, 3).map((row, i) =>
      i >= 300 ? [row[0] ?? 0, row[1] ?? 0, (row[2] ?? 0) + 0.15, row[3] ?? 0] : row,
    );
    const first = firstAnomaly(rows);
    expect(first).toBeGreaterThanOrEqual(300);
    expect(first).toBeLessThan(300 + model.params.smoothingWindow);
    expect(scoreReadings(model, table(rows))[599]?.contributors[0]?.sensor).toBe('pressure');
  });

  it('detects a slow drift once it leaves the normal band, and names the sensor', () => {
    const rows = normalOperation(1500, 4).map((row, i) => [
      (row[0] ?? 0) + (i >= 200 ? 0.00005 * (i - 200) : 0),
      ...row.slice(1),
    ]);
    const first = firstAnomaly(rows);
    expect(first).toBeGreaterThan(200);
    expect(first).toBeLessThan(1500);
    expect(scoreReadings(model, table(rows))[first]?.contributors[0]?.sensor).toBe('vibration');
  });

  it('detects an isolated spike', () => {
    const rows = normalOperation(400, 5);
    rows[250] = [0.03, 1.3, 0.4, 32 + 60];
    const scored = scoreReadings(model, table(rows));
    expect(scored.slice(0, 250).some((r) => r.anomalous)).toBe(false);
    expect(scored[250]?.anomalous).toBe(true);
    expect(scored[250]?.contributors[0]?.sensor).toBe('flow');
  });

  it('is causal: scoring a prefix gives the same results as the start of the whole window', () => {
    const rows = normalOperation(500, 6).map((row, i) => (i >= 200 ? row.map((v) => v * 1.2) : row));
    const whole = scoreReadings(model, table(rows));
    for (const length of [1, 59, 60, 201, 350]) {
      expect(scoreReadings(model, table(rows.slice(0, length)))).toEqual(whole.slice(0, length));
    }
  });

  it('GIVEN a window with history WHEN scored from a reading on THEN the results are those of the whole window from there, without scoring the history', () => {
    const rows = normalOperation(300, 9).map((row, i) => (i >= 250 ? row.map((v) => v * 1.3) : row));
    const whole = scoreReadings(model, table(rows));
    const window = model.params.smoothingWindow;
    // From the start, within the first window, past it, at the last reading, and past the end.
    for (const from of [0, window - 2, window + 5, 240, 299, 300, 310]) {
      const scored = scoreReadings(model, table(rows), from);
      expect(scored).toHaveLength(Math.max(0, 300 - from));
      scored.forEach((result, i) => {
        const expected = whole[from + i];
        // The moving mean sums fewer terms: equal up to rounding.
        expect(result.score).toBeCloseTo(expected?.score ?? NaN, 9);
        expect({ ...result, score: 0, contributors: result.contributors.map((c) => c.sensor) }).toEqual({
          ...expected,
          score: 0,
          contributors: expected?.contributors.map((c) => c.sensor),
        });
      });
    }
    // The anomaly after reading 250 is still seen.
    expect(scoreReadings(model, table(rows), 240).some((r) => r.anomalous)).toBe(true);
  });

  it('leaves slow and constant sensors out of the score, saying why', () => {
    const random = seededRandom(7);
    let level = 20;
    const rows = normalOperation(600, 8).map((row) => {
      level += 0.05 + 0.01 * gaussian(random);
      return [...row, level, 5];
    });
    const trained = trainAnomalyModel(table(rows, [...SENSORS, 'temperature', 'setpoint']), {
      modelVersion: 'test-2',
    });
    expect(trained.tracked.map((t) => t.sensor)).toEqual(SENSORS);
    expect(trained.untracked).toEqual([
      {
        sensor: 'temperature',
        reason: expect.stringMatching(
          /^moves too slowly to define a normal level \(von Neumann ratio 0\.\d+ < 0\.5\)$/,
        ) as unknown,
        // Its level and spread, for the gross-deviation check.
        mean: expect.any(Number) as unknown,
        scale: expect.any(Number) as unknown,
      },
      { sensor: 'setpoint', reason: 'constant in the training data' },
    ]);
  });

  it('round-trips through its JSON schema', () => {
    expect(anomalyModelSchema.parse(JSON.parse(JSON.stringify(model)))).toEqual(model);
  });

  it('explains bad training data and bad readings', () => {
    expect(() => trainAnomalyModel(table(normalOperation(20, 9)), { modelVersion: 'x' })).toThrow(
      'training needs at least 40 readings, got 20',
    );
    const withNaN = normalOperation(100, 10);
    withNaN[3] = [0.03, Number.NaN, 0.4, 32];
    expect(() => trainAnomalyModel(table(withNaN), { modelVersion: 'x' })).toThrow(
      'training data: row 3, sensor "current" is not a finite number (NaN)',
    );
    expect(() =>
      scoreReadings(
        model,
        table(
          normalOperation(5, 11).map((r) => r.slice(0, 3)),
          SENSORS.slice(0, 3),
        ),
      ),
    ).toThrow('readings lack sensor "flow"');
    expect(() =>
      trainAnomalyModel(table(normalOperation(100, 12)), {
        modelVersion: 'x',
        params: { thresholdQuantile: 2 },
      }),
    ).toThrow();
  });
});
