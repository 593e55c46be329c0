import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TelemetryRecord } from '../../core/ingest/records.ts';
import { InfluxHttp, InfluxUnavailable } from '../../lambdas/adapters/influx-http.ts';
import { InfluxInferenceStore } from '../../lambdas/adapters/influx-inference-store.ts';
import {
  InfluxDriftReads,
  InfluxOperatorReads,
  InfluxTelemetryReader,
} from '../../lambdas/adapters/influx-reads.ts';
import { InfluxTelemetryStore } from '../../lambdas/adapters/influx-telemetry-store.ts';
import type { DynamoDbDeviceReports } from '../../lambdas/adapters/dynamodb-device-reports.ts';
import { pumpTelemetryV2 } from '../support/contracts.ts';
import { scripted } from '../support/inferences.ts';
import { startInfluxServer, type InfluxServer } from '../support/influxdb.ts';

const T0 = Date.parse('2026-11-30T10:00:00.000Z');

function reading(i: number, measures: Record<string, number> = { flow_rate: 30 + i }): TelemetryRecord {
  return {
    dimensions: {
      use_case: 'pump',
      device_id: 'pump-001',
      firmware: '1.4.2 beta,rc=2',
      hardware_generation: 'gen2',
      contract: 'pump.telemetry@2',
    },
    time: T0 + i * 1000,
    seq: i,
    origin: 'device',
    measures,
  };
}

/** No device reports in these tests: the alert table's part is tested with the DynamoDB adapters. */
const noReports = {
  healthSnapshots: () => Promise.resolve(new Map()),
  healthReports: () => Promise.resolve([]),
  findings: () => Promise.resolve([]),
} as unknown as DynamoDbDeviceReports;

let server: InfluxServer;
let database: string;
let databases = 0;
const noWait = { sleep: () => Promise.resolve() };

beforeAll(async () => {
  server = await startInfluxServer();
});
afterAll(async () => {
  await server.stop();
});
beforeEach(async () => {
  database = await server.createDatabase(`pump_${++databases}`);
});

const influx = (options: ConstructorParameters<typeof InfluxHttp>[1] = noWait) =>
  new InfluxHttp({ url: server.url, database }, options);

describe('InfluxTelemetryStore against a real InfluxDB', () => {
  it('GIVEN readings WHEN written THEN each is stored and reads back with its dimensions and measures', async () => {
    const store = new InfluxTelemetryStore(influx());
    const records = [reading(0), reading(1), reading(2)];

    const outcomes = await store.write(records);

    expect(outcomes).toEqual(records.map(() => ({ status: 'stored' })));
    const reader = new InfluxTelemetryReader(influx(), pumpTelemetryV2);
    expect(await reader.readings('pump', 'pump-001', { from: T0 }, 10)).toEqual(records);
    expect(await reader.readings('pump', 'pump-001', { from: T0 + 1000, to: T0 + 1000 }, 10)).toEqual([
      reading(1),
    ]);
  });

  it('GIVEN a stored reading WHEN the same reading comes again THEN it is a duplicate; WHEN a different one comes at its key THEN it is rejected and the stored one kept', async () => {
    const store = new InfluxTelemetryStore(influx());
    await store.write([reading(0)]);

    const [again, conflicting] = await store.write([
      reading(0),
      { ...reading(0), measures: { flow_rate: 99 } },
    ]);

    expect(again).toEqual({ status: 'duplicate' });
    expect(conflicting).toMatchObject({
      status: 'rejected',
      reason: expect.stringContaining('stored already (seq 0)') as unknown,
    });
    const reader = new InfluxTelemetryReader(influx(), pumpTelemetryV2);
    expect(await reader.readings('pump', 'pump-001', { from: T0 }, 10)).toEqual([reading(0)]);
  });

  it('GIVEN a batch with one line the server refuses WHEN written THEN the batch is split, the bad record rejected with the server reason and the others stored', async () => {
    // The field exists as a string: InfluxDB answers 400 (field type conflict) to a float.
    await fetch(`${server.url}/write?db=${database}&precision=ms`, {
      method: 'POST',
      body: `telemetry,use_case=pump,device_id=other motor_current="amps" ${T0}`,
    });
    const store = new InfluxTelemetryStore(influx());
    const records = [0, 1, 2, 3, 4, 5, 6].map((i) =>
      i === 4 ? reading(i, { motor_current: 4.2 }) : reading(i),
    );

    const outcomes = await store.write(records);

    expect(outcomes[4]).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(
        /^InfluxDB rejected the record: InfluxDB answered 400: .*field type conflict/,
      ) as unknown,
    });
    expect(outcomes.filter((o) => o.status === 'stored')).toHaveLength(6);
    const stored = await new InfluxTelemetryReader(influx(), pumpTelemetryV2).readings(
      'pump',
      'pump-001',
      { from: T0 },
      10,
    );
    expect(stored.map((r) => r.seq)).toEqual([0, 1, 2, 3, 5, 6]);
  });

  it('GIVEN a tag value with a backslash WHEN written THEN that record is rejected before the write and the rest stored', async () => {
    const store = new InfluxTelemetryStore(influx());
    const bad = { ...reading(1), dimensions: { ...reading(1).dimensions, firmware: 'v1\\' } };

    const outcomes = await store.write([reading(0), bad]);

    expect(outcomes).toEqual([
      { status: 'stored' },
      {
        status: 'rejected',
        reason: expect.stringContaining('cannot store a backslash in firmware') as unknown,
      },
    ]);
  });

  it('GIVEN the server answers 503 once WHEN written THEN the write is retried after a back-off and stored', async () => {
    const delays: number[] = [];
    let failures = 1;
    const flaky: typeof fetch = (input, init) =>
      failures-- > 0 ? Promise.resolve(new Response('busy', { status: 503 })) : fetch(input, init);
    const store = new InfluxTelemetryStore(
      influx({ fetch: flaky, sleep: (ms) => Promise.resolve(delays.push(ms)), baseDelayMs: 100 }),
    );

    const outcomes = await store.write([reading(0)]);

    expect(outcomes).toEqual([{ status: 'stored' }]);
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(50);
  });

  it('GIVEN the server keeps answering 429 WHEN written THEN every record is handed back for a retry with the reason', async () => {
    const throttled: typeof fetch = () =>
      Promise.resolve(new Response('{"error":"slow down"}', { status: 429 }));
    const store = new InfluxTelemetryStore(influx({ fetch: throttled, ...noWait, attempts: 3 }));

    const outcomes = await store.write([reading(0), reading(1)]);

    expect(outcomes).toEqual(
      [0, 1].map(() => ({
        status: 'retry',
        reason: expect.stringContaining('429: slow down (after 3 attempts)') as unknown,
      })),
    );
  });

  it('GIVEN a refused token WHEN written THEN the records are retried, not quarantined: authorization is not the message fault', async () => {
    let calls = 0;
    const refused: typeof fetch = () => {
      calls++;
      return Promise.resolve(new Response('{"message":"unauthorized access"}', { status: 401 }));
    };
    const store = new InfluxTelemetryStore(influx({ fetch: refused, ...noWait }));

    const outcomes = await store.write([reading(0)]);

    expect(outcomes).toEqual([{ status: 'retry', reason: expect.stringContaining('401') as unknown }]);
    expect(calls).toBe(1);
  });

  it('GIVEN a token WHEN a request is made THEN it travels as an Authorization header, fetched from its provider', async () => {
    const seen: (string | null)[] = [];
    const recording: typeof fetch = (input, init) => {
      seen.push(new Headers(init?.headers).get('authorization'));
      return fetch(input, init);
    };
    const http = new InfluxHttp(
      { url: server.url, database, token: () => Promise.resolve('write-token') },
      { fetch: recording },
    );

    await http.write(['probe v=1 1']);

    expect(seen).toEqual(['Token write-token']);
  });

  it('GIVEN an unreachable server WHEN written THEN InfluxUnavailable says where and after how many attempts', async () => {
    const http = new InfluxHttp({ url: 'http://127.0.0.1:1', database }, { ...noWait, attempts: 2 });

    await expect(http.write(['probe v=1 1'])).rejects.toThrow(InfluxUnavailable);
    await expect(http.write(['probe v=1 1'])).rejects.toThrow(/127\.0\.0\.1:1 unreachable.*after 2 attempts/);
  });

  it.each([
    ['ftp://host', /must be http or https/],
    ['not a url', /is not a URL/],
  ])('GIVEN the URL %s WHEN the client is built THEN it is refused naming the value', (url, message) => {
    expect(() => new InfluxHttp({ url, database: 'x' })).toThrow(message);
  });
});

