import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { DeviceScoring, type ScoredDevice } from '../../core/baseline/device-scoring.ts';
import { InMemoryBaselineStore, InMemoryTelemetry } from '../../core/baseline/in-memory.ts';
import type { TelemetryReader } from '../../core/baseline/ports.ts';
import { requestCalibration } from '../../core/baseline/rebaseline.ts';
import { DeviceWindows } from '../../core/inference/device-windows.ts';
import { BatchingInferenceClient } from '../../core/inference/batching-client.ts';
import { InferenceFailure, type InferenceClient } from '../../core/inference/ports.ts';
import { ResilientScorer } from '../../core/inference/resilient-scorer.ts';
import type { TelemetryRecord } from '../../core/ingest/records.ts';
import { trainAnomalyModel, type AnomalyModel } from '../../core/model/anomaly-model.ts';
import { PermissionDenied } from '../../core/operators/actor.ts';
import { gaussian, seededRandom } from '../../core/simulation/random.ts';
import { InProcessInferenceClient } from '../../model/in-process-client.ts';
import { telemetryRecord } from '../support/messages.ts';

const COLUMNS = ['vibration', 'flow'];
const CALIBRATION = 100;

function normal(rows: number, seed: number): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: rows }, () => [0.2 + 0.002 * gaussian(random), 120 + 0.5 * gaussian(random)]);
}

const model = trainAnomalyModel(
  { sensors: COLUMNS, rows: normal(2000, 1) },
  { modelVersion: 'm1', params: { smoothingWindow: 10, calibrationRows: CALIBRATION } },
);

function readings(device: string, from: number, values: readonly (readonly number[])[]): TelemetryRecord[] {
  return values.map((row, i) =>
    telemetryRecord(device, (from + i) * 1000, from + i, { vibration: row[0] ?? 0, flow: row[1] ?? 0 }),
  );
}

/** One scoring process (a Lambda instance, the runtime) over shared stores. */
function processWith(
  baselines: InMemoryBaselineStore,
  telemetry: TelemetryReader,
  serving: AnomalyModel = model,
  client: InferenceClient = new InProcessInferenceClient(serving),
  options: { maxCalibrationsPerBatch?: number; windows?: DeviceWindows } = {},
): DeviceScoring {
  const { windows = new DeviceWindows(COLUMNS, COLUMNS, 10), ...scoringOptions } = options;
  const clock = { now: () => Date.now() };
  return new DeviceScoring(
    windows,
    new ResilientScorer(client, clock, (ms, signal) => sleep(ms, undefined, { signal })),
    baselines,
    telemetry,
    clock,
    { calibrationReadings: new Map([['uc', CALIBRATION]]), ...scoringOptions },
  );
}

async function ingest(
  scoring: DeviceScoring,
  telemetry: InMemoryTelemetry,
  records: TelemetryRecord[],
): Promise<ScoredDevice[]> {
  telemetry.add(records);
  return scoring.score(records);
}

const states = (scored: ScoredDevice[]) => scored.flatMap((d) => d.inferences.map((i) => i.deviceState));

