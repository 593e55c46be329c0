import { describe, expect, it } from 'vitest';
import { anomalyModelParamsSchema, trainAnomalyModel } from '../../core/model/anomaly-model.ts';
import { calibrateBaseline, scoreWithBaseline } from '../../core/model/device-baseline.ts';
import {
  chooseDeviceBaselines,
  faultWarnings,
  MAX_NORMAL_FLAGGED,
  selectParams,
  type SelectionData,
} from '../../core/model/selection.ts';
import { gaussian, seededRandom } from '../../core/simulation/random.ts';

const SENSORS = ['pressure', 'noise'];
/** Readings a day, one a minute. */
const DAY = 1440;

/**
 * A machine whose pressure follows a daily cycle, steps up for a three-hour batch each afternoon
 * and wanders slowly (a von Neumann ratio far below 0.5, so the default drops it), and a
 * noise-like second signal. `drift` adds to the pressure from row `from` on: a fault only the slow
 * signal shows.
 */
function machine(rows: number, seed: number, fault?: { from: number; drift: number }): number[][] {
  const random = seededRandom(seed);
  let wander = 0;
  return Array.from({ length: rows }, (_, i) => {
    wander = 0.98 * wander + 0.2 * 0.2 * gaussian(random);
    const minute = i % DAY;
    const cycle = Math.sin((2 * Math.PI * i) / DAY) + (minute >= 840 && minute < 1020 ? 3 : 0);
    const faulted = fault && i >= fault.from ? fault.drift : 0;
    return [7 + cycle + wander + faulted + 0.01 * gaussian(random), 3 + gaussian(random)];
  });
}

const table = (rows: number[][]) => ({ sensors: SENSORS, rows });

function data(): SelectionData {
  const training = [1, 2].flatMap((seed) => machine(2 * DAY, seed));
  return {
    source: 'test machines',
    training: table(training),
    normal: [table(machine(2 * DAY, 10)), table(machine(2 * DAY, 11))],
    faults: [
      {
        id: 'pressure-drift',
        touches: ['pressure'],
        tables: [table(machine(DAY, 20, { from: 600, drift: 5 }))],
        from: [660],
      },
    ],
  };
}

const base = anomalyModelParamsSchema.parse({ smoothingWindow: 15, samplingSeconds: 60 });

describe('settings chosen from the use case data', () => {
  it('GIVEN a fault only a slow signal shows WHEN the settings are chosen THEN the slow signal is scored and the fault caught, with normal running quiet', () => {
    const selection = selectParams(data(), base, new Set());
    expect(selection.chosen.slowSensorRatio).toBe(0);
    const best = selection.candidates[0];
    expect(best?.tracked).toEqual(['pressure', 'noise']);
    expect(best?.caught['pressure-drift']).toBeGreaterThanOrEqual(0.8);
    expect(best?.normalFlaggedShare).toBeLessThanOrEqual(MAX_NORMAL_FLAGGED);
    expect(selection.warnings).toEqual([]);
    // The default cut would have dropped the pressure: the fault unseen.
    const dropped = selection.candidates.find((c) => c.params.slowSensorRatio === 0.5);
    expect(dropped?.tracked).toEqual(['noise']);
    expect(dropped?.caught['pressure-drift']).toBeLessThan(0.1);
  });

  it('GIVEN a setting the use case pinned THEN it is not varied, and a fault the model cannot see is named in a warning', () => {
    const selection = selectParams(data(), { ...base, slowSensorRatio: 0.5 }, new Set(['slowSensorRatio']));
    expect(selection.pinned).toEqual(['slowSensorRatio']);
    expect(selection.candidates.every((c) => !('slowSensorRatio' in c.params))).toBe(true);
    expect(selection.warnings).toEqual([
      'fault "pressure-drift" changes only pressure, which the model does not score',
    ]);
  });

  it('GIVEN faults caught faintly or not at all THEN the warnings say which and how much', () => {
    expect(
      faultWarnings(
        [
          { id: 'a', touches: ['x'], caught: 0.9 },
          { id: 'b', touches: ['x', 'y'], caught: 0.2 },
          { id: 'c', touches: ['z'], caught: 0 },
          { id: 'd', touches: [], caught: 0 },
        ],
        ['x', 'y'],
        0.5,
      ),
    ).toEqual([
      'fault "b" is caught in only 20% of its readings from an hour after onset (at least 50% wanted)',
      'fault "c" changes only z, which the model does not score',
      'fault "d" is caught in only 0% of its readings from an hour after onset (at least 50% wanted)',
    ]);
  });
});

describe('device baselines or the fleet normal', () => {
  const params = { ...base, slowSensorRatio: 0, calibrationRows: 120 };
  const cyclic = trainAnomalyModel(table([1, 2].flatMap((seed) => machine(2 * DAY, seed))), {
    modelVersion: 'cyclic-1',
    params,
  });

  it('GIVEN a daily cycle longer than a calibration THEN baselines page on normal running, and the fleet normal is chosen', () => {
    const choice = chooseDeviceBaselines(cyclic, [table(machine(2 * DAY, 10))]);
    expect(choice.normalFlaggedShare).toBeGreaterThan(MAX_NORMAL_FLAGGED);
    expect(choice.normalFlaggedShare).toBeGreaterThan(choice.fleetNormalFlaggedShare);
    expect(choice.used).toBe(false);
  });

  it('GIVEN stationary signals THEN each device keeps a baseline of its own', () => {
    const random = seededRandom(5);
    const steady = (rows: number) =>
      table(Array.from({ length: rows }, () => [7 + 0.1 * gaussian(random), 3 + gaussian(random)]));
    const model = trainAnomalyModel(steady(2 * DAY), { modelVersion: 'steady-1', params });
    expect(chooseDeviceBaselines(model, [steady(2 * DAY)]).used).toBe(true);
  });

  it('GIVEN a model with device baselines off WHEN a device calibrates THEN it gets the fleet normal, which does not widen with age', () => {
    const fleetOnly = { ...cyclic, params: { ...cyclic.params, deviceBaselines: false } };
    const rows = machine(400, 30);
    const baseline = calibrateBaseline(fleetOnly, table(rows.slice(0, 120)));
    expect(baseline).toMatchObject({ fleet: true, threshold: cyclic.threshold, tracked: cyclic.tracked });
    const young = scoreWithBaseline(fleetOnly, baseline, table(rows), new Array<number>(400).fill(0));
    const old = scoreWithBaseline(fleetOnly, baseline, table(rows), new Array<number>(400).fill(1e6));
    expect(old.map((r) => r.score)).toEqual(young.map((r) => r.score));
  });
});
