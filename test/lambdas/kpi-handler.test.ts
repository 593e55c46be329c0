import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { QueryCommand as TimestreamQuery, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { KpiReading, KpiReads } from '../../core/kpi/kpi.ts';
import { DAY_MS } from '../../core/kpi/kpi.ts';
import type { TelemetryRecord } from '../../core/ingest/records.ts';
import { InfluxKpiReads } from '../../lambdas/adapters/cloud-kpi-reads.ts';
import { InfluxHttp } from '../../lambdas/adapters/influx-http.ts';
import { InfluxTelemetryStore } from '../../lambdas/adapters/influx-telemetry-store.ts';
import { createKpiHandler, kpiDependenciesFromEnv } from '../../lambdas/kpi/handler.ts';
import { deployedFunction } from '../support/deployed-functions.ts';
import { deniedRequests, iamRequestsOf, unusedGrants } from '../support/iam-check.ts';
import { repoContracts } from '../support/contracts.ts';
import { startInfluxServer, type InfluxServer } from '../support/influxdb.ts';

const documents = mockClient(DynamoDBDocumentClient);
mockClient(DynamoDBClient);
const NOW = Date.UTC(2026, 10, 30, 8);
const TODAY = Date.UTC(2026, 10, 30);

/** A unit drawing 20 kW every 5 minutes of every day. */
const steadyUnit: KpiReads = {
  readings: (_, fields, from, to) => {
    const readings: KpiReading[] = [];
    for (let time = from; time < to; time += 5 * 60_000)
      readings.push({
        deviceId: 'ahu-001',
        time,
        values: Object.fromEntries(
          fields.map((field) => [field, field === 'measures.electricalPower' ? 20 : 22]),
        ),
      });
    return Promise.resolve(readings);
  },
  devices: () => Promise.resolve(1),
  alerts: () => Promise.resolve([]),
  sql: () => Promise.reject(new Error('no SQL in the cloud')),
  // Reading for ten days: the M&V baseline (21 days) is under way.
  firstReading: () => Promise.resolve(TODAY - 10 * DAY_MS),
};

/** A Timestream answer of one row with one column. */
const answer = (name: string, value: string) => ({
  ColumnInfo: [{ Name: name, Type: { ScalarType: 'VARCHAR' as const } }],
  Rows: [{ Data: [{ ScalarValue: value }] }],
});

/** The KPI function as deployed: environment from the synthesized template, readings from `steadyUnit`. */
const deployed = deployedFunction('LiveAnalytics, no trained model', 'Kpis/Function');
const KPI_TABLE = deployed.env.KPI_TABLE ?? '';
const fromTemplate = kpiDependenciesFromEnv(deployed.env);
const handler = createKpiHandler({ ...fromTemplate, readsOf: () => steadyUnit, clock: { now: () => NOW } });

beforeEach(() => {
  documents.reset();
  documents.on(BatchWriteCommand).resolves({});
});

afterAll(() => {
  documents.restore();
});

describe('the KPI function', () => {
  it('GIVEN the table holds some days THEN it computes the days of the last week that do not stand yet, and only those', async () => {
    const kept = { kpi: 'hvac-energy-cost', numerator: 86.4, denominator: 1 };
    const keptDays = {
      Items: [
        // Stands: a full day of data, computed once late data could no longer change it.
        { ...kept, day: TODAY - 3 * DAY_MS, coverage: 1, computedAt: TODAY - DAY_MS },
        // Computed the morning after: a backlog may still arrive for it.
        { ...kept, day: TODAY - DAY_MS, coverage: 1, computedAt: TODAY + 3_600_000 },
        // Kept before days had a coverage: it may be a zero written before the store had data.
        { ...kept, day: TODAY - 2 * DAY_MS, computedAt: TODAY - 12 * 3_600_000 },
        // No data that day.
        { ...kept, day: TODAY - 4 * DAY_MS, coverage: 0, computedAt: TODAY - DAY_MS },
      ],
    };
    // The KPI days as above; no M&V point kept yet.
    documents
      .on(QueryCommand)
      .callsFake((input: { ExpressionAttributeValues: Record<string, unknown> }) =>
        String(input.ExpressionAttributeValues[':pk']).startsWith('KPI#') ? keptDays : { Items: [] },
      );

    const run = await handler({ useCase: 'hvac-energy' });

    // three computed KPIs x seven days, less the one that stands
    expect(run.computed).toHaveLength(3 * 7 - 1);
    expect(
      run.computed.filter((day) => day.kpi === 'hvac-energy-cost').map((day) => (TODAY - day.day) / DAY_MS),
    ).toEqual([7, 6, 5, 4, 2, 1]);
    expect(run.computed.find((day) => day.kpi === 'hvac-energy-cost')).toMatchObject({
      day: TODAY - 7 * DAY_MS,
      numerator: expect.closeTo(86.4, 6) as unknown,
    });
    expect(documents.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'KPI#hvac-energy', ':since': TODAY - 7 * DAY_MS },
    });
    const items = documents
      .commandCalls(BatchWriteCommand)
      .flatMap((call) => call.args[0].input.RequestItems?.[KPI_TABLE] ?? [])
      .map((request) => request.PutRequest?.Item ?? {});
    const written = items.filter((item) => String(item.pk).startsWith('KPI#'));
    expect(written).toHaveLength(20);
    expect(written[0]).toMatchObject({
      pk: 'KPI#hvac-energy',
      sk: `hvac-energy-cost#${new Date(TODAY - 7 * DAY_MS).toISOString().slice(0, 10)}`,
      coverage: 1,
      computedAt: NOW,
    });
    // The cost's M&V: a point for each of the ten days so far, and the savings saying the
    // baseline period is under way.
    expect(items.filter((item) => item.pk === 'MV#hvac-energy')).toHaveLength(10);
    expect(items.find((item) => item.pk === 'MV#hvac-energy')).toMatchObject({
      sk: `hvac-energy-cost#${new Date(TODAY - 10 * DAY_MS).toISOString()}`,
      y: expect.closeTo(86.4, 6) as unknown,
      x: {
        outdoorTemperature: expect.closeTo(22, 9) as unknown,
        occupancy: expect.closeTo(22, 9) as unknown,
      },
    });
    expect(items.filter((item) => String(item.pk).startsWith('SAVINGS#'))).toEqual([
      expect.objectContaining({
        pk: 'SAVINGS#hvac-energy',
        sk: 'hvac-energy-cost',
        status: 'too little data',
        reasons: [
          `the baseline period runs until ${new Date(TODAY + 11 * DAY_MS).toISOString().slice(0, 10)} (10 of 21 days so far)`,
        ],
      }),
    ]);
    expect(run.mvPoints).toBe(10);
  });

  it('GIVEN a KPI written in SQL for the local store THEN the cloud skips it and says so', async () => {
    documents.on(QueryCommand).resolves({ Items: [] });
    const run = await handler({ useCase: 'pump-maintenance' });
    expect(run.skipped).toEqual(['energy-per-volume']);
    expect(new Set(run.computed.map((day) => day.kpi))).toEqual(
      new Set(['unplanned-downtime', 'alert-load', 'false-positive-share']),
    );
  });

  it('GIVEN DynamoDB leaves items unprocessed THEN they are written again', async () => {
    documents.on(QueryCommand).resolves({ Items: [] });
    let first = true;
    documents.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => {
      if (!first) return {};
      first = false;
      return { UnprocessedItems: { [KPI_TABLE]: input.RequestItems[KPI_TABLE]?.slice(0, 2) } };
    });
    await handler({ useCase: 'hvac-energy' });
    // 21 days: a batch of 21, then its 2 unprocessed again; then the ten M&V points and the savings
    expect(
      documents.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems?.[KPI_TABLE]?.length),
    ).toEqual([21, 2, 10, 1]);
  });

  it("GIVEN each use case's schedule WHEN it runs with what the template gives it THEN every AWS call is one its role allows, and the role allows nothing else", async () => {
    const timestream = mockClient(TimestreamQueryClient);
    try {
      documents.on(QueryCommand).resolves({ Items: [] });
      // One device, reading since the start of every window, no minute means: enough for the alert KPIs to ask for alerts.
      timestream.on(TimestreamQuery).callsFake((input: { QueryString: string }) => {
        const from = /from_milliseconds\((\d+)\)/.exec(input.QueryString)?.[1] ?? '0';
        if (input.QueryString.includes('count(DISTINCT device_id)')) return answer('n', '1');
        if (input.QueryString.includes('min(time)')) return answer('t', from);
        return { ColumnInfo: [], Rows: [] };
      });
      const run = createKpiHandler({ ...fromTemplate, clock: { now: () => NOW } });
      for (const useCase of ['hvac-energy', 'pump-maintenance']) await run({ useCase });

      const requests = iamRequestsOf([documents, timestream]);
      // The days it keeps, and the alerts behind the alert KPIs.
      expect(
        requests.filter((r) => r.action === 'dynamodb:Query').map((r) => r.resource.split('/')[1]),
      ).toEqual(expect.arrayContaining([KPI_TABLE, deployed.env.ALERT_TABLE]));
      expect(await deniedRequests(deployed.policies, requests)).toEqual([]);
      expect(unusedGrants(deployed.policies, requests)).toEqual([]);
    } finally {
      timestream.restore();
    }
  });

  it('GIVEN an event that names no known use case THEN it says which it knows', async () => {
    await expect(handler({ useCase: 'boilers' })).rejects.toThrow(
      'unknown use case "boilers" (hvac-energy, pump-maintenance)',
    );
    await expect(handler({})).rejects.toThrow();
  });
});

