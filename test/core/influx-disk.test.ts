import { describe, expect, it } from 'vitest';
import { MAX_INFLUX_GIB, planInfluxDisk, type StoredStream } from '../../core/stores/influx-disk.ts';

const pumps = (devices: number): StoredStream => ({
  useCase: 'pump-maintenance',
  devices,
  readingsPerSecond: 1,
  retentionDays: 730,
});

describe('planInfluxDisk', () => {
  it('GIVEN 1,000 pumps a second for two years THEN the disk holds them with room, far above the old 20 GiB that filled in two weeks', () => {
    const plan = planInfluxDisk([pumps(1000)]);
    // 1,000 × 86,400 × 730 × 64 B.
    expect(plan.retainedGib).toBeCloseTo((1000 * 86_400 * 730 * 64) / 1024 ** 3, 6);
    expect(plan.allocatedGib).toBeGreaterThan(plan.retainedGib / 0.7);
    expect(plan.allocatedGib).toBeLessThanOrEqual(MAX_INFLUX_GIB);
    // The old default held 20 GiB: about two weeks of this fleet.
    expect((20 / plan.retainedGib) * 730).toBeLessThan(15);
  });

  it('GIVEN a pilot of a few devices THEN it takes the least an instance has', () => {
    expect(planInfluxDisk([pumps(2)]).allocatedGib).toBe(20);
  });

  it('GIVEN more than an instance holds THEN it says so, naming the need, the fleet and what to change', () => {
    expect(planInfluxDisk([pumps(1000)]).problem).toBeUndefined();
    expect(planInfluxDisk([pumps(5000)]).problem).toMatch(
      /the readings need [\d,]+ GiB of InfluxDB disk, above the 15,360 GiB an instance takes \(pump-maintenance: 5000 devices × 1\/s for 730 days\): shorten magneticRetentionDays/,
    );
  });
});
