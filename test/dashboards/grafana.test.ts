import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeKpiDay } from '../../core/kpi/computations.ts';
import { DAY_MS, kpiComputationSchema } from '../../core/kpi/kpi.ts';
import { InfluxHttp } from '../../lambdas/adapters/influx-http.ts';
import { InfluxInferenceStore } from '../../lambdas/adapters/influx-inference-store.ts';
import { InfluxKpiReads } from '../../lambdas/adapters/cloud-kpi-reads.ts';
import { InfluxTelemetryStore } from '../../lambdas/adapters/influx-telemetry-store.ts';
import { InfluxMvSeries } from '../../lambdas/adapters/influx-mv-series.ts';
import { updateMv } from '../../core/kpi/mv/kept-mv.ts';
import { repoUseCase } from '../support/catalog.ts';
import { memoryMvKeeping } from '../support/memory-ports.ts';
import { repoContracts } from '../support/contracts.ts';
import { savingUnit, unitDays } from '../support/hvac.ts';
import { scripted } from '../support/inferences.ts';
import { startInfluxServer, type InfluxServer } from '../support/influxdb.ts';

interface Dashboard {
  panels: { title: string; targets: { query: string }[] }[];
}
const dashboard = JSON.parse(
  readFileSync(
    path.join(import.meta.dirname, '..', '..', 'dashboards', 'hvac-energy-kpis.grafana.json'),
    'utf8',
  ),
) as Dashboard;

const DAY = Date.UTC(2026, 10, 29);
let server: InfluxServer;
let database: string;

/** Two units for a day, every 5 minutes: 20 kW, 25 degC outside, the zone 2 degC above its setpoint while occupied. */
const readings = () =>
  unitDays(DAY, ['ahu-001', 'ahu-002'], (time) => ({
    electrical_power: 20,
    outdoor_air_temperature: 25,
    return_air_temperature: 24,
    zone_setpoint: 22,
    occupancy: time < DAY + DAY_MS / 2 ? 50 : 0,
  }));

/** Grafana's `$timeFilter` for [from, to), as Grafana writes it for InfluxQL. */
const within = (query: string, from: number, to: number) =>
  query.replaceAll('$timeFilter', `time >= ${from}ms AND time < ${to}ms`);

interface Series {
  tags?: Record<string, string>;
  columns: string[];
  values: [number | string, ...number[]][];
}

/** Every series a panel's query answers over [from, to) (the day of the test by default). */
async function panelSeries(title: string, from = DAY, to = DAY + DAY_MS): Promise<Series[]> {
  const panel = dashboard.panels.find((candidate) => candidate.title.startsWith(title));
  const query = panel?.targets[0]?.query;
  if (!query) throw new Error(`no panel "${title}"`);
  const answer = (await server.influxql(within(query, from, to), database)) as {
    results: { error?: string; series?: Series[] }[];
  };
  const [result] = answer.results;
  if (result?.error) throw new Error(`${title}: ${result.error}`);
  return result?.series ?? [];
}

/** The first value of every series a panel's query answers, by device where grouped. */
async function panelValues(title: string): Promise<Record<string, number>> {
  return Object.fromEntries(
    (await panelSeries(title)).map((series) => [
      series.tags?.device_id ?? 'all',
      series.values[0]?.[1] ?? Number.NaN,
    ]),
  );
}

beforeAll(async () => {
  server = await startInfluxServer();
  database = await server.createDatabase('hvac_energy');
  const influx = new InfluxHttp({ url: server.url, database });
  await new InfluxTelemetryStore(influx).write(readings());
  await new InfluxInferenceStore(influx).writeInferences(
    scripted('AAAA.A', DAY / 1000, 'ahu-001', 'hvac-energy'),
  );
});

afterAll(async () => {
  await server.stop();
});

