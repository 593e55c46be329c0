import { describe, expect, it } from 'vitest';
import { DAY_MS, type KpiDay } from '../../core/kpi/kpi.ts';
import { useCaseSummary } from '../../core/operators/views.ts';
import { openAlert } from '../support/alerts.ts';
import { repoUseCase } from '../support/catalog.ts';

const NOW = Date.UTC(2026, 11, 6, 10);
const TODAY = Date.UTC(2026, 11, 6);
const hvac = repoUseCase('hvac-energy');

/** The cost KPI's kept days: `n` full days of 86.4 EUR (20 kW all day) before today. */
const costDays = (n: number, coverage = 1): KpiDay[] =>
  Array.from({ length: n }, (_, index) => ({
    useCase: 'hvac-energy',
    kpi: 'hvac-energy-cost',
    day: TODAY - (index + 1) * DAY_MS,
    numerator: 86.4,
    denominator: 1,
    coverage,
  }));

const costCard = (kept: KpiDay[]) =>
  useCaseSummary(hvac, [], 1, NOW, 14, kept).kpis.find((k) => k.id === 'hvac-energy-cost');

describe("the use-case page's KPI figures", () => {
  it('GIVEN a week of kept full days THEN the card shows the month they add up to, against the target', () => {
    expect(costCard(costDays(7))).toMatchObject({
      period: 'month',
      standing: { current: 2592, change: -73.6, status: 'on target', fullDays: 7, daysNeeded: 7 },
    });
  });

  it('GIVEN two kept days, one of them partial THEN it shows the full one and says there is too little data', () => {
    const kept = [...costDays(1), { ...costDays(2)[1], coverage: 0.4 } as KpiDay];
    expect(costCard(kept)?.standing).toMatchObject({
      current: 2592,
      onTarget: null,
      status: 'too little data',
      fullDays: 1,
    });
  });

  it('GIVEN nothing kept yet THEN no value and no verdict, and a KPI measured outside has no figures', () => {
    expect(costCard([])?.standing).toMatchObject({ current: null, status: 'too little data', fullDays: 0 });
    const pumps = useCaseSummary(repoUseCase('pump-maintenance'), [], 0, NOW, 14, []);
    expect(pumps.kpis.find((k) => k.id === 'maintenance-cost')?.standing).toBeNull();
  });
});

describe("the use-case page's alarm load (ISA-18.2, one operator position)", () => {
  const where = (deviceId: string) => ({
    useCase: 'pump-maintenance',
    deviceId,
    inference: 'anomaly',
    group: 'line-1',
  });
  const pumps = repoUseCase('pump-maintenance');

  it('GIVEN a flood from one pump and a quiet one WHEN the page is built THEN the figures say so against their targets and name the bad actor', () => {
    // Twelve alerts of pump-007 in ten minutes (three within a minute), one of pump-001 earlier, one two days ago.
    const flood = Array.from({ length: 12 }, (_, i) =>
      openAlert(where('pump-007'), NOW - 3_600_000 + i * 20_000),
    );
    const quiet = openAlert(where('pump-001'), NOW - 5 * 3_600_000);
    const old = openAlert(where('pump-001'), NOW - 2 * DAY_MS);

    const { alarmLoad } = useCaseSummary(pumps, [...flood, quiet, old], 2, NOW, 14);

    const byMeasure = Object.fromEntries(alarmLoad.measures.map((m) => [m.measure, m]));
    expect(byMeasure['alerts notified (digest apart)']?.value).toBe('13 (0 digest)');
    expect(byMeasure['per position per day']).toMatchObject({ value: '13.0', met: true });
    expect(byMeasure['busiest 10 minutes']).toMatchObject({ value: '12', met: false });
    // One flooded 10 minutes of the day's 144: 0.7 %, under the 1 % ISA-18.2 allows.
    expect(byMeasure['time in flood (10+ in 10 minutes)']).toMatchObject({ value: '0.7%', met: true });
    expect(byMeasure['chattering sources (3+ in a minute)']).toMatchObject({ value: '1', met: false });
    // Two days open: stale.
    expect(byMeasure['stale (open over a day)']).toMatchObject({ value: '1', met: true });
    expect(alarmLoad.stale.map((a) => a.deviceId)).toEqual(['pump-001']);
    expect(alarmLoad.badActors.map((s) => [s.deviceId, s.alerts])).toEqual([
      ['pump-007', 12],
      ['pump-001', 1],
    ]);
  });

  it('GIVEN no alerts THEN every target is met or not applicable, and there is no bad actor', () => {
    const { alarmLoad } = useCaseSummary(pumps, [], 2, NOW, 14);

    expect(alarmLoad.measures.every((m) => m.met !== false)).toBe(true);
    expect(alarmLoad.badActors).toEqual([]);
  });
});
