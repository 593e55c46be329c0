import { describe, expect, it } from 'vitest';
import { DAY_MS, type KpiDay } from '../../core/kpi/kpi.ts';
import { useCaseSummary } from '../../core/operators/views.ts';
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
