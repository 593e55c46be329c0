import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../core/ingest/topics.ts';
import { LocalRuntime } from '../../local/runtime/runtime.ts';
import { callRuntime, RuntimeRefusal } from '../../local/http/runtime-client.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { aiot } from '../support/cli.ts';
import { reading } from '../support/messages.ts';
import { waitFor } from '../support/wait.ts';

const USE_CASE = 'pump-maintenance';
const THING = 'pump-upgraded';
let dataDir: string;
let runtime: LocalRuntime | undefined;

const start = (useCases: ReturnType<typeof loadCatalog>['useCases']) =>
  LocalRuntime.start({
    useCases,
    contracts: loadCatalog().contracts,
    dataDir,
    mqttPort: 0,
    apiPort: 0,
    modelPort: false,
    batchWindowMs: 20,
  });

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  if (!runtime) throw new Error('no runtime');
  return (await runtime.store.query(sql)).rows;
}

beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'aiot-replay-'));
});

afterAll(async () => {
  await runtime?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('aiot quarantine replay, through the local runtime', () => {
  it('GIVEN version 2 readings quarantined before the use case accepted version 2 WHEN the manifest accepts it and the quarantine is replayed THEN each is stored once', async () => {
    // GIVEN a runtime whose use case accepts only version 1 (the manifest before the migration)
    const { useCases } = loadCatalog();
    const before = useCases.map((u) => ({ ...u, contract: 'pump.telemetry@1', alsoAccepts: [] }));
    runtime = await start(before);
    const pair = await runtime.ca.devicePair(THING);
    const client = await mqtt.connectAsync(runtime.mqttUrl, {
      clientId: THING,
      ca: runtime.ca.caPem,
      cert: pair.cert,
      key: pair.key,
      reconnectPeriod: 0,
    });
    // WHEN an upgraded pump sends version 2, and another message is simply broken
    const upgraded = {
      ...reading({ deviceId: THING, seq: 1 }),
      version: 2,
      measures: { ...reading().measures, bearingTemperature: 51.5 },
    };
    const broken = reading({
      deviceId: THING,
      seq: 2,
      timestamp: '2026-01-15T08:30:01.000Z',
      measures: { flowRate: -5 },
    });
    await client.publishAsync(telemetryTopic(USE_CASE, THING), JSON.stringify(upgraded), { qos: 1 });
    await client.publishAsync(telemetryTopic(USE_CASE, THING), JSON.stringify(broken), { qos: 1 });
    await client.endAsync();
    // THEN both are quarantined, the first for its version
    const quarantined = await waitFor('two quarantined messages', async () => {
      const found = await rows(
        `SELECT reasons FROM quarantine WHERE device_id = '${THING}' ORDER BY quarantined_at, id`,
      );
      return found.length === 2 ? found : undefined;
    });
    expect(JSON.stringify(quarantined)).toContain('unaccepted_contract');
    await runtime.stop();

    // WHEN the runtime starts with the manifest that accepts version 2, and the quarantine is replayed
    runtime = await start(useCases);
    const replay = await aiot(['quarantine', 'replay', '--data-dir', dataDir, '--format', 'json']);
    expect(replay.stderr).toBe('');
    // THEN the version 2 reading is stored, the broken one stays with its reasons of today
    expect(JSON.parse(replay.stdout)).toEqual({
      examined: 2,
      stored: 1,
      alreadyStored: 0,
      stillQuarantined: 1,
      retry: 0,
      stillRefusedBy: [{ code: 'too_small', count: 1 }],
      complete: true,
    });
    expect(
      await rows(`SELECT contract, bearing_temperature, seq FROM telemetry WHERE device_id = '${THING}'`),
    ).toEqual([{ contract: 'pump.telemetry@2', bearing_temperature: 51.5, seq: 1 }]);
    expect(await rows(`SELECT outcome FROM quarantine_resolved WHERE device_id = '${THING}'`)).toEqual([
      { outcome: 'stored' },
    ]);
    const [left] = await rows(
      `SELECT reasons, replayed_at IS NOT NULL AS replayed FROM quarantine WHERE device_id = '${THING}'`,
    );
    expect(left?.replayed).toBe(true);
    expect(String(left?.reasons)).toContain('measures.flowRate');

    // AND a second replay stores nothing twice
    const again = await aiot(['quarantine', 'replay', '--data-dir', dataDir]);
    expect(again.stdout).toContain(
      '1 quarantined messages re-validated: 0 stored now, 0 already stored, 1 still quarantined',
    );
    expect(await rows(`SELECT count(*)::INTEGER AS n FROM telemetry WHERE device_id = '${THING}'`)).toEqual([
      { n: 1 },
    ]);
  }, 120_000);

  it('GIVEN a bad flag or body THEN it is refused with what was wrong', async () => {
    const bad = await aiot(['quarantine', 'replay', '--data-dir', dataDir, '--since', 'yesterday']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(
      '--since must be an ISO 8601 time such as 2026-11-30T08:00Z, got "yesterday"',
    );

    const refusal = await callRuntime(dataDir, 'POST', '/quarantine/replays', {
      since: 'soon',
      drop: true,
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(RuntimeRefusal);
    expect((refusal as RuntimeRefusal).status).toBe(400);
    expect((refusal as RuntimeRefusal).message).toMatch(/since.*drop|drop.*since/s);

    const unknown = await callRuntime(dataDir, 'POST', '/quarantine/replays', { useCase: 'fans' }).then(
      () => undefined,
      (error: unknown) => error as RuntimeRefusal,
    );
    expect(unknown?.status).toBe(404);
    expect(unknown?.message).toContain('unknown use case "fans" (hvac-energy, pump-maintenance)');
  });
});
