import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicIngestTopic, telemetryTopic } from '../../core/ingest/topics.ts';
import { queryLocalStore } from '../../local/query-client.ts';
import { LocalRuntime, localRuleName } from '../../local/runtime.ts';
import { loadUseCases } from '../../usecases/catalog.ts';
import { reading } from '../support/messages.ts';

const USE_CASE = 'pump-maintenance';
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

/** Polls the store until `sql` returns rows (ingestion is asynchronous, as in the cloud). */
async function eventually(sql: string, timeoutMs = 10_000): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await runtime.store.query(sql);
    if (rows.length > 0) return rows;
    if (Date.now() > deadline) throw new Error(`no rows for ${sql} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'aiot-e2e-'));
  runtime = await LocalRuntime.start({
    useCases: loadUseCases(),
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
    expect(rows).toEqual([{ device_id: 'pump-101', seq: '7', motor_current: 1.35, firmware: '1.4.2' }]);
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
    const [row] = await eventually("SELECT stage, reasons, payload FROM quarantine WHERE thing = 'pump-103'");
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
    const deadline = Date.now() + 5000;
    while (runtime.counters.duplicates === before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
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
