import { describe, expect, it } from 'vitest';
import { alarmPerformance, TEN_MINUTES_MS } from '../../core/alerts/alarm-performance.ts';
import type { Alert } from '../../core/alerts/lifecycle.ts';
import { openAlert } from '../support/alerts.ts';

const DAY = 24 * 3_600_000;
const FROM = Date.UTC(2026, 11, 1);
let n = 0;
/** A notified alert of `device` opened `ms` after the window starts. */
const at = (device: string, ms: number, changes: Partial<Alert> = {}): Alert => ({
  ...openAlert(
    { useCase: 'pump-maintenance', deviceId: device, inference: 'pump-anomaly', group: 'line-1' },
    FROM + ms,
    `a-${++n}`,
  ),
  ...changes,
});

describe('alarm-system performance (ISA-18.2 / EEMUA 191)', () => {
  it('GIVEN a day of alerts THEN the load per position per day and per 10 minutes, and the busiest 10 minutes', () => {
    const alerts = [
      ...Array.from({ length: 12 }, (_, i) => at('pump-001', 3_600_000 + i * 30_000)),
      at('pump-002', 10 * 3_600_000),
      // Capped into the digest: it interrupted nobody.
      at('pump-003', 11 * 3_600_000, { delivery: 'digest' }),
      // Outside the window.
      at('pump-004', DAY + 1),
    ];

    const report = alarmPerformance(alerts, { from: FROM, to: FROM + DAY });

    expect(report).toMatchObject({ alerts: 13, digest: 1, perPositionPerDay: 13, peakTenMinutes: 12 });
    expect(report.perPositionPerTenMinutes).toBeCloseTo(13 / 144);
    // 12 alerts fall in one or two 10-minute periods of the 144: one of them is a flood.
    expect(report.floodShare).toBeCloseTo(1 / 144);
  });

  it('GIVEN two operator positions sharing the load THEN each carries half, and neither is in flood', () => {
    const alerts = Array.from({ length: 12 }, (_, i) => at(`pump-${i}`, i * 10_000));

    const report = alarmPerformance(alerts, { from: FROM, to: FROM + DAY, positions: 2 });

    expect(report.perPositionPerDay).toBe(6);
    expect(report.peakTenMinutes).toBe(6);
    expect(report.floodShare).toBe(0);
  });

  it('GIVEN one pump that makes most alerts THEN it leads the bad actors, with its share of the load', () => {
    const alerts = [
      ...Array.from({ length: 8 }, (_, i) => at('pump-007', i * 3_600_000)),
      at('pump-001', 5_000),
      at('pump-002', 6_000),
    ];

    const report = alarmPerformance(alerts, { from: FROM, to: FROM + DAY });

    expect(report.badActors[0]).toMatchObject({ deviceId: 'pump-007', alerts: 8, share: 0.8 });
    expect(report.badActors.map((s) => s.deviceId)).toEqual(['pump-007', 'pump-001', 'pump-002']);
    expect(report.topTenShare).toBe(1);
  });

  it('GIVEN a source that opens 3 alerts within a minute, twice THEN it chatters twice; 3 spread over 10 minutes do not', () => {
    const alerts = [
      ...[0, 20_000, 40_000, 600_000, 610_000, 620_000].map((ms) => at('pump-005', ms)),
      ...[0, 5 * 60_000, TEN_MINUTES_MS].map((ms) => at('pump-006', ms)),
    ];

    const report = alarmPerformance(alerts, { from: FROM, to: FROM + DAY });

    expect(report.chattering).toEqual([
      { useCase: 'pump-maintenance', deviceId: 'pump-005', inference: 'pump-anomaly', bursts: 2 },
    ]);
  });

  it('GIVEN alerts left open or acknowledged for over a day THEN they are stale; answered or recent ones are not', () => {
    const old = at('pump-001', -2 * DAY);
    const acknowledged = at('pump-002', -2 * DAY, { status: 'acknowledged' });
    const resolved = at('pump-003', -2 * DAY, { status: 'resolved' });
    const recent = at('pump-004', DAY - 3_600_000);

    const report = alarmPerformance([old, acknowledged, resolved, recent], { from: FROM, to: FROM + DAY });

    expect(report.stale.map((a) => a.deviceId)).toEqual(['pump-001', 'pump-002']);
  });

  it.each([
    [{ from: FROM, to: FROM }, /window that ends after it starts/],
    [{ from: FROM, to: FROM + DAY, positions: 0 }, /positions must be a whole number of at least 1, got 0/],
  ])('GIVEN the window %j THEN it is refused, naming the value', (window, message) => {
    expect(() => alarmPerformance([], window)).toThrow(message);
  });
});
