import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeptMvPoint, KeptSavings } from '../../core/kpi/mv/kept-mv.ts';
import { DynamoDbKpiDays } from '../../lambdas/adapters/dynamodb-kpi-days.ts';
import { DynamoDbMvKeeping } from '../../lambdas/adapters/dynamodb-mv.ts';
import { deployedFunction, deployedTemplate } from '../support/deployed-functions.ts';
import { startDynamoServer, type DynamoServer } from '../support/dynalite.ts';

/**
 * The M&V points and savings in the kpis table as the template declares it, against a DynamoDB
 * engine (dynalite): beside the KPI days, without mixing with them or with another KPI.
 */
const DEPLOYMENT = 'InfluxDB, trained models';
const DAY = 86_400_000;
const START = Date.UTC(2026, 6, 6);
let server: DynamoServer;
let keeping: DynamoDbMvKeeping;
let days: DynamoDbKpiDays;

beforeAll(async () => {
  server = await startDynamoServer();
  const table = deployedFunction(DEPLOYMENT, 'Kpis/Function').env.KPI_TABLE ?? '';
  await server.createTable(deployedTemplate(DEPLOYMENT), table);
  const documents = DynamoDBDocumentClient.from(server.client);
  keeping = new DynamoDbMvKeeping(documents, table);
  days = new DynamoDbKpiDays(documents, table);
});

afterAll(async () => {
  await server.stop();
});

const savings: KeptSavings = {
  useCase: 'hvac-energy',
  kpi: 'hvac-energy-cost',
  computedAt: START + 30 * DAY,
  status: 'qualified',
  reasons: [],
  unit: 'EUR',
  interval: 'day',
  baselineFrom: '2026-07-06',
  baselineTo: '2026-07-27',
  reportingFrom: '2026-07-27',
  cvRmsePct: 3.2,
  nmbePct: 0,
  r2: 0.93,
  reportingIntervals: 8,
  measured: 900,
  predicted: 1000,
  savings: 100,
  savingsPct: 10,
  uncertainty68Pct: 4.1,
  uncertainty90Pct: 6.8,
  model: {
    form: 'cooling-change-point',
    changePointOn: 'outdoorTemperature',
    changePoint: 18.2,
    coefficients: { intercept: 86, cooling: 6.5, occupancy: 0.4 },
    parameters: 4,
  },
};

describe('M&V in the kpis table, on a DynamoDB engine', () => {
  it('GIVEN points of two KPIs, one interval without data, and KPI days beside them THEN each KPI reads back its own points, the empty one as null', async () => {
    await days.put(
      [
        {
          useCase: 'hvac-energy',
          kpi: 'hvac-energy-cost',
          day: START,
          numerator: 86.4,
          denominator: 1,
          coverage: 1,
        },
      ],
      START + 2 * DAY,
    );
    const point = (kpi: string, day: number, y: number | null): KeptMvPoint => ({
      useCase: 'hvac-energy',
      kpi,
      from: START + day * DAY,
      y,
      x: y === null ? {} : { outdoorTemperature: 24.5, occupancy: 31 },
      computedAt: START + 40 * DAY,
    });
    // 30 points in two batches of 25, as the catch-up of a month writes them.
    const cost = Array.from({ length: 30 }, (_, day) =>
      point('hvac-energy-cost', day, day === 25 ? null : 80 + day),
    );
    await keeping.putPoints([...cost, point('hvac-energy-cost-2', 0, 1)]);

    const read = await keeping.points('hvac-energy', 'hvac-energy-cost');
    expect(read.sort((a, b) => a.from - b.from)).toEqual(cost);
    expect(await keeping.points('hvac-energy', 'hvac-energy-cost-2')).toEqual([
      point('hvac-energy-cost-2', 0, 1),
    ]);
    // The KPI days read as before: the M&V items are in partitions of their own.
    expect(await days.since('hvac-energy', 0)).toHaveLength(1);
  });

  it('GIVEN savings kept twice THEN the latest stands, with its model as fitted', async () => {
    await keeping.putSavings([{ ...savings, savings: 50, computedAt: savings.computedAt - 3_600_000 }]);
    await keeping.putSavings([savings]);
    expect(await keeping.savings('hvac-energy')).toEqual([savings]);
    const refused: KeptSavings = {
      ...savings,
      kpi: 'other',
      status: 'refused',
      reasons: ['CV(RMSE) 41.0% is above 25%'],
      model: null,
      savings: null,
    };
    await keeping.putSavings([refused]);
    expect(await keeping.savings('hvac-energy')).toEqual([savings, refused]);
  });
});
