import { describe, expect, it } from 'vitest';
import type { Alert } from '../../core/alerts/lifecycle.ts';
import { computeKpiDay } from '../../core/kpi/computations.ts';
import { kpiComputationSchema, kpiValue, type KpiReading, type KpiReads } from '../../core/kpi/kpi.ts';
import { kpiReport } from '../../core/kpi/report.ts';
import { withUnit } from '../../core/kpi/wording.ts';
import { repoUseCase } from '../support/catalog.ts';

const DAY = Date.UTC(2026, 10, 30);
const H = 3_600_000;
const M = 60_000;

/** Scripted store contents: readings and alerts, answered like the store would. */
function reads(readings: KpiReading[], alerts: Partial<Alert>[] = []): KpiReads {
  return {
    readings: (_, __, from, to) => Promise.resolve(readings.filter((r) => r.time >= from && r.time < to)),
    devices: (_, from, to) =>
      Promise.resolve(
        new Set(readings.filter((r) => r.time >= from && r.time < to).map((r) => r.deviceId)).size,
      ),
    alerts: (_, from, to) =>
      Promise.resolve(
        alerts.filter(
          (a) => (a.openedAt ?? 0) < to && (a.clearedAt === null || (a.clearedAt ?? 0) >= from),
        ) as Alert[],
      ),
    sql: (query, from, to) =>
      Promise.resolve({ numerator: from === DAY && to === DAY + 24 * H ? 7 : -1, denominator: query.length }),
    firstReading: (_, from, to) => {
      const times = readings.filter((r) => r.time >= from && r.time < to).map((r) => r.time);
      return Promise.resolve(times.length === 0 ? null : Math.min(...times));
    },
  };
}
const at = (deviceId: string, time: number, values: Record<string, number>): KpiReading => ({
  deviceId,
  time,
  values,
});
const compute = (spec: unknown, store: KpiReads, day = DAY) =>
  computeKpiDay('hvac-energy', 'k', kpiComputationSchema.parse(spec), day, store);

const confirmed = { kind: 'confirmed', failureMode: 'valve', workOrder: null, note: '' } as const;
const falsePositive = { kind: 'false-positive', reason: 'normal-operation', note: '' } as const;

