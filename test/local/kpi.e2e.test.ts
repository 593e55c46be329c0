import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../core/kpi/kpi.ts';
import { DuckDbAlertStore } from '../../local/store/duckdb-alert-store.ts';
import { DuckDbStore } from '../../local/store/duckdb-store.ts';
import { LocalKpiSchedule } from '../../local/schedules/kpi-schedule.ts';
import { DATABASE_FILE } from '../../local/runtime/runtime.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { aiot } from '../support/cli.ts';
import { unitDays } from '../support/hvac.ts';

const { useCases, contracts } = loadCatalog();
let dataDir: string;
const yesterday = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;

/** An air handling unit's reading every 5 minutes of yesterday: 20 kW, 25 degC outside, zone in band. */
const unitDay = () =>
  unitDays(yesterday, ['ahu-001'], () => ({
    supply_air_temperature: 14,
    return_air_temperature: 22.5,
    zone_setpoint: 22,
    chilled_water_valve: 40,
    fan_speed: 60,
    electrical_power: 20,
    outdoor_air_temperature: 25,
    occupancy: 50,
  }));

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'aiot-kpi-'));
  const store = await DuckDbStore.open(path.join(dataDir, DATABASE_FILE), {
    measureColumns: contracts.measureColumns().map((m) => m.column),
  });
  try {
    await DuckDbAlertStore.open(store);
    await store.write(unitDay());
    // Noon of today by the data's calendar: stepping an hour and a day must not cross a midnight
    // the test did not plan for (a run at 23:11 UTC once did, and counted a day less).
    let now = yesterday + DAY_MS + DAY_MS / 2;
    const schedule = await LocalKpiSchedule.open(store, useCases, contracts, { now: () => now }, (error) => {
      throw error;
    });
    // Every computed KPI of both use cases, for each day of the last week.
    const computedKpis = useCases.flatMap((u) => u.kpis.filter((k) => k.compute)).length;
    // and the one M&V point there is data for: yesterday's cost against its baseline.
    expect(await schedule.computeMissing()).toEqual({ days: 7 * computedKpis, mvPoints: 1 });
    // An hour later nothing stands yet: the days without data, and yesterday, which a backlog
    // arriving late could still change, are computed again.
    now += 3600_000;
    expect(await schedule.computeMissing()).toEqual({ days: 7 * computedKpis, mvPoints: 1 });
    // Once a day has passed, yesterday's full day of hvac-energy data stands, and is left alone.
    now += DAY_MS;
    await schedule.computeMissing();
    const hvacKpis = useCases.find((u) => u.id === 'hvac-energy')?.kpis.filter((k) => k.compute).length ?? 0;
    expect(await schedule.computeMissing()).toEqual({ days: 7 * computedKpis - hvacKpis, mvPoints: 1 });
  } finally {
    await store.close();
  }
}, 60_000);

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('KPIs that report themselves, on one machine', () => {
  it('GIVEN a day of a unit in the store THEN the kpis table holds its energy cost, and the report shows it against the baseline', async () => {
    const stored = await aiot([
      'query',
      "SELECT kpi, round(numerator, 6) AS numerator, round(denominator, 6) AS denominator FROM kpis WHERE use_case = 'hvac-energy' AND numerator > 0 ORDER BY kpi",
      '--format',
      'json',
      '--data-dir',
      dataDir,
    ]);
    expect(stored.code, stored.stderr).toBe(0);
    // 20 kW for 24 h at 0.18 EUR; 480 kWh over 7 degree-days.
    expect(JSON.parse(stored.stdout)).toEqual([
      { kpi: 'energy-per-degree-day', numerator: 480, denominator: 7 },
      { kpi: 'hvac-energy-cost', numerator: 86.4, denominator: 1 },
    ]);

    const report = await aiot([
      'kpi',
      'report',
      '--use-case',
      'hvac-energy',
      '--days',
      '1',
      '--format',
      'json',
      '--data-dir',
      dataDir,
    ]);
    expect(report.code, report.stderr).toBe(0);
    const { kpis: rows } = JSON.parse(report.stdout) as {
      kpis: {
        kpi: string;
        current: number | null;
        onTarget: boolean | null;
        status: string;
        fullDays: number;
        mv: { status: string; reasons: string[] } | null;
      }[];
    };
    // A month of that day's cost; one full day is too little for a verdict on a monthly KPI.
    expect(rows.find((row) => row.kpi === 'hvac-energy-cost')).toMatchObject({
      current: 2592,
      onTarget: null,
      status: 'too little data',
      fullDays: 1,
    });
    expect(rows.find((row) => row.kpi === 'comfort-hours-outside-band')).toMatchObject({ current: 0 });
    // One day is not a baseline: the M&V says how far its period has come.
    expect(rows.find((row) => row.kpi === 'hvac-energy-cost')?.mv).toMatchObject({
      status: 'too little data',
      reasons: [
        expect.stringMatching(
          /^the baseline period runs until \d{4}-\d{2}-\d{2} \([12] of 21 days so far\)$/,
        ),
      ],
    });

    const table = await aiot(['kpi', 'report', '--days', '7', '--data-dir', dataDir]);
    expect(table.code, table.stderr).toBe(0);
    // One day with 86.4 EUR in seven: the six days before the store existed are no data, not
    // zeros that would make the month look 86 % cheaper.
    const line = table.stdout.split('\n').find((text) => text.includes('hvac-energy-cost'));
    expect(line).toContain('2592');
    expect(line).toContain('too little data (1 of 7 full days)');
    expect(line).toContain('9800 EUR/month');
    expect(line).not.toContain('per month');
    expect(table.stdout).not.toContain('on target');
    expect(table.stdout).toContain('measured outside');
  });

  it('GIVEN the day in the store THEN kpi_mv_points keeps its cost and variables, and kpi_savings says how far each baseline has come', async () => {
    const query = async (sql: string) => {
      const run = await aiot(['query', sql, '--format', 'json', '--data-dir', dataDir]);
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout) as Record<string, unknown>[];
    };
    expect(
      await query(
        "SELECT kpi, round(measured, 6) AS measured, round((variables->>'outdoorTemperature')::DOUBLE, 6) AS outdoor, round((variables->>'occupancy')::DOUBLE, 6) AS occupancy FROM kpi_mv_points WHERE measured IS NOT NULL",
      ),
    ).toEqual([{ kpi: 'hvac-energy-cost', measured: 86.4, outdoor: 25, occupancy: 50 }]);
    expect(
      await query(
        'SELECT use_case, kpi, status, reasons->>0 AS reason, cv_rmse_pct, savings FROM kpi_savings ORDER BY use_case',
      ),
    ).toEqual([
      {
        use_case: 'hvac-energy',
        kpi: 'hvac-energy-cost',
        status: 'too little data',
        reason: expect.stringMatching(
          /^the baseline period runs until \d{4}-\d{2}-\d{2} \(2 of 21 days so far\)$/,
        ) as unknown,
        cv_rmse_pct: null,
        savings: null,
      },
      {
        use_case: 'pump-maintenance',
        kpi: 'unplanned-downtime',
        status: 'too little data',
        reason: 'the store has no readings of this use case yet',
        cv_rmse_pct: null,
        savings: null,
      },
    ]);
  });

  it('GIVEN --format html THEN one self-contained page, a card and a plot per computed KPI, no script', async () => {
    const out = path.join(dataDir, 'kpis.html');
    const run = await aiot([
      'kpi',
      'report',
      '--format',
      'html',
      '--out',
      out,
      '--days',
      '7',
      '--data-dir',
      dataDir,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/<script|https?:\/\//);
    expect(html.match(/<section class="kpi/g)).toHaveLength(useCases.flatMap((u) => u.kpis).length);
    expect(html).toContain('<svg');
    // Text from the manifests is escaped: "|return air - setpoint| > 1.5" stays text.
    expect(html).toContain('&gt; 1.5 degC');
  });

  it.each([
    [['--days', '0'], '--days'],
    [['--use-case', 'boilers'], 'unknown use case "boilers" (hvac-energy, pump-maintenance)'],
    [['--format', 'xml'], "argument 'xml' is invalid"],
  ])('GIVEN %j THEN it is refused, saying why', async (args, message) => {
    const run = await aiot(['kpi', 'report', ...args, '--data-dir', dataDir]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(message);
  });
});
