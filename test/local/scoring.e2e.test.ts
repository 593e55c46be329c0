import mqtt from 'mqtt';
import { publishPacer } from '../support/mqtt.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../core/ingest/topics.ts';
import { PumpSimulator } from '../../core/simulation/pump-simulator.ts';
import type { LocalRuntime } from '../../local/runtime/runtime.ts';
import { startTestRuntime } from '../support/runtime.ts';
import { waitFor } from '../support/wait.ts';
import { normal, PUMP_CALIBRATION, TestPump } from '../support/pump.ts';

const CALIBRATION = PUMP_CALIBRATION;
let runtime: LocalRuntime;

async function publishReadings(thing: string, count: number, start: number) {
  const pair = await runtime.ca.devicePair(thing);
  const client = await mqtt.connectAsync(runtime.mqttUrl, {
    clientId: thing,
    ca: runtime.ca.caPem,
    cert: pair.cert,
    key: pair.key,
    reconnectPeriod: 0,
  });
  const pump = new PumpSimulator({ thing, seed: 42 });
  const pace = publishPacer();
  for (let i = 0; i < count; i++) {
    await pace();
    const reading = pump.next(start + i * 1000);
    await client.publishAsync(telemetryTopic('pump-maintenance', thing), JSON.stringify(reading), { qos: 1 });
  }
  await client.endAsync();
}

const eventually = <T>(probe: () => Promise<T | undefined>) => waitFor('the inferences', probe);
/** Readings start this long ago: the runtime accepts readings no older than the store keeps. */
const hoursAgo = (hours: number) => Date.now() - hours * 3600_000;

let stopRuntime: () => Promise<void>;

beforeAll(async () => {
  ({ runtime, stop: stopRuntime } = await startTestRuntime('aiot-scoring-'));
});

afterAll(() => stopRuntime());

describe('local runtime scoring', () => {
  it('scores every stored reading into the inferences table, with the model version and latency', async () => {
    await publishReadings('pump-201', 30, hoursAgo(3));
    const rows = await eventually(async () => {
      const { rows } = await runtime.store.query(
        "SELECT count(*)::INTEGER AS n, count(*) FILTER (WHERE status = 'scored')::INTEGER AS scored, min(model_version) AS model, bool_or(anomalous) AS any_anomaly FROM inferences WHERE device_id = 'pump-201'",
      );
      return rows[0]?.n === 30 ? rows : undefined;
    });
    expect(rows[0]).toMatchObject({ n: 30, scored: 30, any_anomaly: false });
    expect(String(rows[0]?.model)).toMatch(/^pump-maintenance-simulated-/);
  });

  it('calibrates a new pump on its first readings, then flags its vibration jump, naming vibration', async () => {
    // The calibration readings, then 80 with vibration six times its level, in packs as the
    // edge agent sends them.
    const pump = new TestPump(runtime, 'pump-202', 42, hoursAgo(2));
    await pump.publish(CALIBRATION, normal);
    await pump.publish(80, (m) => ({ ...m, vibrationRmsX: (m.vibrationRmsX ?? 0) * 6 }));
    // Every reading scored: none of this pump's windows is still on its way to the next test's
    // closed server. A minute, not the default 20 s: 1,880 readings on a machine running other
    // test files beside this one.
    await waitFor(
      'every reading of pump-202 scored',
      async () => {
        const { rows } = await runtime.store.query(
          "SELECT count(*)::INTEGER AS n FROM inferences WHERE device_id = 'pump-202'",
        );
        return rows[0]?.n === CALIBRATION + 80 ? true : undefined;
      },
      60_000,
    );
    const {
      rows: [row],
    } = await runtime.store.query(
      "SELECT contributors FROM inferences WHERE device_id = 'pump-202' AND anomalous ORDER BY time DESC LIMIT 1",
    );
    expect((JSON.parse(String(row?.contributors)) as { sensor: string }[])[0]?.sensor).toBe('vibrationRmsX');
    const { rows: states } = await runtime.store.query(
      `SELECT device_state, count(*)::INTEGER AS n, bool_or(anomalous) AS flagged FROM inferences
       WHERE device_id = 'pump-202' AND time < (SELECT min(time) FROM inferences WHERE device_id = 'pump-202') + INTERVAL ${CALIBRATION} SECOND
       GROUP BY ALL`,
    );
    expect(states).toEqual([{ device_state: 'calibrating', n: CALIBRATION, flagged: false }]);
  }, 120_000);

  it('stores readings and marks them unscored, with the reason, when the model server is gone', async () => {
    await runtime.scoringOf('pump-maintenance')?.server.close();
    await publishReadings('pump-203', 5, hoursAgo(1));
    const rows = await eventually(async () => {
      const { rows } = await runtime.store.query(
        "SELECT status, skip_reason FROM inferences WHERE device_id = 'pump-203'",
      );
      return rows.length === 5 ? rows : undefined;
    });
    expect(rows.every((r) => r.status === 'skipped')).toBe(true);
    // The first windows name the server; once the circuit opens, the later ones say so instead.
    expect(rows.every((r) => /model server|circuit open/.test(String(r.skip_reason)))).toBe(true);
    expect(rows.some((r) => /model server/.test(String(r.skip_reason)))).toBe(true);
    const { rows: stored } = await runtime.store.query(
      "SELECT count(*)::INTEGER AS n FROM telemetry WHERE device_id = 'pump-203'",
    );
    expect(stored).toEqual([{ n: 5 }]);
  });
});