describe('Influx reads against a real InfluxDB', () => {
  it('GIVEN stored readings and inferences WHEN the drift checks read THEN they see the devices and the inference samples', async () => {
    await new InfluxTelemetryStore(influx()).write([reading(0), reading(1)]);
    const inferences = scripted('..A', T0 / 1000, 'pump-001', 'pump');
    await new InfluxInferenceStore(influx()).writeInferences(inferences);
    const reads = new InfluxDriftReads(
      influx(),
      new InfluxTelemetryReader(influx(), pumpTelemetryV2),
      noReports,
    );

    expect(await reads.devices('pump', { from: T0, to: T0 + 60_000 })).toEqual(['pump-001']);
    expect(await reads.devices('pump', { from: T0 + 60_000, to: T0 + 120_000 })).toEqual([]);
    const samples = await reads.inferences('pump', 'pump-001', { from: T0, to: T0 + 60_000 });
    expect(samples.map((s) => [s.time - T0, s.status, s.anomalous, s.monitoring])).toEqual([
      [0, 'scored', false, true],
      [1000, 'scored', false, true],
      [2000, 'scored', true, true],
    ]);
  });

  it('GIVEN readings and scores WHEN the console asks for a series THEN InfluxDB averages readings and takes the top score per bucket', async () => {
    await new InfluxTelemetryStore(influx()).write([0, 1, 2, 3].map((i) => reading(i)));
    await new InfluxInferenceStore(influx()).writeInferences(scripted('..A.', T0 / 1000, 'pump-001', 'pump'));
    const reads = new InfluxOperatorReads(new Map([['pump', influx()]]), noReports);

    const series = await reads.series({
      useCase: 'pump',
      deviceId: 'pump-001',
      from: T0,
      to: T0 + 4000,
      sensors: [{ sensor: 'flowRate', column: 'flow_rate' }],
      bucketMs: 2000,
    });

    expect(series).toEqual({
      times: [T0, T0 + 2000],
      values: { flowRate: [30.5, 32.5] },
      scores: [2, 20],
      thresholds: [10, 10],
    });
  });

  it('GIVEN a device heard from now WHEN the console lists activity THEN it shows when and with which model', async () => {
    const now = Date.now();
    await new InfluxTelemetryStore(influx()).write([{ ...reading(0), time: now }]);
    await new InfluxInferenceStore(influx()).writeInferences(
      scripted('.', Math.floor(now / 1000), 'pump-001', 'pump'),
    );
    const reads = new InfluxOperatorReads(new Map([['pump', influx()]]), noReports);

    expect(await reads.activity('pump')).toEqual([
      { useCase: 'pump', deviceId: 'pump-001', lastReadingAt: now, modelVersion: 'm1', health: null },
    ]);
  });
});
