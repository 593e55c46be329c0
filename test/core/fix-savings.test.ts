import { describe, expect, it } from 'vitest';
import type { Alert } from '../../core/alerts/lifecycle.ts';
import type { KpiReading, KpiReads } from '../../core/kpi/kpi.ts';
import { fixSavings } from '../../core/kpi/mv/fix-savings.ts';
import { repoUseCase } from '../support/catalog.ts';

const manifest = repoUseCase('hvac-energy');
const H = 3_600_000;
const START = Date.UTC(2026, 6, 6); // a Monday, 00:00 UTC
const FIXED = START + 48 * H;

/**
 * A unit read every 5 minutes for four days: power follows the outdoor temperature and the
 * occupancy; for the first two days a fault adds 10 kW. A second unit never changes.
 */
function readings(): KpiReading[] {
  const all: KpiReading[] = [];
  for (let time = START; time < START + 96 * H; time += 5 * 60_000) {
    const hour = Math.floor((time - START) / H);
    const outdoor = 18 + 6 * Math.sin((hour / 24) * 2 * Math.PI);
    const occupancy = hour % 24 >= 8 && hour % 24 < 18 ? 60 : 0;
    // A fixed zig-zag stands in for noise, so the fit is not perfect.
    const power = 30 + 0.8 * (outdoor - 18) + 0.2 * occupancy + (hour % 2 === 0 ? 0.5 : -0.5);
    const values = (kw: number) => ({
      'measures.electricalPower': kw,
      'measures.outdoorAirTemperature': outdoor,
      'measures.occupancy': occupancy,
    });
    all.push({ deviceId: 'ahu-1', time, values: values(time < FIXED ? power + 10 : power) });
    all.push({ deviceId: 'ahu-2', time, values: values(power) });
  }
  return all;
}

const store = readings();
const reads: KpiReads = {
  readings: (_, __, from, to) => Promise.resolve(store.filter((r) => r.time >= from && r.time < to)),
  devices: () => Promise.resolve(2),
  alerts: () => Promise.resolve([]),
  sql: () => Promise.reject(new Error('no SQL here')),
  firstReading: () => Promise.resolve(START),
};

const alert = (changes: Partial<Alert> = {}): Alert =>
  ({
    id: 'a-1',
    useCase: 'hvac-energy',
    deviceId: 'ahu-1',
    inference: 'ahu-anomaly',
    firstAnomalyAt: START,
    clearedAt: FIXED,
    verdict: { kind: 'confirmed', failureMode: 'stuck valve', workOrder: null, note: '' },
    ...changes,
  }) as Alert;

describe('savings per fix', () => {
  it('GIVEN a confirmed fault that added 10 kW for two days, then cleared THEN the two days since are 480 kWh (86.40 EUR) saved', async () => {
    const savings = await fixSavings(manifest, alert(), reads, START + 96 * H);
    expect(savings.status, savings.reasons.join('; ')).toBe('measured');
    expect(savings.kpi).toBe('hvac-energy-cost');
    expect(savings.unit).toBe('EUR');
    expect(savings.faultHours).toBe(48);
    expect(savings.hoursSinceFix).toBe(48);
    // 10 kW × 48 h at 0.18 EUR/kWh; the other unit's unchanged power is not counted.
    expect(savings.kwh).toBeCloseTo(480, 6);
    expect(savings.totals?.savings).toBeCloseTo(86.4, 6);
    expect(savings.fit?.cvRmsePct).toBeLessThan(5);
    expect(savings.totals?.uncertainty90Pct).toBeGreaterThan(0);
    expect(savings.totals?.uncertainty90Pct).toBeLessThan(10);
  });

  it('GIVEN an alert not confirmed, or still open THEN nothing is claimed, saying why', async () => {
    for (const changes of [
      { verdict: null },
      { clearedAt: null },
      { verdict: { kind: 'false-positive', reason: 'sensor-fault', note: '' } } as const,
    ]) {
      const savings = await fixSavings(manifest, alert(changes), reads, START + 96 * H);
      expect(savings).toMatchObject({
        status: 'not fixed',
        reasons: ['savings are measured once operators confirmed the fault and its condition cleared'],
        totals: null,
      });
    }
  });

  it('GIVEN a fault of a few hours THEN too little data, with the hours it has and needs', async () => {
    const savings = await fixSavings(
      manifest,
      alert({ firstAnomalyAt: FIXED - 4 * H }),
      reads,
      START + 96 * H,
    );
    expect(savings.status).toBe('too little data');
    expect(savings.reasons).toEqual([
      'the baseline has 4 hours of full data; a linear model of 2 variables needs 8',
    ]);
  });

  it('GIVEN a pump alert, whose KPI (downtime) counts the alerts themselves THEN no savings per fix are claimed, saying why', async () => {
    const pumps = repoUseCase('pump-maintenance');
    const savings = await fixSavings(
      pumps,
      alert({ inference: pumps.inferences[0]?.id ?? '' }),
      reads,
      START + 96 * H,
    );
    expect(savings.status).toBe('no baseline');
    expect(savings.reasons[0]).toMatch(
      /^the KPI this alert serves \(unplanned-downtime\) counts alerts themselves/,
    );
  });

  it('GIVEN a KPI without a measured baseline THEN it says so', async () => {
    const withoutMv = { ...manifest, kpis: manifest.kpis.map((kpi) => ({ ...kpi, mv: undefined })) };
    const savings = await fixSavings(withoutMv, alert(), reads, START + 96 * H);
    expect(savings).toMatchObject({
      status: 'no baseline',
      reasons: ['the KPI this alert serves (hvac-energy-cost) has no measured baseline (kpis[].mv)'],
    });
  });
});
