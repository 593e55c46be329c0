import { describe, expect, it } from 'vitest';
import { DeadbandGate, HampelFilter, RateOfChangeFilter, WindowMean } from '../../core/edge/filters.ts';
import { gaussian, seededRandom } from '../../core/simulation/random.ts';

describe('DeadbandGate', () => {
  it('sends when any field moved past its band, and a heartbeat after the silence limit', () => {
    // GIVEN a 0.5 band on temperature and a 10 s heartbeat
    const gate = new DeadbandGate({ temperature: 0.5 }, 10_000);
    // WHEN readings creep, jump, creep, then sit still past the heartbeat
    const sent = [
      [0, 20],
      [1000, 20.2],
      [2000, 20.6],
      [3000, 20.7],
      [13_000, 20.7],
    ].map(
      ([time, temperature]) =>
        gate.suppressReason(time ?? 0, { temperature: temperature ?? 0 }) === undefined,
    );
    // THEN only the first, the jump and the heartbeat go out
    expect(sent).toEqual([true, false, true, false, true]);
  });

  it('sends on any change of a field without a band', () => {
    const gate = new DeadbandGate({ temperature: 5 }, 60_000);
    expect(gate.suppressReason(0, { temperature: 20, current: 1.2 })).toBeUndefined();
    expect(gate.suppressReason(1000, { temperature: 20, current: 1.2 })).toBe(
      'every field within its deadband',
    );
    expect(gate.suppressReason(2000, { temperature: 20, current: 1.21 })).toBeUndefined();
  });

  it('refuses a negative band, naming the field and the value', () => {
    expect(() => new DeadbandGate({ pressure: -1 }, 1000)).toThrow(
      'deadband of pressure must be 0 or more, got -1',
    );
  });
});

describe('RateOfChangeFilter', () => {
  it('refuses a jump faster than physics allows, and keeps judging from the last accepted reading', () => {
    const filter = new RateOfChangeFilter(2);
    expect(filter.violation(0, 70)).toBeUndefined();
    filter.accept(0, 70);
    expect(filter.violation(1000, 90)).toBe('changes 20/s, above 2/s');
    expect(filter.violation(2000, 71.5)).toBeUndefined();
  });

  it('gives sub-second readings a whole second of budget, so noise at 100 Hz is not a glitch', () => {
    const filter = new RateOfChangeFilter(2);
    filter.accept(0, 70);
    expect(filter.violation(10, 70.5)).toBeUndefined();
    expect(filter.violation(10, 73)).toBe('changes 3/s, above 2/s');
  });
});

describe('HampelFilter', () => {
  const noise = (seed: number) => {
    const random = seededRandom(seed);
    return () => 32 + 0.3 * gaussian(random);
  };

  it('finds an isolated spike, with the window median, and passes clean noise', () => {
    const next = noise(1);
    const filter = new HampelFilter(15, 4);
    const verdicts = Array.from({ length: 200 }, (_, i) => filter.check(i === 120 ? 60 : next()));
    expect(verdicts.filter((v) => v.spike)).toHaveLength(1);
    const spike = verdicts[120];
    expect(spike?.spike).toBe(true);
    if (spike?.spike) {
      expect(spike.median).toBeCloseTo(32, 0);
      expect(spike.deviations).toBeGreaterThan(4);
    }
  });

  it('follows a real step instead of calling it a spike forever', () => {
    const next = noise(3);
    const filter = new HampelFilter(15, 4);
    const spikes = Array.from({ length: 100 }, (_, i) => filter.check(next() + (i >= 50 ? 10 : 0)).spike);
    // The first readings after the step look like spikes; once they are the majority of the window they are the new normal.
    const afterStep = spikes.slice(50);
    const firstNormal = afterStep.indexOf(false);
    expect(firstNormal).toBeGreaterThan(0);
    expect(firstNormal).toBeLessThanOrEqual(8);
    expect(afterStep.slice(firstNormal).every((spike) => !spike)).toBe(true);
  });

  it('refuses a window too small to have a median', () => {
    expect(() => new HampelFilter(2, 3)).toThrow('window must be an integer of at least 3, got 2');
  });
});

describe('WindowMean', () => {
  it('emits the mean of each aligned window when the next one starts, and the open one on flush', () => {
    const mean = new WindowMean(10_000);
    expect(mean.add(1000, { a: 1 })).toBeUndefined();
    expect(mean.add(9000, { a: 3 })).toBeUndefined();
    expect(mean.add(12_000, { a: 10 })).toEqual({ time: 0, values: { a: 2 }, count: 2 });
    expect(mean.flush()).toEqual({ time: 10_000, values: { a: 10 }, count: 1 });
    expect(mean.flush()).toBeUndefined();
  });
});