describe('DeviceScoring', () => {
  it('GIVEN a new device WHEN its first readings arrive THEN they calibrate without flags, and the baseline then monitors it', async () => {
    const baselines = new InMemoryBaselineStore();
    const telemetry = new InMemoryTelemetry();
    const scoring = processWith(baselines, telemetry);
    const rows = normal(300, 2).map((row, i) => (i >= 200 ? [row[0] ?? 0, (row[1] ?? 0) * 0.9] : row));

    const first = await ingest(scoring, telemetry, readings('p1', 0, rows.slice(0, 60)));
    expect(new Set(states(first))).toEqual(new Set(['calibrating']));
    expect(first[0]?.inferences.every((i) => i.anomalous === false && i.baselineVersion === 1)).toBe(true);
    expect((await baselines.get('uc', 'p1'))?.calibration).toMatchObject({
      reason: 'commissioning',
      collected: 60,
      requestedBy: { role: 'system' },
    });

    // The calibration completes inside this batch: readings 100.. are monitored.
    const second = await ingest(scoring, telemetry, readings('p1', 60, rows.slice(60, 160)));
    expect(states(second).filter((s) => s === 'calibrating')).toHaveLength(40);
    expect(states(second).slice(40)).toEqual(new Array(60).fill('monitoring'));
    const state = await baselines.get('uc', 'p1');
    expect(state?.calibration).toBeUndefined();
    expect(state?.active).toMatchObject({
      version: 1,
      reason: 'commissioning',
      calibratedFrom: 0,
      calibratedUntil: 99_000,
    });
    expect(state?.active?.baseline.rows).toBe(CALIBRATION);

    const third = await ingest(scoring, telemetry, readings('p1', 160, rows.slice(160)));
    const flags = third[0]?.inferences.map((i) => i.anomalous) ?? [];
    expect(flags.slice(0, 40).some(Boolean)).toBe(false);
    expect(flags.slice(40).some(Boolean)).toBe(true);
  });

  it('GIVEN a batch of 40 devices, half monitored and half new WHEN scored through a batching client THEN the model is called once for the batch, and each device scores as it would alone', async () => {
    const devices = Array.from({ length: 40 }, (_, index) => `p${index}`);
    const alone = { baselines: new InMemoryBaselineStore(), telemetry: new InMemoryTelemetry() };
    const batched = { baselines: new InMemoryBaselineStore(), telemetry: new InMemoryTelemetry() };
    const batching = new BatchingInferenceClient(new InProcessInferenceClient(model), setImmediate);
    // Every calibration due completes in its batch: the budget is not what this is about.
    const all = { maxCalibrationsPerBatch: devices.length };
    const single = processWith(
      alone.baselines,
      alone.telemetry,
      model,
      new InProcessInferenceClient(model),
      all,
    );
    const many = processWith(batched.baselines, batched.telemetry, model, batching, all);
    // Half the devices calibrate first; then every device sends a batch.
    const calibration = devices
      .slice(0, 20)
      .flatMap((device, i) => readings(device, 0, normal(CALIBRATION + 20, 10 + i)));
    await ingest(single, alone.telemetry, calibration);
    await ingest(many, batched.telemetry, calibration);
    const before = { ...batching.sent };
    const batch = devices.flatMap((device, i) => readings(device, 200, normal(20, 100 + i)));

    const expected = await ingest(single, alone.telemetry, batch);
    const scored = await ingest(many, batched.telemetry, batch);

    expect(batching.sent.calls - before.calls).toBe(1);
    expect(batching.sent.windows - before.windows).toBe(40);
    expect(new Set(states(scored))).toEqual(new Set(['calibrating', 'monitoring']));
    // All but the round trip, which batching changes.
    const withoutLatency = (devices: ScoredDevice[]) =>
      devices.map((device) => ({
        ...device,
        inferences: device.inferences.map((i) => ({ ...i, latencyMs: null })),
      }));
    expect(withoutLatency(scored)).toEqual(withoutLatency(expected));
    expect(scored.flatMap((device) => device.inferences).every((i) => i.status === 'scored')).toBe(true);
  });

  it('GIVEN two processes scoring one device at once WHEN the calibration completes THEN exactly one baseline version results and no progress is lost', async () => {
    const baselines = new InMemoryBaselineStore();
    const telemetry = new InMemoryTelemetry();
    const a = processWith(baselines, telemetry);
    const b = processWith(baselines, telemetry);
    const rows = normal(240, 3);
    const batches = Array.from({ length: 12 }, (_, k) =>
      readings('p2', k * 20, rows.slice(k * 20, k * 20 + 20)),
    );
    // Pairs of batches are scored concurrently by the two processes.
    for (let k = 0; k < batches.length; k += 2) {
      await Promise.all([ingest(a, telemetry, batches[k] ?? []), ingest(b, telemetry, batches[k + 1] ?? [])]);
    }
    const state = await baselines.get('uc', 'p2');
    expect(state?.active?.version).toBe(1);
    expect(state?.active?.calibratedUntil).toBe(99_000);
    expect(state?.calibration).toBeUndefined();
  });

  it('GIVEN a new model WHEN a device with a baseline of the old one is scored THEN it recalibrates on the stored calibration readings, without a new calibration window', async () => {
    const baselines = new InMemoryBaselineStore();
    const telemetry = new InMemoryTelemetry();
    const rows = normal(200, 4);
    await ingest(processWith(baselines, telemetry), telemetry, readings('p3', 0, rows.slice(0, 150)));
    const retrained = trainAnomalyModel(
      { sensors: COLUMNS, rows: normal(2000, 5) },
      { modelVersion: 'm2', params: { smoothingWindow: 10, calibrationRows: CALIBRATION } },
    );
    const after = await ingest(
      processWith(baselines, telemetry, retrained),
      telemetry,
      readings('p3', 150, rows.slice(150)),
    );
    expect(after[0]?.inferences.every((i) => i.status === 'scored' && i.modelVersion === 'm2')).toBe(true);
    expect(after[0]?.inferences[0]?.baselineVersion).toBe(2);
    const state = await baselines.get('uc', 'p3');
    expect(state?.active).toMatchObject({
      version: 2,
      reason: 'model-changed',
      calibratedFrom: 0,
      calibratedUntil: 99_000,
    });
    expect(state?.active?.baseline.modelVersion).toBe('m2');
  });

  it('GIVEN a restarted process WHEN a monitored device sends readings THEN they warm up, unflagged, until the smoothing has history', async () => {
    const baselines = new InMemoryBaselineStore();
    const telemetry = new InMemoryTelemetry();
    const rows = normal(200, 6).map((row, i) => (i >= 150 ? [row[0] ?? 0, (row[1] ?? 0) * 0.8] : row));
    await ingest(processWith(baselines, telemetry), telemetry, readings('p4', 0, rows.slice(0, 150)));
    const restarted = await ingest(
      processWith(baselines, telemetry),
      telemetry,
      readings('p4', 150, rows.slice(150)),
    );
    const inferences = restarted[0]?.inferences ?? [];
    expect(inferences.slice(0, 9).every((i) => i.deviceState === 'warming-up' && i.anomalous === false)).toBe(
      true,
    );
    expect(inferences.slice(9).every((i) => i.deviceState === 'monitoring')).toBe(true);
    expect(inferences.slice(9).some((i) => i.anomalous)).toBe(true);
  });

  it('GIVEN an engineer re-baselines a device WHEN readings arrive THEN they calibrate version 2 with the reason, raising nothing', async () => {
    const baselines = new InMemoryBaselineStore();
    const telemetry = new InMemoryTelemetry();
    const scoring = processWith(baselines, telemetry);
    const rows = normal(400, 7);
    await ingest(scoring, telemetry, readings('p5', 0, rows.slice(0, 150)));
    // After a repair the flow runs 10% lower: a new normal.
    const repaired = rows.slice(150).map((row) => [row[0] ?? 0, (row[1] ?? 0) * 0.9]);
    await requestCalibration(baselines, {
      useCase: 'uc',
      deviceId: 'p5',
      reason: 'requested',
      note: 'impeller replaced (WO-1234)',
      actor: { name: 'dana', role: 'reliability-engineer' },
      at: 150_000,
    });
    const during = await ingest(scoring, telemetry, readings('p5', 150, repaired.slice(0, 100)));
    expect(new Set(states(during))).toEqual(new Set(['calibrating']));
    expect(during[0]?.inferences.some((i) => i.anomalous)).toBe(false);
    const after = await ingest(scoring, telemetry, readings('p5', 250, repaired.slice(100)));
    expect(after[0]?.inferences.some((i) => i.anomalous)).toBe(false);
    expect((await baselines.get('uc', 'p5'))?.active).toMatchObject({
      version: 2,
      reason: 'requested',
      note: 'impeller replaced (WO-1234)',
      requestedBy: { name: 'dana', role: 'reliability-engineer' },
      calibratedFrom: 150_000,
    });
  });

  it('GIVEN the endpoint down when a calibration is due WHEN the next batch comes THEN it calibrates then, without counting again', async () => {
    const baselines = new InMemoryBaselineStore();
    const telemetry = new InMemoryTelemetry();
    const inner = new InProcessInferenceClient(model);
    let down = true;
    const flaky = {
      invoke: (window: Parameters<InProcessInferenceClient['invoke']>[0]) =>
        window.calibrate && down
          ? Promise.reject(new InferenceFailure('endpoint down', false))
          : inner.invoke(window),
    };
    const clock = { now: () => 0 };
    const scoring = new DeviceScoring(
      new DeviceWindows(COLUMNS, COLUMNS, 10),
      new ResilientScorer(flaky, clock, (ms, signal) => sleep(ms, undefined, { signal })),
      baselines,
      telemetry,
      clock,
      { calibrationReadings: new Map([['uc', CALIBRATION]]) },
    );
    const rows = normal(130, 9);
    await ingest(scoring, telemetry, readings('p7', 0, rows.slice(0, 110)));
    expect((await baselines.get('uc', 'p7'))?.calibration?.collected).toBe(110);
    down = false;
    const next = await ingest(scoring, telemetry, readings('p7', 110, rows.slice(110)));
    expect((await baselines.get('uc', 'p7'))?.active).toMatchObject({ version: 1, calibratedUntil: 99_000 });
    expect(states(next)).toEqual(new Array(20).fill('monitoring'));
  });

  it('refuses a re-baseline by a role that may not, or without a reason', async () => {
    const baselines = new InMemoryBaselineStore();
    const request = {
      useCase: 'uc',
      deviceId: 'p6',
      reason: 'requested' as const,
      note: 'why',
      actor: { name: 'olu', role: 'operator' as const },
      at: 0,
    };
    await expect(requestCalibration(baselines, request)).rejects.toThrow(PermissionDenied);
    await expect(requestCalibration(baselines, request)).rejects.toThrow(
      'olu (operator) may not rebaseline; roles that may: reliability-engineer, ml-engineer',
    );
    await expect(
      requestCalibration(baselines, {
        ...request,
        actor: { name: 'dana', role: 'reliability-engineer' },
        note: ' ',
      }),
    ).rejects.toThrow('a re-baseline needs a reason in words (note)');
    // An operator's "new normal" verdict may start one.
    await expect(requestCalibration(baselines, { ...request, reason: 'new-normal' })).resolves.toMatchObject({
      calibration: { reason: 'new-normal' },
    });
  });

  it('GIVEN six devices that reach their calibration count in one batch WHEN it is scored THEN four complete and two calibrate on, completing with the next batch', async () => {
    const baselines = new InMemoryBaselineStore();
    const telemetry = new InMemoryTelemetry();
    const scoring = processWith(baselines, telemetry, model, new InProcessInferenceClient(model), {
      maxCalibrationsPerBatch: 4,
    });
    const devices = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
    const active = async () =>
      (await Promise.all(devices.map((d) => baselines.get('uc', d)))).filter((state) => state?.active).length;

    const first = await ingest(
      scoring,
      telemetry,
      devices.flatMap((d, i) => readings(d, 0, normal(CALIBRATION, 10 + i))),
    );
    expect(await active()).toBe(4);
    // The two left over were scored, as calibrating readings: nothing was lost waiting.
    expect(first.flatMap((d) => d.inferences).filter((i) => i.status === 'scored')).toHaveLength(
      6 * CALIBRATION,
    );

    await ingest(
      scoring,
      telemetry,
      devices.flatMap((d, i) => readings(d, CALIBRATION, normal(5, 20 + i))),
    );
    expect(await active()).toBe(6);
  });

  it('GIVEN a device completing its calibration while its readings are read back slowly WHEN a batch is scored THEN the other devices are scored in one call meanwhile, and it is scored once its baseline is fitted', async () => {
    const baselines = new InMemoryBaselineStore();
    const telemetry = new InMemoryTelemetry();
    let release!: () => void;
    const readBack = new Promise<void>((resolve) => (release = resolve));
    let reading = false;
    const slowReader: TelemetryReader = {
      readings: async (...args) => {
        reading = true;
        await readBack;
        return telemetry.readings(...args);
      },
    };
    const batching = new BatchingInferenceClient(new InProcessInferenceClient(model), setImmediate);
    const scoring = processWith(baselines, slowReader, model, batching);
    const others = ['p1', 'p2', 'p3'];
    await ingest(scoring, telemetry, [
      ...readings('p0', 0, normal(CALIBRATION - 10, 30)),
      ...others.flatMap((d, i) => readings(d, 0, normal(20, 40 + i))),
    ]);
    const before = { ...batching.sent };

    // p0 reaches its count with this batch; the others go on calibrating.
    const scored = ingest(scoring, telemetry, [
      ...readings('p0', CALIBRATION - 10, normal(30, 31)),
      ...others.flatMap((d, i) => readings(d, 20, normal(10, 50 + i))),
    ]);
    await vi.waitFor(() => {
      expect(batching.sent.calls - before.calls).toBe(1);
    });
    expect(reading).toBe(true);
    expect(batching.sent.windows - before.windows).toBe(others.length);
    release();
    const devices = await scored;
    expect((await baselines.get('uc', 'p0'))?.active?.version).toBe(1);
    expect(devices.map((d) => d.deviceId)).toEqual(['p0', ...others]);
    const p0 = devices[0]?.inferences.map((i) => i.deviceState) ?? [];
    expect(p0).toEqual([...Array<string>(10).fill('calibrating'), ...Array<string>(20).fill('monitoring')]);
    expect(devices.flatMap((d) => d.inferences).every((i) => i.status === 'scored')).toBe(true);
  });

  it('refuses a calibration budget below one, naming it', () => {
    expect(() =>
      processWith(new InMemoryBaselineStore(), new InMemoryTelemetry(), model, undefined, {
        maxCalibrationsPerBatch: 0,
      }),
    ).toThrow('maxCalibrationsPerBatch must be a whole number of at least 1, got 0');
  });

  it('GIVEN a process that keeps 60 readings of history WHEN the model answers it needs 9 THEN later windows carry 9, still scored warm', async () => {
    const baselines = new InMemoryBaselineStore();
    const telemetry = new InMemoryTelemetry();
    const inner = new InProcessInferenceClient(model);
    const sent: number[] = [];
    const spy: InferenceClient = {
      invoke: (window) => {
        if (!window.calibrate) sent.push(window.scoreFrom);
        return inner.invoke(window);
      },
    };
    const windows = new DeviceWindows(COLUMNS, COLUMNS, 60);
    const scoring = processWith(baselines, telemetry, model, spy, { windows });
    const rows = normal(180, 12);
    for (let from = 0; from < 180; from += 30) {
      await ingest(scoring, telemetry, readings('p9', from, rows.slice(from, from + 30)));
    }
    expect(windows.historyReadings).toBe(model.params.smoothingWindow - 1);
    // The first window had no past; every later one the model's 9 readings, never the 60 kept at
    // first. The batch that completes the calibration (at reading 100) is sent as two windows.
    expect(sent).toEqual([0, 9, 9, 9, 9 + 10, 9, 9]);
    const last = await ingest(scoring, telemetry, readings('p9', 180, normal(5, 13)));
    expect(last[0]?.inferences.map((i) => i.deviceState)).toEqual(new Array(5).fill('monitoring'));
  });
});
