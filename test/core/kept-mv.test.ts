import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../core/kpi/kpi.ts';
import { mvPointStands, updateMv, type KeptMvPoint } from '../../core/kpi/mv/kept-mv.ts';
import { mvReport } from '../../core/kpi/mv/mv-report.ts';
import { repoUseCase } from '../support/catalog.ts';
import { savingUnit } from '../support/hvac.ts';
import { memoryMvKeeping } from '../support/memory-ports.ts';

const manifest = repoUseCase('hvac-energy');
const { START, DAYS, OUTAGE_DAY, reads } = savingUnit();
const NOW = START + DAYS * DAY_MS + 8 * 3_600_000;

describe('M&V kept by the KPI schedules', () => {
  it('GIVEN 30 days, the last 9 at 10% less power WHEN a run keeps the points THEN the savings from the kept points are those computed from the readings', async () => {
    const keeping = memoryMvKeeping();
    const run = await updateMv(manifest, reads, keeping, NOW, { runsSql: false, budgetMs: Infinity });

    expect(run.points).toBe(DAYS);
    expect(
      [...keeping.kept.values()].filter((p) => p.y === null).map((p) => (p.from - START) / DAY_MS),
    ).toEqual([OUTAGE_DAY]);
    const kept = keeping.savings.get('hvac-energy-cost');
    const kpi = manifest.kpis.find((k) => k.id === 'hvac-energy-cost');
    if (!kpi?.mv || !kept) throw new Error('hvac-energy-cost has no M&V');
    const direct = await mvReport(manifest, { ...kpi, mv: kpi.mv }, reads, NOW);
    expect(kept.status, kept.reasons.join('; ')).toBe('qualified');
    expect(kept).toMatchObject({
      baselineFrom: '2026-07-06',
      baselineTo: '2026-07-27',
      reportingFrom: '2026-07-27',
      reportingIntervals: 8, // nine days less the outage
      cvRmsePct: direct.fit?.cvRmsePct,
      savings: direct.totals?.savings,
      uncertainty90Pct: direct.totals?.uncertainty90Pct,
      computedAt: NOW,
    });
    expect(kept.savingsPct).toBeCloseTo(10, 0);
    expect(kept.model?.form).toBe('cooling-change-point');
  });

  it('GIVEN a budget of two weeks a run THEN the baseline is computed over two runs, saying how far it got, and later runs recompute only what does not stand', async () => {
    const keeping = memoryMvKeeping();
    const budget = { runsSql: false, budgetMs: 14 * DAY_MS };

    const first = await updateMv(manifest, reads, keeping, NOW, budget);
    expect(first.points).toBe(14);
    expect(first.savings[0]).toMatchObject({
      status: 'too little data',
      reasons: ['the baseline is being computed: 14 of 21 days so far'],
      savings: null,
    });

    const second = await updateMv(manifest, reads, keeping, NOW + 3_600_000, budget);
    expect(second.points).toBe(14);
    expect(second.savings[0]?.status).toBe('qualified');
    expect(second.savings[0]?.reportingIntervals).toBe(6); // days 21-27 less the outage

    // The last two days, and the outage again: a backlog may still fill it within the week.
    const third = await updateMv(manifest, reads, keeping, NOW + 7_200_000, budget);
    expect(third.points).toBe(3);
    // Then only yesterday (ended less than a day before it was computed) and the outage.
    const fourth = await updateMv(manifest, reads, keeping, NOW + 10_800_000, budget);
    expect(fourth.points).toBe(2);
    expect(fourth.savings[0]?.reportingIntervals).toBe(8);
  });

  it('GIVEN kept points THEN one with data stands a day after its interval, one without a week after', () => {
    const point = (y: number | null, computedAt: number): KeptMvPoint => ({
      useCase: 'u',
      kpi: 'k',
      from: START,
      y,
      x: {},
      computedAt,
    });
    const end = START + DAY_MS;
    expect(mvPointStands(point(5, end + DAY_MS - 1), 'day')).toBe(false);
    expect(mvPointStands(point(5, end + DAY_MS), 'day')).toBe(true);
    expect(mvPointStands(point(null, end + DAY_MS), 'day')).toBe(false);
    expect(mvPointStands(point(null, end + 7 * DAY_MS), 'day')).toBe(true);
    expect(mvPointStands(point(5, START + 8 * DAY_MS), 'week')).toBe(true);
    expect(mvPointStands(point(5, START + 8 * DAY_MS - 1), 'week')).toBe(false);
  });
});