describe('the Grafana dashboard of hvac-energy, against a real InfluxDB', () => {
  it('GIVEN a day of two units THEN its energy panels agree with the KPI the pipeline computes, within the last reading InfluxDB does not hold', async () => {
    const kwh = await panelValues('Energy per day');
    const pipeline = await computeKpiDay(
      'hvac-energy',
      'energy',
      kpiComputationSchema.parse({ builtin: 'energy', power: 'measures.electricalPower' }),
      DAY,
      new InfluxKpiReads(
        new InfluxHttp({ url: server.url, database }),
        repoContracts.get('hvac.telemetry@1'),
        {
          listAlerts: () => Promise.resolve([]),
        },
      ),
    );
    // The pipeline: 20 kW for 24 h per unit. InfluxDB integrates between readings: 23 h 55 min.
    expect(pipeline.numerator).toBeCloseTo(960, 6);
    expect(Object.keys(kwh).sort()).toEqual(['ahu-001', 'ahu-002']);
    for (const value of Object.values(kwh)) expect(value).toBeCloseTo(478.333, 2);
    const cost = await panelValues('Energy cost per day');
    expect(cost['ahu-001']).toBeCloseTo(478.333 * 0.18, 2);
  });

  it('GIVEN the same day THEN degree-days, the comfort deviation and the anomaly count answer from their queries', async () => {
    expect(await panelValues('Cooling degrees per day')).toEqual({ all: 7 });
    // While occupied the zone is 2 degC above its setpoint: outside the 1.5 degC band.
    expect(await panelValues('Zone minus setpoint')).toEqual({ 'ahu-001': 2, 'ahu-002': 2 });
    expect(await panelValues('Anomalous readings per hour')).toEqual({ 'ahu-001': 5 });
  });

  it('GIVEN a month of a unit whose power fell 10% after its baseline WHEN the KPI function writes its M&V series THEN the M&V panels show the measured and baseline days, the cumulative savings and the figures of the run', async () => {
    const unit = savingUnit();
    const now = unit.START + unit.DAYS * DAY_MS + 8 * 3_600_000;
    const run = await updateMv(repoUseCase('hvac-energy'), unit.reads, memoryMvKeeping(), now, {
      runsSql: false,
      budgetMs: Infinity, // the month in one run
    });
    const savings = run.savings.find((row) => row.kpi === 'hvac-energy-cost');
    const report = run.reports.get('hvac-energy-cost');
    if (savings?.status !== 'qualified' || !report?.totals)
      throw new Error(`the unit's baseline does not qualify: ${JSON.stringify(savings)}`);
    await new InfluxMvSeries(new InfluxHttp({ url: server.url, database })).write(savings, report);
    // To just after the run: its figures are stamped with its time.
    const month = [unit.START, now + 1] as const;

    const [days] = await panelSeries('Energy cost against the M&V baseline', ...month);
    expect(days?.columns).toEqual(['time', 'measured', 'baseline']);
    // 30 days less the outage: 21 of the baseline, 8 of reporting.
    expect(days?.values).toHaveLength(29);
    const first = report.reporting[0];
    expect(days?.values.find(([time]) => time === first?.from)?.slice(1)).toEqual([
      first?.measured,
      first?.predicted,
    ]);

    const [cumulative] = await panelSeries('Cumulative savings', ...month);
    expect(cumulative?.values).toHaveLength(8);
    expect(cumulative?.values.at(-1)?.[1]).toBeCloseTo(report.totals.savings, 9);

    const [figures] = await panelSeries('Savings so far', ...month);
    expect(figures?.values[0]?.slice(1)).toEqual([
      savings.savingsPct,
      savings.uncertainty90Pct,
      savings.cvRmsePct,
    ]);
    expect(savings.savingsPct).toBeCloseTo(10, 0);
  });

  it('GIVEN every panel THEN it queries the use case it is about, bounded by the dashboard time', () => {
    for (const panel of dashboard.panels)
      for (const target of panel.targets) {
        expect(target.query).toContain('"use_case" = \'hvac-energy\'');
        expect(target.query).toContain('$timeFilter');
      }
  });
});