describe('KPI computations, by hand', () => {
  it('GIVEN power readings THEN energy is each value held until the next reading, at most 10 minutes, and its cost at the tariff', async () => {
    const store = reads([
      at('ahu-1', DAY, { 'measures.p': 10 }),
      at('ahu-1', DAY + 5 * M, { 'measures.p': 20 }), // then silence: held 10 minutes, not to midnight
      at('ahu-2', DAY + 23 * H + 54 * M, { 'measures.p': 6 }), // held the last 6 minutes of the day
    ]);
    // 10 kW x 1/12 h + 20 kW x 1/6 h + 6 kW x 0.1 h = 0.8333 + 3.3333 + 0.6
    expect((await compute({ builtin: 'energy', power: 'measures.p' }, store)).numerator).toBeCloseTo(
      4.7667,
      4,
    );
    expect(
      (await compute({ builtin: 'energy', power: 'measures.p', pricePerKwh: 0.2 }, store)).numerator,
    ).toBeCloseTo(0.95333, 4);
  });

  it('GIVEN power and outdoor temperature THEN energy per cooling degree-day divides kWh by the mean temperature above the base', async () => {
    const store = reads([
      at('ahu-1', DAY, { 'measures.p': 12, 'measures.t': 21 }),
      at('ahu-1', DAY + 10 * M, { 'measures.p': 12, 'measures.t': 25 }),
    ]);
    // 12 kW x 20 min = 4 kWh; mean 23 degC over equal holds, 5 degree-days above 18.
    const day = await compute(
      { builtin: 'energy-per-degree-day', power: 'measures.p', outdoorTemperature: 'measures.t' },
      store,
    );
    expect(day.numerator).toBeCloseTo(4, 9);
    expect(day.denominator).toBeCloseTo(5, 9);
    expect(kpiValue([day], false, 'month')).toBeCloseTo(0.8, 9);
  });

  it('GIVEN a zone and its setpoint THEN hours outside the band count only while occupied, per device', async () => {
    const store = reads([
      at('ahu-1', DAY, { 'measures.z': 24, 'measures.s': 22, 'measures.o': 50 }), // outside, occupied: 10 min
      at('ahu-1', DAY + 10 * M, { 'measures.z': 23, 'measures.s': 22, 'measures.o': 50 }), // inside: 10 min
      at('ahu-1', DAY + 20 * M, { 'measures.z': 28, 'measures.s': 22, 'measures.o': 0 }), // empty: not counted
      at('ahu-2', DAY, { 'measures.z': 19, 'measures.s': 22, 'measures.o': 80 }), // outside: 10 min
    ]);
    const day = await compute(
      {
        builtin: 'hours-outside-band',
        value: 'measures.z',
        reference: 'measures.s',
        band: 1.5,
        when: { field: 'measures.o', above: 10 },
      },
      store,
    );
    // (1/6 h + 1/6 h) over two units
    expect(day.numerator).toBeCloseTo(1 / 6, 9);
  });

  it('GIVEN alerts THEN confirmed hours are clipped to the day, and load and false-positive share count the alerts opened that day', async () => {
    const store = reads(
      [at('pump-1', DAY + H, {}), at('pump-2', DAY + H, {})],
      [
        // confirmed, from 22:00 the day before to 02:00: two hours of this day
        { openedAt: DAY - 2 * H, firstAnomalyAt: DAY - 2 * H, clearedAt: DAY + 2 * H, verdict: confirmed },
        // confirmed and still open since 20:00: four hours
        { openedAt: DAY + 20 * H, firstAnomalyAt: DAY + 20 * H, clearedAt: null, verdict: confirmed },
        // a false positive all day long: no downtime
        { openedAt: DAY + 1 * H, firstAnomalyAt: DAY + 1 * H, clearedAt: null, verdict: falsePositive },
        // not answered yet
        { openedAt: DAY + 3 * H, firstAnomalyAt: DAY + 3 * H, clearedAt: DAY + 4 * H, verdict: null },
      ],
    );
    expect((await compute({ builtin: 'confirmed-alert-hours' }, store)).numerator).toBeCloseTo(6, 9);
    // three opened this day, over two pumps with readings
    expect(await compute({ builtin: 'alert-load' }, store)).toMatchObject({ numerator: 3, denominator: 2 });
    // of the two answered that opened this day, one false positive
    expect(await compute({ builtin: 'false-positive-share' }, store)).toMatchObject({
      numerator: 1,
      denominator: 2,
    });
  });

  it('GIVEN confirmed alerts and silent pumps THEN unplanned downtime counts each pump-hour down once, whichever says so', async () => {
    /** A pump's readings, one a minute, from `start` to before `end`. */
    const minutes = (deviceId: string, start: number, end: number) =>
      Array.from({ length: (end - start) / M }, (_, i) => at(deviceId, start + i * M, {}));
    const store = reads(
      [
        // pump-1: silent from 10:00 to 13:00 (last minute 09:59, readings again at 13:00)
        ...minutes('pump-1', DAY - 2 * H, DAY + 10 * H),
        ...minutes('pump-1', DAY + 13 * H, DAY + 24 * H),
        // pump-2: stopped at 21:59 the day before and never came back: the whole day
        ...minutes('pump-2', DAY - 3 * H, DAY - 2 * H - M),
        // pump-3: silent 10 minutes (not more than the 10 allowed) and from 23:30 to the day's end
        ...minutes('pump-3', DAY, DAY + 6 * H),
        ...minutes('pump-3', DAY + 6 * H + 10 * M, DAY + 23 * H + 30 * M),
        // pump-4: last heard of two days before: out of service, not down
        ...minutes('pump-4', DAY - 49 * H, DAY - 48 * H),
      ],
      [
        // pump-1, confirmed from 12:00 to 15:00: 12:00-13:00 is already silent, so 2 more hours
        {
          deviceId: 'pump-1',
          openedAt: DAY + 12 * H,
          firstAnomalyAt: DAY + 12 * H,
          clearedAt: DAY + 15 * H,
          verdict: confirmed,
        },
        // pump-3, a false positive: no downtime
        {
          deviceId: 'pump-3',
          openedAt: DAY + H,
          firstAnomalyAt: DAY + H,
          clearedAt: DAY + 2 * H,
          verdict: falsePositive,
        },
      ],
    );
    // pump-1 3 h silent + 2 h confirmed, pump-2 24 h, pump-3 the last 30 minutes
    const day = await compute({ builtin: 'unplanned-downtime' }, store);
    expect(day.numerator).toBeCloseTo(3 + 2 + 24 + 0.5, 9);
    // A pump that sends every 15 minutes is silent between readings under the default, not with 20.
    const slow = reads(
      Array.from({ length: 96 }, (_, i) => at('pump-5', DAY - 24 * H + i * 15 * M, {})).concat(
        Array.from({ length: 96 }, (_, i) => at('pump-5', DAY + i * 15 * M, {})),
      ),
    );
    expect((await compute({ builtin: 'unplanned-downtime' }, slow)).numerator).toBeCloseTo(24 - 96 / 60, 9);
    expect((await compute({ builtin: 'unplanned-downtime', silentAfterMinutes: 20 }, slow)).numerator).toBe(
      0,
    );
    expect(() =>
      kpiComputationSchema.parse({ builtin: 'unplanned-downtime', silentAfterMinutes: 1 }),
    ).toThrow(/silentAfterMinutes/);
  });

  it('GIVEN a KPI in SQL THEN it runs for the day asked', async () => {
    // The store had readings since the day before: the whole day is covered.
    const day = await compute({ sql: 'SELECT 7 AS numerator' }, reads([at('ahu-1', DAY - H, {})]));
    expect(day).toMatchObject({ numerator: 7, denominator: 'SELECT 7 AS numerator'.length, coverage: 1 });
  });

  it('GIVEN days THEN a quantity is the daily mean times the period, a rate the ratio of sums', () => {
    const days = [
      { numerator: 2, denominator: 1, coverage: 1 },
      { numerator: 4, denominator: 3, coverage: 1 },
      // A day the store began in the afternoon, and one before it existed: no data, not zeros.
      { numerator: 0.5, denominator: 1, coverage: 0.4 },
      { numerator: 0, denominator: 1, coverage: 0 },
    ];
    expect(kpiValue(days, true, 'month')).toBe(90);
    expect(kpiValue(days, true, 'week')).toBe(21);
    expect(kpiValue(days, false, 'month')).toBe(1.5);
    expect(kpiValue([], true, 'month')).toBeNull();
    expect(kpiValue(days.slice(2), true, 'month')).toBeNull();
    expect(kpiValue([{ numerator: 1, denominator: 0, coverage: 1 }], false, 'month')).toBeNull();
  });
});

