import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Silence } from '../../core/alerts/ports.ts';
import type { BaselineState } from '../../core/baseline/ports.ts';
import type { DeviceBaseline } from '../../core/model/device-baseline.ts';
import { SYSTEM } from '../../core/operators/actor.ts';
import { DuckDbAlertStore } from '../../local/store/duckdb-alert-store.ts';
import { DuckDbStore } from '../../local/store/duckdb-store.ts';
import { calibratingBaseline } from '../support/baselines.ts';

const dirs: string[] = [];
const stores: DuckDbStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function open(file: string): Promise<{ db: DuckDbStore; alerts: DuckDbAlertStore }> {
  const db = await DuckDbStore.open(file);
  stores.push(db);
  return { db, alerts: await DuckDbAlertStore.open(db) };
}

function storeFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'aiot-state-'));
  dirs.push(dir);
  return path.join(dir, 'aiot.duckdb');
}

const baseline: DeviceBaseline = {
  format: 'aiot.device-baseline',
  formatVersion: 1,
  modelVersion: 'm1',
  rows: 100,
  tracked: [{ sensor: 'flow', mean: 30, scale: 1 }],
  untracked: [],
  precision: [[1]],
  threshold: 3,
  scoreQuantiles: { p50: 1, p90: 2, p99: 2.5, max: 2.9 },
};

function activated(previous: BaselineState): BaselineState {
  return {
    useCase: previous.useCase,
    deviceId: previous.deviceId,
    revision: previous.revision + 1,
    active: {
      version: 1,
      baseline,
      calibratedFrom: 0,
      calibratedUntil: 100_000,
      reason: 'commissioning',
      note: '',
      requestedBy: SYSTEM,
      activatedAt: 200_000,
    },
  };
}

describe('DuckDbAlertStore device state', () => {
  it('GIVEN baseline states saved in one turn WHEN the store is opened again THEN each is there, and the activation has its version row', async () => {
    const file = storeFile();
    const first = await open(file);
    const calibrating = calibratingBaseline('uc', 'p1', 10);
    expect(await first.alerts.save(calibrating)).toBe(true);
    const saved = await Promise.all([
      first.alerts.save(activated(calibrating)),
      first.alerts.save(calibratingBaseline('uc', 'p2', 5)),
    ]);
    expect(saved).toEqual([true, true]);
    await first.db.close();
    stores.splice(stores.indexOf(first.db), 1);

    const again = await open(file);
    expect(await again.alerts.get('uc', 'p1')).toMatchObject({ revision: 2, active: { version: 1 } });
    expect(await again.alerts.get('uc', 'p2')).toMatchObject({ revision: 1, calibration: { collected: 5 } });
    const versions = await again.db.query('SELECT device_id, version FROM baseline_versions');
    expect(versions.rows).toEqual([{ device_id: 'p1', version: 1 }]);
  });

  it('GIVEN two alert stores on one store WHEN both save the same revision THEN the second is refused', async () => {
    const { db, alerts } = await open(storeFile());
    const other = await DuckDbAlertStore.open(db);
    expect(await alerts.save(calibratingBaseline('uc', 'p1', 1))).toBe(true);
    expect(await other.save(calibratingBaseline('uc', 'p1', 2))).toBe(false);
    expect(await other.get('uc', 'p1')).toMatchObject({ calibration: { collected: 1 } });
  });

  it('GIVEN an alert track saved WHEN a save carries a stale revision THEN it is refused and the stored track stays', async () => {
    const file = storeFile();
    const { db, alerts } = await open(file);
    const track = { useCase: 'uc', deviceId: 'p1', inference: 'anomaly', revision: 1, outbox: [] };
    expect(await alerts.saveTrack(track as never)).toBe(true);
    expect(await alerts.saveTrack({ ...track, revision: 1 } as never)).toBe(false);
    await db.close();
    stores.splice(stores.indexOf(db), 1);
    const again = await open(file);
    expect(await again.alerts.getTrack('uc', 'p1', 'anomaly')).toMatchObject({ revision: 1 });
  });

  it('GIVEN silences added WHEN asked at a time THEN only those in force, by start; a new one is seen at once', async () => {
    const { alerts } = await open(storeFile());
    const silence = (id: string, from: number, to: number): Silence => ({
      id,
      useCase: 'uc',
      scope: { kind: 'use-case' },
      kind: 'silence',
      from,
      to,
      reason: 'test',
      createdBy: SYSTEM,
      createdAt: 0,
    });
    await alerts.addSilence(silence('late', 5_000, 9_000));
    expect((await alerts.silences('uc', 6_000)).map((s) => s.id)).toEqual(['late']);
    await alerts.addSilence(silence('early', 1_000, 8_000));
    expect((await alerts.silences('uc', 6_000)).map((s) => s.id)).toEqual(['early', 'late']);
    expect((await alerts.silences('uc', 8_500)).map((s) => s.id)).toEqual(['late']);
    expect(await alerts.silences('other', 6_000)).toEqual([]);
  });
});
