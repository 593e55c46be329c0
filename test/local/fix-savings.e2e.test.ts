import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedSite } from '../../bench/mv-site.ts';
import { clearAlert, decide } from '../../core/alerts/lifecycle.ts';
import type { FixSavings } from '../../core/kpi/mv/fix-savings.ts';
import { SYSTEM } from '../../core/operators/actor.ts';
import type { LocalRuntime } from '../../local/runtime/runtime.ts';
import { DATABASE_FILE } from '../../local/runtime/runtime.ts';
import { DuckDbAlertStore } from '../../local/store/duckdb-alert-store.ts';
import { DuckDbStore } from '../../local/store/duckdb-store.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { openAlert } from '../support/alerts.ts';
import { repoUseCase } from '../support/catalog.ts';
import { aiot, auditOfKind } from '../support/cli.ts';
import { startRuntimeOn } from '../support/runtime.ts';

const H = 3_600_000;
const manifest = repoUseCase('hvac-energy');
const hour = Math.floor(Date.now() / H) * H;
// Two days of a schedule override, fixed, then two days of normal running up to this hour.
const FAULT_FROM = hour - 96 * H;
const FIXED = hour - 48 * H;
let dataDir: string;
let runtime: LocalRuntime;
let alertId: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'aiot-fix-savings-'));
  const { contracts } = loadCatalog();
  const store = await DuckDbStore.open(path.join(dataDir, DATABASE_FILE), {
    measureColumns: contracts.measureColumns().map((m) => m.column),
  });
  try {
    const alerts = await DuckDbAlertStore.open(store);
    // Four units: the first with the fault, the second running its fans after hours throughout.
    const site = new SimulatedSite(manifest, contracts.get(manifest.contract), 4, 3);
    const unit = site.unit('ahu-001');
    unit.simulator.inject('schedule-override', FAULT_FROM);
    site.unit('ahu-002').simulator.inject('fans-after-hours', FAULT_FROM - 6 * H);
    await site.run(store, FAULT_FROM - 6 * H, FIXED, () => undefined);
    unit.simulator.stop('schedule-override');
    await site.run(store, FIXED, hour, () => undefined);
    // What operators and the runtime did: the alert opened, was confirmed, and cleared at the fix.
    const opened = openAlert(
      { useCase: manifest.id, deviceId: 'ahu-001', inference: 'ahu-anomaly', group: manifest.id },
      FAULT_FROM + H,
    );
    const confirmed = decide(
      { ...opened, firstAnomalyAt: FAULT_FROM },
      { action: 'confirm', failureMode: 'schedule override', note: '' },
      { name: 'olu', role: 'operator' },
      FAULT_FROM + 2 * H,
    );
    const fixed = clearAlert(confirmed, FIXED, SYSTEM);
    alertId = fixed.id;
    await alerts.openAlert(fixed, { shiftStart: FAULT_FROM, perDevice: 10, perUseCase: 10 });
  } finally {
    await store.close();
  }
  runtime = await startRuntimeOn(dataDir);
}, 120_000);

afterAll(async () => {
  await runtime.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('savings per fix, and recommendations accepted, through the runtime', () => {
  it('GIVEN a confirmed schedule override that cleared two days ago THEN the alert shows what fixing it saved, with its uncertainty', async () => {
    const json = await aiot(['alerts', 'show', alertId, '--format', 'json', '--data-dir', dataDir]);
    expect(json.code, json.stderr).toBe(0);
    const { savings } = JSON.parse(json.stdout) as { savings: FixSavings };
    expect(savings.status, savings.reasons.join('; ')).toBe('measured');
    expect(savings.faultHours).toBeGreaterThanOrEqual(47);
    expect(savings.hoursSinceFix).toBeGreaterThanOrEqual(47);
    expect(savings.fit?.cvRmsePct).toBeLessThan(30);
    // The override ran the fans at full speed around the clock: tens of kW, for two days.
    expect(savings.kwh).toBeGreaterThan(500);
    expect(savings.totals?.uncertainty90Pct).toBeLessThan(50);

    const table = await aiot(['alerts', 'show', alertId, '--data-dir', dataDir]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(
      /fixing this schedule override saved [\d,]+ kWh \([\d,.]+ EUR\) in 2 days, ± \d+% at 90% confidence/,
    );
  }, 60_000);

  it('GIVEN a unit running its fans after hours THEN an engineer accepts the recommendation, it is in the audit trail with its estimate, and an operator or a stale id is refused', async () => {
    const id = 'fansAfterHours/ahu-002';
    const accept = (...args: string[]) =>
      aiot(['kpi', 'accept', ...args, '--use-case', 'hvac-energy', '--data-dir', dataDir]);
    const byOperator = await accept(id, '--user', 'olu', '--role', 'operator');
    expect(byOperator.code).not.toBe(0);
    expect(byOperator.stderr).toContain(
      'olu (operator) may not accept recommendations; roles that may: reliability-engineer',
    );
    const unknown = await accept('setback/ahu-004', '--user', 'dana', '--role', 'reliability-engineer');
    expect(unknown.code).not.toBe(0);
    // The current ones name ahu-002's; ahu-001's override may add its own, depending on how many
    // of the last days' empty hours (nights, the weekend) fell in the override: the clock decides.
    expect(unknown.stderr).toMatch(
      /no current recommendation "setback\/ahu-004" for hvac-energy \(current: [^)]*fansAfterHours\/ahu-002/,
    );

    const run = await accept(
      id,
      '--user',
      'dana',
      '--role',
      'reliability-engineer',
      '--note',
      'fan schedule back to 06:30-18:30',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^fansAfterHours\/ahu-002: accepted by dana \(reliability-engineer\); estimated \d+ kWh a year/,
    );
    const [entry, ...more] = await auditOfKind(dataDir, 'recommendation-accepted');
    expect(more).toEqual([]);
    expect(entry).toMatchObject({
      actor: { name: 'dana' },
      subject: `recommendation ${id}`,
      reason: 'fan schedule back to 06:30-18:30',
      details: { device: 'ahu-002', rule: 'fansAfterHours' },
    });
    expect(entry?.details.kwhPerYear).toBeGreaterThan(1000);
  }, 60_000);

  it('GIVEN an unknown alert THEN its savings are refused with 404', async () => {
    const run = await aiot(['alerts', 'show', 'no-such-alert', '--data-dir', dataDir]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('no alert no-such-alert');
  });
});
