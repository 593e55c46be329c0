import { describe, expect, it } from 'vitest';
import { pumpOperations, type PumpOperationsOptions } from '../../bench/mv-pumps.ts';

const DAY = 86_400_000;
const FROM = Date.UTC(2026, 5, 1);
const options: PumpOperationsOptions = {
  units: ['pump-001', 'pump-002', 'pump-003'],
  seed: 1,
  from: FROM,
  reportingFrom: FROM + 28 * DAY,
  to: FROM + 56 * DAY,
  shiftHours: { baseline: 16, reporting: 12 },
  stopsPer100RunningHours: 2,
  fewerStopsPct: 0,
};

/** Minutes in each state over [from, to), by unit. */
function minutesIn(plan: ReturnType<typeof pumpOperations>, from: number, to: number) {
  const counts = { running: 0, idle: 0, down: 0 };
  for (const unit of options.units)
    for (let t = from; t < to; t += 60_000) counts[plan.operation(unit, t)] += 1;
  return counts;
}

describe("bench:mv's pump operations", () => {
  it('GIVEN shorter shifts after the baseline THEN the pumps run less, and stop only while they would run', () => {
    const plan = pumpOperations(options);
    const before = minutesIn(plan, FROM, options.reportingFrom);
    const after = minutesIn(plan, options.reportingFrom, options.to);
    expect(after.running).toBeLessThan(0.85 * before.running);
    expect(before.down).toBeGreaterThan(0);
    expect(plan.stops).toBeGreaterThan(0);
  });

  it("GIVEN the changed site THEN its stops after the baseline are the twin's, thinned, and the baseline is the same", () => {
    const twin = pumpOperations(options);
    const changed = pumpOperations({ ...options, fewerStopsPct: 40 });
    for (const unit of options.units)
      for (let t = FROM; t < options.to; t += 60_000) {
        const state = changed.operation(unit, t);
        if (t < options.reportingFrom) expect(state).toBe(twin.operation(unit, t));
        else if (state === 'down') expect(twin.operation(unit, t)).toBe('down');
      }
    expect(changed.stops).toBeLessThan(twin.stops);
  });
});
