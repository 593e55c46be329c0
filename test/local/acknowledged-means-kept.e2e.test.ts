import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../core/ingest/topics.ts';
import { LocalCertificateAuthority } from '../../local/broker/certs.ts';
import { DuckDbStore } from '../../local/store/duckdb-store.ts';
import { LocalRuntime } from '../../local/runtime/runtime.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { reading } from '../support/messages.ts';
import { connectOnce, publishAllPaced, publishPacer } from '../support/mqtt.ts';
import { waitFor } from '../support/wait.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'aiot-kill-'));
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('acknowledged means kept', () => {
  it('stores every reading the broker acknowledged, although the runtime was killed with SIGKILL before ingesting any', async () => {
    // GIVEN a runtime in its own process that acknowledges and has not ingested yet
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures', 'runtime-child.ts'), dataDir],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise((resolve) => child.on('close', resolve));
    const { mqttPort } = await new Promise<{ mqttPort: number }>((resolve, reject) => {
      let buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const line = buffer.split('\n')[0];
        if (buffer.includes('\n') && line) resolve(JSON.parse(line) as { mqttPort: number });
      });
      child.on('close', (code) => {
        reject(new Error(`runtime exited with ${code} before listening`));
      });
    });
    const ca = await LocalCertificateAuthority.openOrCreate(path.join(dataDir, 'certs'));
    const pair = await ca.devicePair('pump-301');
    const client = await mqtt.connectAsync(`mqtts://localhost:${mqttPort}`, {
      clientId: 'pump-301',
      ca: ca.caPem,
      cert: pair.cert,
      key: pair.key,
      reconnectPeriod: 0,
    });
    const start = Date.now();
    const acknowledged = 300;
    // WHEN the device gets PUBACK for each reading, then the runtime is killed
    await publishAllPaced(
      client,
      telemetryTopic('pump-maintenance', 'pump-301'),
      Array.from({ length: acknowledged }, (_, seq) =>
        JSON.stringify(
          reading({ deviceId: 'pump-301', seq, timestamp: new Date(start + seq * 1000).toISOString() }),
        ),
      ),
    );
    child.kill('SIGKILL');
    await exited;
    client.end(true);

    // THEN the next start ingests every one of them, once
    const runtime = await LocalRuntime.start({
      ...loadCatalog(),
      dataDir,
      mqttPort: 0,
      apiPort: 0,
      modelPort: false,
    });
    expect(runtime.queue.recovered).toBe(acknowledged);
    await runtime.queue.drain();
    const { rows } = await runtime.store.query(
      "SELECT count(*) AS n, count(DISTINCT seq) AS distinct_seq FROM telemetry WHERE device_id = 'pump-301'",
    );
    await runtime.stop();
    expect(rows).toEqual([{ n: acknowledged, distinct_seq: acknowledged }]);
  });
});

describe('a clean stop under load', () => {
  it('stops while a device keeps publishing, acknowledging nothing it will not store', async () => {
    // GIVEN a runtime and a device publishing as fast as PUBACKs come back, reconnecting at once
    const dir = mkdtempSync(path.join(tmpdir(), 'aiot-stop-'));
    const runtime = await LocalRuntime.start({
      ...loadCatalog(),
      dataDir: dir,
      mqttPort: 0,
      apiPort: 0,
      modelPort: false,
    });
    const pair = await runtime.ca.devicePair('pump-302');
    const acknowledged: number[] = [];
    const device = { stopping: false };
    const start = Date.now();
    const pace = publishPacer();
    const publishing = (async () => {
      let seq = 0;
      while (!device.stopping) {
        const client = await connectOnce(runtime.mqttUrl, {
          clientId: 'pump-302',
          ca: runtime.ca.caPem,
          cert: pair.cert,
          key: pair.key,
          connectTimeout: 1000,
        });
        if (!client?.connected) {
          await new Promise((resolve) => setTimeout(resolve, 50)); // between reconnect attempts, as a device waits
          continue;
        }
        client.on('error', () => undefined);
        const closed = new Promise<'closed'>((resolve) =>
          client.once('close', () => {
            resolve('closed');
          }),
        );
        for (;;) {
          await pace();
          const current = seq++;
          const payload = JSON.stringify(
            reading({
              deviceId: 'pump-302',
              seq: current,
              timestamp: new Date(start + current).toISOString(),
            }),
          );
          const outcome = await Promise.race([
            client.publishAsync(telemetryTopic('pump-maintenance', 'pump-302'), payload, { qos: 1 }).then(
              () => 'acked' as const,
              () => 'failed' as const,
            ),
            closed,
          ]);
          if (outcome !== 'acked') break;
          acknowledged.push(current);
        }
        client.end(true);
      }
    })();
    await waitFor('some readings acknowledged', () => (acknowledged.length >= 200 ? true : undefined));
    // WHEN the runtime stops while the device goes on
    await runtime.stop();
    device.stopping = true;
    await publishing;
    // THEN every acknowledged reading is in the store, and nothing else
    const store = await DuckDbStore.open(path.join(dir, 'local.duckdb'), { readOnly: true });
    const { rows } = await store.query("SELECT count(*) AS n FROM telemetry WHERE device_id = 'pump-302'");
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    expect(rows).toEqual([{ n: acknowledged.length }]);
  }, 60_000);
});