describe('the KPI report', () => {
  it('GIVEN a week of a use case THEN each computed KPI has its value, change and target status, and the others say where they are measured', async () => {
    const hvac = repoUseCase('hvac-energy');
    const readings: KpiReading[] = [];
    // One unit drawing 20 kW all week at 25 degC outdoors, its zone always in band.
    for (let time = DAY - 7 * 24 * H; time < DAY; time += 5 * M)
      readings.push(
        at('ahu-001', time, {
          'measures.electricalPower': 20,
          'measures.outdoorAirTemperature': 25,
          'measures.returnAirTemperature': 22,
          'measures.zoneSetpoint': 22,
          'measures.occupancy': 50,
        }),
      );
    const rows = await kpiReport(hvac, reads(readings), DAY + 8 * H, 7);
    const cost = rows.find((row) => row.kpi === 'hvac-energy-cost');
    // 20 kW x 24 h x 0.18 EUR = 86.4 EUR a day, 2,592 EUR over a 30-day month
    expect(cost).toMatchObject({ current: 2592, unit: 'EUR/month', onTarget: true });
    expect(cost?.change).toBeCloseTo(-73.6, 1);
    expect(cost?.trend).toHaveLength(7);
    expect(cost?.targetRange).toEqual({ low: 8036, high: 8624 });
    // 480 kWh a day over 7 degree-days
    expect(rows.find((row) => row.kpi === 'energy-per-degree-day')?.current).toBeCloseTo(68.571, 3);
    expect(rows.find((row) => row.kpi === 'comfort-hours-outside-band')).toMatchObject({ current: 0 });

    const pumps = await kpiReport(repoUseCase('pump-maintenance'), reads([]), DAY, 7);
    expect(pumps.find((row) => row.kpi === 'maintenance-cost')).toMatchObject({
      current: null,
      measuredOutside: expect.stringContaining('CMMS') as unknown,
    });
    await expect(kpiReport(hvac, reads([]), DAY, 0)).rejects.toThrow(
      'days must be a whole number from 1 to 366, got 0',
    );
  });

  it('GIVEN a store ten minutes old THEN no KPI is on target: too little data, and the days before it are blank, not zeros', async () => {
    const hvac = repoUseCase('hvac-energy');
    const now = DAY + 10 * M;
    const fresh = reads([at('ahu-001', DAY, { 'measures.electricalPower': 20 })]);
    const rows = await kpiReport(hvac, fresh, now, 30);
    for (const row of rows) {
      expect(row).toMatchObject({ current: null, onTarget: null, status: 'too little data', fullDays: 0 });
      expect(row.trend.every((point) => point.value === null)).toBe(true);
    }
  });

  it('GIVEN three full days of a monthly KPI and the afternoon the store began THEN it shows the three days but gives no verdict before seven', async () => {
    const hvac = repoUseCase('hvac-energy');
    const readings: KpiReading[] = [];
    for (let time = DAY - 3 * 24 * H - 9 * H; time < DAY; time += 5 * M)
      readings.push(at('ahu-001', time, { 'measures.electricalPower': 20 }));
    const rows = await kpiReport(hvac, reads(readings), DAY + H, 7);
    const cost = rows.find((row) => row.kpi === 'hvac-energy-cost');
    expect(cost).toMatchObject({
      current: 2592,
      onTarget: null,
      status: 'too little data',
      fullDays: 3,
      daysNeeded: 7,
    });
    // The afternoon before the three days counts for nothing: a part of a day is not a day.
    expect(cost?.trend.map((point) => point.value)).toEqual([null, null, null, null, 2592, 2592, 2592]);
  });

  it('GIVEN the store began at 15:00 THEN that day covers 9 of its 24 hours and the day before none', async () => {
    const store = reads([at('ahu-1', DAY + 15 * H, { 'measures.p': 10 })]);
    expect((await compute({ builtin: 'energy', power: 'measures.p' }, store)).coverage).toBeCloseTo(0.375, 6);
    expect((await compute({ builtin: 'energy', power: 'measures.p' }, store, DAY - 24 * H)).coverage).toBe(0);
    expect((await compute({ builtin: 'energy', power: 'measures.p' }, store, DAY + 24 * H)).coverage).toBe(1);
  });

  it('GIVEN a SQL KPI whose sums see no rows THEN the day has no data rather than a zero', async () => {
    const empty: KpiReads = {
      ...reads([at('ahu-1', DAY - H, {})]),
      sql: () => Promise.resolve({ numerator: null, denominator: 1 }),
    };
    expect(await compute({ sql: 'SELECT sum(x) AS numerator FROM telemetry' }, empty)).toMatchObject({
      numerator: 0,
      coverage: 0,
    });
  });

  it('GIVEN a unit that names its period THEN the period is not said twice', () => {
    expect(withUnit(9800, 'EUR/month', 'month')).toBe('9800 EUR/month');
    expect(withUnit(0.42, 'kWh/m3', 'week')).toBe('0.42 kWh/m3 over a week');
  });
});
