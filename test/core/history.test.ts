import { describe, expect, it } from 'vitest';
import { resolveEdgeSettings } from '../../core/edge/settings.ts';
import { historySeconds } from '../../core/simulation/history.ts';

describe('the history a simulated device brings', () => {
  it('GIVEN a pump that sends every reading THEN its calibration readings at its rate, and a tenth more', () => {
    expect(historySeconds(resolveEdgeSettings({ heartbeatSeconds: 60 }, 'pump-001'), 1, 900)).toBe(990);
    expect(historySeconds(resolveEdgeSettings({}, 'pump-001'), 5, 900)).toBe(198);
  });

  it('GIVEN minute means with a deadband THEN the heartbeat bounds how rarely a reading goes out', () => {
    const settings = resolveEdgeSettings(
      { aggregateSeconds: 60, heartbeatSeconds: 300, deadband: { 'measures.fanSpeed': 1 } },
      'ahu-001',
    );
    // 400 readings, one every 5 minutes at worst: 36.7 hours.
    expect(historySeconds(settings, 1, 400)).toBe(132_000);
  });

  it('GIVEN minute means without a deadband THEN one reading a minute', () => {
    expect(historySeconds(resolveEdgeSettings({ aggregateSeconds: 60 }, 'x'), 1, 100)).toBe(6600);
  });

  it('GIVEN a bad rate or count THEN it names the value', () => {
    expect(() => historySeconds(resolveEdgeSettings({}, 'x'), 0, 1)).toThrow(
      'rate must be above 0 readings a second, got 0',
    );
    expect(() => historySeconds(resolveEdgeSettings({}, 'x'), 1, 1.5)).toThrow(
      'readings must be a whole number of at least 0, got 1.5',
    );
  });
});
