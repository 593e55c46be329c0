import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicIngestTopic, telemetryTopic } from '../../core/ingest/topics.ts';
import { queryLocalStore } from '../../local/store/query-client.ts';
import { LocalRuntime, localRuleName } from '../../local/runtime/runtime.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { reading as contractReading } from '../support/messages.ts';
import { waitFor } from '../support/wait.ts';

const USE_CASE = 'pump-maintenance';

/** A valid reading taken now: the runtime accepts readings close to their arrival, as Timestream does. */
const reading = (overrides: Parameters<typeof contractReading>[0] = {}) =>
  contractReading({ timestamp: new Date().toISOString(), ...overrides });
let dataDir: string;
let runtime: LocalRuntime;

async function connect(
  thing: string,
  options: { clientId?: string; cert?: string } = {},
): Promise<MqttClient> {
  const pair = await runtime.ca.devicePair(options.cert ?? thing);
  return mqtt.connectAsync(runtime.mqttUrl, {
    clientId: options.clientId ?? thing,
    ca: runtime.ca.caPem,
    cert: pair.cert,
    key: pair.key,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
}

/** Waits until `sql` returns rows (ingestion is asynchronous, as in the cloud); fails at the deadline. */
function eventually(sql: string): Promise<Record<string, unknown>[]> {
  return waitFor(`rows for ${sql}`, async () => {
    const { rows } = await runtime.store.query(sql);
    return rows.length > 0 ? rows : undefined;
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'aiot-e2e-'));
  runtime = await LocalRuntime.start({
    ...loadCatalog(),
    dataDir,
    mqttPort: 0,
    apiPort: 0,
    modelPort: false,
    batchWindowMs: 20,
  });
});

afterAll(async () => {
  await runtime.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('local runtime, end to end over MQTT with mutual TLS', () => {
  it('stores a valid message published by a device with its certificate', async () => {
    const client = await connect('pump-101');
    await client.publishAsync(
      telemetryTopic(USE_CASE, 'pump-101'),
      JSON.stringify(reading({ deviceId: 'pump-101', seq: 7 })),
      { qos: 1 },
    );
    const rows = await eventually(
      "SELECT device_id, seq, motor_current, firmware FROM telemetry WHERE device_id = 'pump-101'",
    );
    expect(rows).toEqual([{ device_id: 'pump-101', seq: 7, motor_current: 1.35, firmware: '1.4.2' }]);
    await client.endAsync();
  });

  it('accepts the Basic Ingest topic form too', async () => {
    const client = await connect('pump-102');
    await client.publishAsync(
      basicIngestTopic(localRuleName(USE_CASE), USE_CASE, 'pump-102'),
      JSON.stringify(reading({ deviceId: 'pump-102' })),
      { qos: 1 },
    );
    await eventually("SELECT 1 FROM telemetry WHERE device_id = 'pump-102'");
    await client.endAsync();
  });

  it('quarantines a malformed message with every reason and its raw payload', async () => {
    const client = await connect('pump-103');
    const bad = {
      ...reading({ deviceId: 'pump-103' }),
      seq: 'seven',
      measures: { ...reading().measures, motorTemperature: 900 },
    };
    await client.publishAsync(telemetryTopic(USE_CASE, 'pump-103'), JSON.stringify(bad), { qos: 1 });
    const [row] = await eventually(
      "SELECT stage, reasons, payload FROM quarantine WHERE device_id = 'pump-103'",
    );
    const reasons = JSON.parse(String(row?.reasons)) as { path: string; message: string }[];
    expect(row?.stage).toBe('validation');
    expect(reasons.map((r) => r.path)).toEqual(['seq', 'measures.motorTemperature']);
    expect(reasons[1]?.message).toBe('above the physical range -40..200 degC (got 900)');
    expect(JSON.parse(String(row?.payload))).toEqual(bad);
    await client.endAsync();
  });

  it("refuses a device that publishes to another device's topic, and stores nothing for it", async () => {
    const client = await connect('pump-104');
    const refusedBefore = runtime.counters.refused;
    const closed = new Promise<void>((resolve) =>
      client.once('close', () => {
        resolve();
      }),
    );
    client.publish(telemetryTopic(USE_CASE, 'pump-999'), JSON.stringify(reading({ deviceId: 'pump-999' })), {
      qos: 1,
    });
    await closed;
    expect(runtime.counters.refused).toBe(refusedBefore + 1);
    const { rows } = await runtime.store.query("SELECT 1 FROM telemetry WHERE device_id = 'pump-999'");
    expect(rows).toEqual([]);
    await client.endAsync(true);
  });

  it("refuses to connect a client id other than the certificate's thing", async () => {
    await expect(connect('pump-105', { clientId: 'pump-001' })).rejects.toThrow(/Not authorized/i);
  });

  it('refuses a client without a certificate from the local CA', async () => {
    await expect(
      mqtt.connectAsync(runtime.mqttUrl, {
        clientId: 'intruder',
        ca: runtime.ca.caPem,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      }),
    ).rejects.toThrow();
  });

  it('stores a message published twice once', async () => {
    const client = await connect('pump-106');
    const payload = JSON.stringify(reading({ deviceId: 'pump-106' }));
    await client.publishAsync(telemetryTopic(USE_CASE, 'pump-106'), payload, { qos: 1 });
    await client.publishAsync(telemetryTopic(USE_CASE, 'pump-106'), payload, { qos: 1 });
    await eventually("SELECT 1 FROM telemetry WHERE device_id = 'pump-106'");
    const before = runtime.counters.duplicates;
    await client.publishAsync(telemetryTopic(USE_CASE, 'pump-106'), payload, { qos: 1 });
    await waitFor('the third copy to be counted as a duplicate', () =>
      runtime.counters.duplicates > before ? true : undefined,
    );
    const { rows } = await runtime.store.query(
      "SELECT count(*)::INTEGER AS n FROM telemetry WHERE device_id = 'pump-106'",
    );
    expect(rows).toEqual([{ n: 1 }]);
    await client.endAsync();
  });

  it('answers aiot query through the running runtime', async () => {
    const result = await queryLocalStore(
      dataDir,
      "SELECT count(*)::INTEGER AS n FROM telemetry WHERE device_id = 'pump-101'",
    );
    expect(result.rows).toEqual([{ n: 1 }]);
  });
});

describe('local runtime, hostile input', () => {
  it('disconnects a publisher of a payload over 128 KB without reading it, and keeps serving others', async () => {
    const client = await connect('pump-201');
    const closed = new Promise<void>((resolve) =>
      client.once('close', () => {
        resolve();
      }),
    );
    client.on('error', () => undefined);
    client.publish(telemetryTopic(USE_CASE, 'pump-201'), Buffer.alloc(8 * 1024 * 1024, 0x7b), { qos: 1 });
    await closed;
    const [refusal] = await eventually("SELECT thing, action, reason FROM refusals WHERE thing = 'pump-201'");
    // Remaining length: topic length (2 bytes), topic, packet id (2 bytes), payload.
    const announced = 2 + telemetryTopic(USE_CASE, 'pump-201').length + 2 + 8 * 1024 * 1024;
    expect(refusal).toEqual({
      thing: 'pump-201',
      action: 'publish',
      reason: `MQTT packet of ${announced} bytes is over the 132096-byte limit; disconnected before reading it`,
    });
    await client.endAsync(true);

    const other = await connect('pump-202');
    await other.publishAsync(
      telemetryTopic(USE_CASE, 'pump-202'),
      JSON.stringify(reading({ deviceId: 'pump-202' })),
      {
        qos: 1,
      },
    );
    await eventually("SELECT 1 FROM telemetry WHERE device_id = 'pump-202'");
    await other.endAsync();
  });

  it('refuses a payload just over 128 KB with the exact figure, as IoT Core does', async () => {
    const client = await connect('pump-203');
    const closed = new Promise<void>((resolve) =>
      client.once('close', () => {
        resolve();
      }),
    );
    client.on('error', () => undefined);
    client.publish(telemetryTopic(USE_CASE, 'pump-203'), Buffer.alloc(128 * 1024 + 1, 0x20), { qos: 1 });
    await closed;
    const [refusal] = await eventually("SELECT reason FROM refusals WHERE thing = 'pump-203'");
    expect(refusal?.reason).toBe('payload of 131073 bytes is over the 131072-byte limit');
    await client.endAsync(true);
  });

  it('gives two identical malformed payloads a quarantine row each', async () => {
    const client = await connect('pump-204');
    await Promise.all([
      client.publishAsync(telemetryTopic(USE_CASE, 'pump-204'), '', { qos: 1 }),
      client.publishAsync(telemetryTopic(USE_CASE, 'pump-204'), '', { qos: 1 }),
    ]);
    const [row] = await waitFor('two quarantine rows', async () => {
      const { rows } = await runtime.store.query(
        "SELECT count(*) AS n FROM quarantine WHERE device_id = 'pump-204'",
      );
      return rows[0]?.n === 2 ? rows : undefined;
    });
    expect(row).toEqual({ n: 2 });
    await client.endAsync();
  });

  it('quarantines a reading whose firmware holds a lone surrogate instead of storing it as U+FFFD', async () => {
    const client = await connect('pump-205');
    const payload = JSON.stringify(reading({ deviceId: 'pump-205' })).replace('"1.4.2"', '"1.4.\\ud800"');
    await client.publishAsync(telemetryTopic(USE_CASE, 'pump-205'), payload, { qos: 1 });
    const [row] = await eventually("SELECT reasons FROM quarantine WHERE device_id = 'pump-205'");
    expect(JSON.parse(String(row?.reasons))).toEqual([
      {
        path: 'firmware',
        code: 'custom',
        message: 'must be valid Unicode text (it holds a lone surrogate) (got "1.4.\\ud800")',
      },
    ]);
    await client.endAsync();
  });

  it('quarantines a reading dated too far from its arrival for the store', async () => {
    const client = await connect('pump-206');
    for (const timestamp of ['0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.000Z'])
      await client.publishAsync(
        telemetryTopic(USE_CASE, 'pump-206'),
        JSON.stringify(reading({ deviceId: 'pump-206', timestamp })),
        { qos: 1 },
      );
    const rows = await waitFor('both quarantined', async () => {
      const result = await runtime.store.query(
        "SELECT reasons->>'$[0].code' AS code FROM quarantine WHERE device_id = 'pump-206'",
      );
      return result.rows.length === 2 ? result.rows : undefined;
    });
    expect(rows).toEqual([{ code: 'time_out_of_bounds' }, { code: 'time_out_of_bounds' }]);
    await client.endAsync();
  });

  it('keeps the tag of simulated readings', async () => {
    const client = await connect('pump-207');
    await client.publishAsync(
      telemetryTopic(USE_CASE, 'pump-207'),
      JSON.stringify({ ...reading({ deviceId: 'pump-207' }), origin: 'simulated' }),
      { qos: 1 },
    );
    expect(await eventually("SELECT origin FROM telemetry WHERE device_id = 'pump-207'")).toEqual([
      { origin: 'simulated' },
    ]);
  });

  it('quarantines a malformed health report with its reasons', async () => {
    const client = await connect('pump-208');
    await client.publishAsync(
      'dt/pump-maintenance/pump-208/health',
      JSON.stringify({ deviceId: 'pump-208', queueDepth: -1 }),
      {
        qos: 1,
      },
    );
    const [row] = await eventually("SELECT stage, reasons FROM quarantine WHERE device_id = 'pump-208'");
    expect(row?.stage).toBe('health');
    expect((JSON.parse(String(row?.reasons)) as { path: string }[]).map((r) => r.path)).toContain(
      'queueDepth',
    );
    await client.endAsync();
  });
});

describe('local query API, hostile callers', () => {
  const post = (headers: Record<string, string>, body: string) =>
    fetch(`http://127.0.0.1:${runtime.apiPort}/query`, { method: 'POST', headers, body });

  it('refuses a web page: a request with an Origin, or a plain-text form post', async () => {
    const fromPage = await post(
      { 'content-type': 'application/sql', origin: 'https://evil.example' },
      'SELECT 1',
    );
    expect(fromPage.status).toBe(403);
    const form = await post({ 'content-type': 'text/plain' }, 'SELECT 1');
    expect(form.status).toBe(415);
  });

  it('refuses a Host that is not the loopback API (DNS rebinding)', async () => {
    const response = await new Promise<number>((resolve, reject) => {
      const request = http.request(
        {
          host: '127.0.0.1',
          port: runtime.apiPort,
          method: 'POST',
          path: '/query',
          headers: { host: 'evil.example:80', 'content-type': 'application/sql' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      request.on('error', reject);
      request.end('SELECT 1');
    });
    expect(response).toBe(403);
  });

  it('answers a write with 400 and leaves the data as it was', async () => {
    // A device whose reading was stored earlier and that sends nothing more: its count cannot move by itself.
    const count = "SELECT count(*) AS n FROM telemetry WHERE device_id = 'pump-101'";
    const before = await runtime.store.query(count);
    expect(before.rows).toEqual([{ n: 1 }]);
    const response = await post({ 'content-type': 'application/sql' }, 'DELETE FROM telemetry');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe(
      'queries only read: DELETE statements are refused (SELECT, EXPLAIN)',
    );
    expect(await runtime.store.query(count)).toEqual(before);
  });
});
