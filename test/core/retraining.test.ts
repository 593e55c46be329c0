import { describe, expect, it } from 'vitest';
import { alertPolicySchema } from '../../core/alerts/policy.ts';
import { replayPolicy } from '../../core/alerts/replay.ts';
import { trainAnomalyModel } from '../../core/model/anomaly-model.ts';
import { normalTrainingSet, scoreOnFeedback, type DeviceRecording } from '../../core/model/retraining.ts';
import { gaussian, seededRandom } from '../../core/simulation/random.ts';
import { repeat, scripted } from '../support/inferences.ts';

const SENSORS = ['vibration', 'flow'];
function recording(
  deviceId: string,
  seed: number,
  rows: number,
  fault?: { from: number; to: number },
): DeviceRecording {
  const random = seededRandom(seed);
  return {
    deviceId,
    times: Array.from({ length: rows }, (_, i) => i * 1000),
    table: {
      sensors: SENSORS,
      rows: Array.from({ length: rows }, (_, i) => {
        const broken = fault && i >= fault.from && i < fault.to;
        return [0.2 * (broken ? 1.5 : 1) + 0.002 * gaussian(random), 120 + 0.5 * gaussian(random)];
      }),
    },
  };
}

describe('retraining from feedback', () => {
  const recordings = [recording('p1', 1, 2000, { from: 1200, to: 1500 }), recording('p2', 2, 2000)];
  const labels = [
    { deviceId: 'p1', from: 1_200_000, to: 1_499_000, label: 'anomaly' as const },
    { deviceId: 'p2', from: 500_000, to: 800_000, label: 'normal' as const },
  ];

  it('GIVEN a confirmed fault and a window judged normal WHEN building the training set THEN the fault is left out and the normal window stays', () => {
    const set = normalTrainingSet(recordings, labels);
    expect(set.excluded).toBe(300);
    expect(set.segments).toEqual([1700, 2000]);
    expect(set.table.rows).toHaveLength(3700);
  });

  it('scores a model on the verdicts: confirmed faults flagged, normal windows quiet', () => {
    const model = trainAnomalyModel(normalTrainingSet(recordings, labels).table, {
      modelVersion: 'candidate',
      params: { calibrationRows: 400 },
    });
    expect(scoreOnFeedback(model, recordings, labels)).toEqual({
      anomalies: 1,
      anomaliesFlagged: 1,
      normalReadings: 301,
      normalFlaggedShare: 0,
    });
  });
});

describe('alert replay', () => {
  it('GIVEN stored scores WHEN replayed under two policies THEN it counts alerts, suppressions and caught faults for each', async () => {
    // Three bursts of 20 anomalous seconds, 100 s apart, on one device.
    const script = `${repeat('A', 20)}${repeat('.', 80)}`.repeat(3);
    const devices = new Map([['p1', scripted(script)]]);
    const anomalies = [{ deviceId: 'p1', from: 100_000, to: 119_000 }];
    const base = { useCase: 'uc', inference: 'a', devices, anomalies };
    const eager = await replayPolicy({
      ...base,
      policy: alertPolicySchema.parse({
        open: { anomalousReadings: 5, withinSeconds: 10 },
        clearAfterSeconds: 30,
        cooldownSeconds: 0,
      }),
    });
    const calm = await replayPolicy({
      ...base,
      policy: alertPolicySchema.parse({
        open: { anomalousReadings: 5, withinSeconds: 10 },
        clearAfterSeconds: 30,
        cooldownSeconds: 600,
      }),
    });
    expect(eager).toMatchObject({ alerts: 3, eventsCaught: 1, events: 1, medianDelaySeconds: 4 });
    // The second and third bursts fall in one cooldown: it is reported once.
    expect(calm).toMatchObject({
      alerts: 1,
      eventsCaught: 0,
      suppressed: { cooldown: 1, silence: 0, cap: 0 },
    });
  });
});
