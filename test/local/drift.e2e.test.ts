import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriftReport } from '../../core/drift/ports.ts';
import type { LocalRuntime } from '../../local/runtime/runtime.ts';
import { callRuntime } from '../../local/http/runtime-client.ts';
import { aiot } from '../support/cli.ts';
import { normal, TestPump, type Measures } from '../support/pump.ts';
import { startTestRuntime } from '../support/runtime.ts';
import { waitFor } from '../support/wait.ts';

const DEVICE = 'pump-501';
const READINGS = 1500;
/** The flow meter freezes on its last value for the last 15 minutes (900 readings at 1 Hz). */
const FROZEN = 900;
let runtime: LocalRuntime;
let dataDir: string;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ runtime, dataDir, stop } = await startTestRuntime('aiot-drift-'));
});

afterAll(() => stop());

async function stored(): Promise<number> {
  const { rows } = await runtime.store.query(
    `SELECT count(*)::INTEGER AS n FROM telemetry WHERE device_id = '${DEVICE}'`,
  );
  return Number(rows[0]?.n);
}

describe('drift checks, end to end', () => {
  it('GIVEN a pump whose flow meter freezes and which loses 5 readings WHEN aiot drift check runs THEN it finds the flat line and the receipts count the loss', async () => {
    // Device time ends about now: the checks look at the last hour.
    const pump = new TestPump(runtime, DEVICE, 501, Date.now() - READINGS * 1000);
    await pump.publish(READINGS - FROZEN, normal, (i) => i >= 100 && i < 105);
    let frozenFlow: number | undefined;
    const frozen = (m: Measures): Measures => {
      frozenFlow ??= m.flowRate ?? 0;
      return { ...m, flowRate: frozenFlow };
    };
    await pump.publish(FROZEN, frozen);
    await waitFor('the readings in the store', async () =>
      (await stored()) === READINGS - 5 ? true : undefined,
    );

    const result = await aiot([
      'drift',
      'check',
      '--use-case',
      'pump-maintenance',
      '--format',
      'json',
      '--data-dir',
      dataDir,
    ]);
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as DriftReport;

    const flat = report.findings.filter((f) => f.check === 'flat-line');
    expect(flat).toEqual([
      expect.objectContaining({
        deviceId: DEVICE,
        sensor: 'flowRate',
        unit: 'minutes',
        threshold: 10,
        action: expect.stringContaining('check the sensor') as unknown,
      }),
    ]);
    expect(flat[0]?.figure).toBeGreaterThanOrEqual(14.9);
    const receipts = report.receipts.filter((r) => r.deviceId === DEVICE);
    expect(receipts.reduce((sum, r) => sum + r.missing, 0)).toBe(5);
    expect(receipts.reduce((sum, r) => sum + r.received, 0)).toBe(READINGS - 5);
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        check: 'data-gaps',
        deviceId: DEVICE,
        figure: expect.closeTo(5 / READINGS, 4) as unknown,
      }),
    );

    // Recorded for later: the finding and the hourly receipts are in the store.
    const { rows } = await runtime.store.query(
      `SELECT "check", sensor FROM drift_findings WHERE device_id = '${DEVICE}' ORDER BY "check"`,
    );
    expect(rows).toEqual([
      { check: 'data-gaps', sensor: null },
      { check: 'flat-line', sensor: 'flowRate' },
    ]);
    const { rows: hours } = await runtime.store.query(
      `SELECT sum(missing)::INTEGER AS missing FROM data_receipts WHERE device_id = '${DEVICE}'`,
    );
    expect(hours).toEqual([{ missing: 5 }]);

    // The console's device page lists them for the people on the floor.
    const page = await callRuntime<{ findings: { check: string; sensor: string | null }[] }>(
      dataDir,
      'GET',
      `/devices/pump-maintenance/${DEVICE}`,
    );
    expect(page.findings.map((f) => [f.check, f.sensor])).toEqual([
      ['data-gaps', null],
      ['flat-line', 'flowRate'],
    ]);

    const table = await aiot(['drift', 'check', '--use-case', 'pump-maintenance', '--data-dir', dataDir]);
    expect(table.stdout).toContain('flat-line');
    expect(table.stdout).toMatch(/1495 readings received, 5 missing/);
  });

  it('GIVEN an unknown use case, a malformed or foreign request, or no runtime THEN each is refused with why', async () => {
    const unknown = await aiot(['drift', 'check', '--use-case', 'nope', '--data-dir', dataDir]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('unknown use case "nope"');
    const absent = await aiot([
      'drift',
      'check',
      '--use-case',
      'pump-maintenance',
      '--data-dir',
      '/nonexistent-aiot',
    ]);
    expect(absent.stderr).toContain('no local runtime is running');
  });
});
