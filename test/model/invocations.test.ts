import { describe, expect, it } from 'vitest';
import { trainAnomalyModel } from '../../core/model/anomaly-model.ts';
import { gaussian, seededRandom } from '../../core/simulation/random.ts';
import { invoke } from '../../model/invocations.ts';

const SENSORS = ['vibration', 'current', 'flow'];
const random = seededRandom(3);
const rows = Array.from({ length: 400 }, () => [
  0.02 + 0.002 * gaussian(random),
  1.2 + 0.05 * gaussian(random),
  32 + 0.5 * gaussian(random),
]);
const model = trainAnomalyModel({ sensors: SENSORS, rows }, { modelVersion: 'inv-1' });

describe('POST /invocations body', () => {
  it('GIVEN a window with history THEN only the readings from scoreFrom on are answered, indexed in the window', () => {
    const answer = invoke(model, { sensors: SENSORS, rows: rows.slice(0, 70), scoreFrom: 60 });

    expect(answer.results.map((r) => r.index)).toEqual([60, 61, 62, 63, 64, 65, 66, 67, 68, 69]);
  });

  it('GIVEN any window THEN the answer says how much history the model needs, and that much keeps every score warm', () => {
    const history = model.params.smoothingWindow - 1;
    const answer = invoke(model, {
      sensors: SENSORS,
      rows: rows.slice(100, 100 + history + 5),
      scoreFrom: history,
    });

    expect(answer.history).toBe(history);
    expect(answer.results.map((r) => r.warm)).toEqual([true, true, true, true, true]);
    const shortOfOne = invoke(model, {
      sensors: SENSORS,
      rows: rows.slice(101, 100 + history + 5),
      scoreFrom: history - 1,
    });
    expect(shortOfOne.results[0]?.warm).toBe(false);
  });

  it.each([
    [
      {
        sensors: SENSORS,
        rows: [
          [1, 2, 3],
          [1, 'x', 3],
        ],
      },
      'rows: row 1, value 1 is not a number ("x")',
    ],
    [{ sensors: SENSORS, rows: [[1, 2, 3], null] }, 'rows: row 1 is not a list of numbers'],
    [{ sensors: SENSORS, rows: [] }, 'rows: must hold at least one row'],
    [{ sensors: SENSORS, rows: 'many' }, 'rows: must be a list of rows'],
    [{ readings: [{ vibration: 1 }], ageSeconds: [0] }, 'ageSeconds: ageSeconds needs a baseline'],
  ])('GIVEN the bad window %j THEN the refusal says what is wrong in it', (body, message) => {
    expect(() => invoke(model, body)).toThrow(message);
  });

  it('GIVEN a value that is a number but not finite THEN the scoring refuses it, naming the row and sensor', () => {
    // JSON has no Infinity; a caller in process can still hand one over.
    expect(() => invoke(model, { sensors: SENSORS, rows: [[0.02, Infinity, 32]] })).toThrow(
      'row 0, sensor "current" is not a finite number (Infinity)',
    );
  });
});
