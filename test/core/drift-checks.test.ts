import { describe, expect, it } from 'vitest';
import {
  clockSkewSeconds,
  countGaps,
  flatRun,
  noiseLevel,
  outOfRangeShare,
  spikeShares,
  type HealthSample,
} from '../../core/drift/checks.ts';
import { populationStabilityIndex, profileOf } from '../../core/drift/profile.ts';

const HOUR = 3600_000;
const T0 = Date.parse('2026-11-30T08:00:00Z');
const seqs = (...numbers: number[]) => numbers.map((seq, i) => ({ time: T0 + i * 1000, seq }));

/** A deterministic pseudo-random series (a linear congruential generator), for distributions. */
function noise(count: number, seed: number, scale = 1, offset = 0): number[] {
  let state = seed;
  return Array.from({ length: count }, () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return offset + scale * (state / 2 ** 31 - 0.5);
  });
}

describe('countGaps', () => {
  it('GIVEN consecutive numbers with holes THEN the holes are the missing readings', () => {
    expect(countGaps(seqs(1, 2, 3, 7, 8, 10))).toMatchObject({ received: 6, missing: 4, restarts: 0 });
  });

  it('GIVEN a counter that wraps at 2^16 or 2^32 THEN it continues, counting what the wrap skipped', () => {
    expect(countGaps(seqs(65_533, 65_534, 65_535, 0, 1))).toMatchObject({ missing: 0, restarts: 0 });
    expect(countGaps(seqs(65_534, 1))).toMatchObject({ missing: 2, restarts: 0 });
    expect(countGaps(seqs(2 ** 32 - 2, 2 ** 32 - 1, 0))).toMatchObject({ missing: 0, restarts: 0 });
  });

  it('GIVEN a counter that starts again (a restart, a firmware update) THEN nothing is counted across it', () => {
    expect(countGaps(seqs(500, 501, 0, 1, 2))).toMatchObject({ received: 5, missing: 0, restarts: 1 });
  });

  it('GIVEN a redelivered reading and readings out of order THEN each counts once, in time order', () => {
    const points = [...seqs(1, 2, 4), { time: T0 + 1000, seq: 2 }].reverse();
    expect(countGaps(points)).toMatchObject({ received: 3, missing: 1 });
  });

  it('GIVEN two hours THEN each hour has its receipt, a gap counted in the hour it ended', () => {
    const points = [
      { time: T0 + HOUR - 2000, seq: 10 },
      { time: T0 + HOUR - 1000, seq: 11 },
      { time: T0 + HOUR + 5000, seq: 17 },
    ];
    expect(countGaps(points).perHour).toEqual([
      { hour: T0, received: 2, missing: 0 },
      { hour: T0 + HOUR, received: 1, missing: 5 },
    ]);
  });
});

describe('sensor health', () => {
  it('GIVEN a sensor stuck on one value THEN the flat run is as long as it has held it', () => {
    const points = [3.1, 3.3, 3.2, 3.2, 3.2, 3.2].map((value, i) => ({ time: T0 + i * 60_000, value }));
    expect(flatRun(points)).toEqual({ ms: 3 * 60_000, value: 3.2 });
    expect(flatRun([])).toBeUndefined();
  });

  it('GIVEN readings and an operating range THEN the share outside it', () => {
    expect(outOfRangeShare([1, 2, 3, 50, -1], { min: 0, max: 20 })).toBe(0.4);
  });

  it('GIVEN a slow trend with noise THEN the noise level ignores the trend, and sees the noise grow', () => {
    const base = noise(1000, 7);
    const trending = base.map((v, i) => v + i * 0.01);
    expect(noiseLevel(trending)).toBeCloseTo(noiseLevel(base) ?? 0, 1);
    expect((noiseLevel(base.map((v) => v * 5)) ?? 0) / (noiseLevel(base) ?? 1)).toBeCloseTo(5, 5);
  });

  const report = (
    at: number,
    readings: number,
    spikes: Record<string, number>,
    skewMs = 0,
  ): HealthSample => ({
    receivedAt: at,
    deviceTime: at - skewMs,
    readings,
    spikes,
  });

  it("GIVEN health reports THEN the spike share is the window's change of the counters, also across an agent restart", () => {
    expect(
      spikeShares([report(T0, 1000, { 'measures.p': 10 }), report(T0 + HOUR, 4600, { 'measures.p': 82 })]),
    ).toEqual({
      'measures.p': 0.02,
    });
    expect(
      spikeShares([report(T0, 9000, { 'measures.p': 90 }), report(T0 + HOUR, 400, { 'measures.p': 8 })]),
    ).toEqual({
      'measures.p': 0.02,
    });
  });

  it('GIVEN a device clock 45 s behind THEN the median skew says so, whatever one late report says', () => {
    const reports = [
      report(T0, 1, {}, 45_000),
      report(T0 + 60_000, 2, {}, 45_000),
      report(T0 + 120_000, 3, {}, 300_000),
    ];
    expect(clockSkewSeconds(reports)).toBe(45);
    expect(clockSkewSeconds([])).toBeUndefined();
  });
});

describe('training profile and PSI', () => {
  const training = noise(5000, 11);
  const [profile] = profileOf(
    ['x'],
    training.map((v) => [v]),
  );
  if (!profile) throw new Error('a profile per sensor');

  it('GIVEN the training distribution again THEN the index is near 0', () => {
    expect(populationStabilityIndex(profile, noise(2000, 99))).toBeLessThan(0.05);
  });

  it('GIVEN a shifted or wider distribution THEN it is above 0.25', () => {
    expect(populationStabilityIndex(profile, noise(2000, 99, 1, 0.5))).toBeGreaterThan(0.25);
    expect(populationStabilityIndex(profile, noise(2000, 99, 3))).toBeGreaterThan(0.25);
  });

  it('GIVEN a sensor that sat on one value in training THEN that value is stable and any other drifts', () => {
    const [flat] = profileOf(
      ['y'],
      Array.from({ length: 500 }, () => [4]),
    );
    if (!flat) throw new Error('a profile per sensor');
    expect(flat.shares[0]).toBe(1);
    expect(
      populationStabilityIndex(
        flat,
        Array.from({ length: 100 }, () => 4),
      ),
    ).toBeCloseTo(0, 6);
    expect(
      populationStabilityIndex(
        flat,
        Array.from({ length: 100 }, () => 5),
      ),
    ).toBeGreaterThan(1);
  });
});
