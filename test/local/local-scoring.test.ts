import { describe, expect, it } from 'vitest';
import type { ScoredDevice } from '../../core/baseline/device-scoring.ts';
import type { InferenceRecord } from '../../core/inference/inference-records.ts';
import type { TelemetryRecord } from '../../core/ingest/records.ts';
import { LocalScoring, MAX_PASS_READINGS } from '../../local/scoring/scoring.ts';

const reading = (seq: number): TelemetryRecord =>
  ({ useCase: 'pump-maintenance', deviceId: 'pump-1', seq, time: seq * 1000 }) as unknown as TelemetryRecord;

/**
 * A device scoring that records each pass's readings and fails the passes it is told to. A pass
 * answers once `release` is called (at once without `held`), so a test can queue batches behind it.
 */
function fakeScoring(failOn: (pass: number) => boolean = () => false, held = false) {
  const passes: number[][] = [];
  let release: () => void = () => undefined;
  const released = held ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
  let onStart: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (onStart = resolve));
  return {
    passes,
    started,
    release: () => {
      release();
    },
    score: async (records: readonly TelemetryRecord[]): Promise<ScoredDevice[]> => {
      onStart();
      await released;
      passes.push(records.map((r) => (r as unknown as { seq: number }).seq));
      if (failOn(passes.length)) throw new Error(`pass ${passes.length} failed`);
      const inferences = records.map(
        () =>
          ({
            status: 'scored',
            deviceState: 'monitoring',
            anomalous: false,
            latencyMs: 5,
          }) as InferenceRecord,
      );
      return [{ useCase: 'pump-maintenance', deviceId: 'pump-1', inferences }];
    },
  };
}

const store = { writeInferences: () => Promise.resolve() };

describe('LocalScoring', () => {
  it('GIVEN small batches submitted while a pass runs THEN the next pass scores them together, in order', async () => {
    const scoring = fakeScoring(() => false, true);
    const local = new LocalScoring(scoring, store, undefined);
    local.submit([reading(0)]);
    await scoring.started;
    for (let seq = 1; seq < 10; seq++) local.submit([reading(seq)]);
    scoring.release();
    await local.drain();
    // The first batch alone (nothing else was queued yet), then the nine that queued behind it.
    expect(scoring.passes).toEqual([[0], [1, 2, 3, 4, 5, 6, 7, 8, 9]]);
    expect(local.counters.scored).toBe(10);
  });

  it('GIVEN one batch larger than a pass THEN all of it is scored, in passes of the most a pass takes, and drain returns', async () => {
    const scoring = fakeScoring();
    const local = new LocalScoring(scoring, store, undefined);
    const total = 2 * MAX_PASS_READINGS + 200;
    local.submit(Array.from({ length: total }, (_, seq) => reading(seq)));
    await local.drain();
    expect(scoring.passes.map((pass) => pass.length)).toEqual([MAX_PASS_READINGS, MAX_PASS_READINGS, 200]);
    expect(scoring.passes.flat()).toEqual(Array.from({ length: total }, (_, seq) => seq));
  });

  it('GIVEN a pass that fails THEN the error is reported, the passes after it are scored, and drain returns', async () => {
    const scoring = fakeScoring((pass) => pass === 1);
    const errors: unknown[] = [];
    const local = new LocalScoring(scoring, store, undefined, (error) => errors.push(error));
    local.submit(Array.from({ length: MAX_PASS_READINGS + 200 }, (_, seq) => reading(seq)));
    await local.drain();
    expect(errors).toEqual([new Error('pass 1 failed')]);
    expect(local.counters.scored).toBe(200);
  });
});
