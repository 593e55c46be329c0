import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeKpiDay } from '../../core/kpi/computations.ts';
import { DAY_MS, kpiComputationSchema } from '../../core/kpi/kpi.ts';
import { InfluxHttp } from '../../lambdas/adapters/influx-http.ts';
import { InfluxInferenceStore } from '../../lambdas/adapters/influx-inference-store.ts';
import { InfluxKpiReads } from '../../lambdas/adapters/cloud-kpi-reads.ts';
import { InfluxTelemetryStore } from '../../lambdas/adapters/influx-telemetry-store.ts';
import { repoContracts } from '../support/contracts.ts';
import { unitDays } from '../support/hvac.ts';
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

/** Grafana's `$timeFilter` for the day, as Grafana writes it for InfluxQL. */
const forTheDay = (query: string) =>
  query.replaceAll('$timeFilter', `time >= ${DAY}ms AND time < ${DAY + DAY_MS}ms`);

/** The first value of every series a panel's query answers, by device where grouped. */
async function panelValues(title: string): Promise<Record<string, number>> {
  const panel = dashboard.panels.find((candidate) => candidate.title.startsWith(title));
  const query = panel?.targets[0]?.query;
  if (!query) throw new Error(`no panel "${title}"`);
  const answer = (await server.influxql(forTheDay(query), database)) as {
    results: { error?: string; series?: { tags?: Record<string, string>; values: [string, number][] }[] }[];
  };
  const [result] = answer.results;
  if (result?.error) throw new Error(`${title}: ${result.error}`);
  return Object.fromEntries(
    (result?.series ?? []).map((series) => [
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

  it('GIVEN every panel THEN it queries the use case it is about, bounded by the dashboard time', () => {
    for (const panel of dashboard.panels)
      for (const target of panel.targets) {
        expect(target.query).toContain('"use_case" = \'hvac-energy\'');
        expect(target.query).toContain('$timeFilter');
      }
  });
});