describe('InfluxKpiReads against a real InfluxDB', () => {
  let server: InfluxServer;
  let influx: InfluxHttp;
  const record = (deviceId: string, time: number, power: number): TelemetryRecord => ({
    dimensions: {
      use_case: 'hvac-energy',
      device_id: deviceId,
      firmware: '2.1.0',
      hardware_generation: 'ahu-b',
      contract: 'hvac.telemetry@1',
    },
    time,
    seq: time / 1000,
    origin: 'simulated',
    measures: { electrical_power: power },
  });

  beforeAll(async () => {
    server = await startInfluxServer();
    influx = new InfluxHttp({ url: server.url, database: await server.createDatabase('hvac') });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('GIVEN readings of two units THEN it reads minute means per unit and counts the units', async () => {
    const t0 = TODAY;
    await new InfluxTelemetryStore(influx).write([
      record('ahu-001', t0, 10),
      record('ahu-001', t0 + 20_000, 20), // same minute: mean 15
      record('ahu-001', t0 + 60_000, 30),
      record('ahu-002', t0, 5),
    ]);
    const reads = new InfluxKpiReads(influx, repoContracts.get('hvac.telemetry@1'), {
      listAlerts: () => Promise.resolve([]),
    });
    const readings = await reads.readings('hvac-energy', ['measures.electricalPower'], t0, t0 + DAY_MS);
    expect(
      readings.map((r) => [r.deviceId, r.time - t0, r.values['measures.electricalPower']]).sort(),
    ).toEqual([
      ['ahu-001', 0, 15],
      ['ahu-001', 60_000, 30],
      ['ahu-002', 0, 5],
    ]);
    // With no field (the downtime KPI only needs when each unit was heard of): the minutes alone.
    expect(
      (await reads.readings('hvac-energy', [], t0, t0 + DAY_MS)).map((r) => [r.deviceId, r.time - t0]).sort(),
    ).toEqual([
      ['ahu-001', 0],
      ['ahu-001', 60_000],
      ['ahu-002', 0],
    ]);
    expect(await reads.devices('hvac-energy', t0, t0 + DAY_MS)).toBe(2);
    // The first reading's own time, and none in a window without readings.
    expect(await reads.firstReading('hvac-energy', t0 - DAY_MS, t0 + DAY_MS)).toBe(t0);
    expect(await reads.firstReading('hvac-energy', t0 + 61_000, t0 + DAY_MS)).toBeNull();
    await expect(reads.readings('hvac-energy', ['measures.humidity'], t0, t0 + DAY_MS)).rejects.toThrow(
      '"measures.humidity" is not a measure of hvac.telemetry@1',
    );
    await expect(reads.sql()).rejects.toThrow('a KPI in SQL is written for the local store');
  });
});
