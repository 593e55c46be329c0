import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime/runtime.ts';
import { loadCatalog, type Catalog } from '../../usecases/catalog.ts';
import { lastMondayBefore, sendSimulatedDevice } from '../support/simulated-device.ts';
import { waitFor } from '../support/wait.ts';

/**
 * A third use case, copied alone into a scratch folder: compressors (examples/compressed-air),
 * with slow signals, a daily cycle, a weekday schedule and two faults that change only slow
 * signals. With no settings in its manifest the model must catch both and stay quiet otherwise.
 */
const REPO = path.join(import.meta.dirname, '..', '..');
let dir: string;
let folders: { contractsDir: string; useCasesDir: string };
let catalog: Catalog;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiot-unseen-'));
  folders = { contractsDir: path.join(dir, 'contracts'), useCasesDir: path.join(dir, 'usecases') };
  for (const [folder, file] of [
    [folders.contractsDir, 'contracts/compressor.telemetry.v1.yaml'],
    [folders.useCasesDir, 'usecases/compressed-air.yaml'],
  ] as const) {
    mkdirSync(folder, { recursive: true });
    copyFileSync(path.join(REPO, 'examples', 'compressed-air', file), path.join(folder, path.basename(file)));
  }
  catalog = loadCatalog(folders);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('a use case the project has never seen, from its files alone (compressed-air)', () => {
  it('GIVEN default settings WHEN bench:faults runs it THEN both declared faults are flagged in at least half their readings from an hour after onset and alert every unit, normal running stays quiet, and nothing is warned', () => {
    const run = spawnSync(
      'npm',
      [
        'run',
        '-s',
        'bench:faults',
        '--',
        '--use-case',
        'compressed-air',
        '--contracts',
        folders.contractsDir,
        '--use-cases',
        folders.useCasesDir,
      ],
      { cwd: REPO, encoding: 'utf8', timeout: 120_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.filter((line) => line.startsWith('warning:'))).toEqual([]);
    // The settings were chosen on the simulation, and it says which.
    expect(run.stdout).toMatch(/settings chosen on the simulation: .*"slowSensorRatio":0/);
    const result = JSON.parse(lines.at(-1) ?? '{}') as {
      normalFlaggedShare: number;
      faults: Record<string, number>;
      alertsPerUnitWeek: number;
      faultsAlerted: Record<string, number>;
    };
    expect(result.normalFlaggedShare).toBeLessThan(0.02);
    expect(Object.keys(result.faults).sort()).toEqual(['oil-cooler-fouling', 'pressure-regulator-drift']);
    for (const caught of Object.values(result.faults)) expect(caught).toBeGreaterThanOrEqual(0.5);
    // Through its alert policy: every unit with a fault alerted, at most one alert a unit in a normal week.
    expect(result.faultsAlerted).toEqual({ 'oil-cooler-fouling': 1, 'pressure-regulator-drift': 1 });
    expect(result.alertsPerUnitWeek).toBeLessThanOrEqual(1);
  }, 150_000);

  it('GIVEN the same files THEN the local runtime trains its model and a fouling oil cooler opens an alert, with nothing flagged before it', async () => {
    const runtime = await LocalRuntime.start({
      ...catalog,
      dataDir: path.join(dir, 'runtime'),
      mqttPort: 0,
      apiPort: 0,
      modelPort: 0,
      batchWindowMs: 20,
    });
    try {
      const manifest = catalog.useCases[0];
      if (!manifest) throw new Error('no use case');
      const contract = catalog.contracts.get(manifest.contract);
      const model = runtime.scoringOf('compressed-air')?.model;
      // Every signal scored, the slow ones too; the choice is in the model's card.
      expect(model?.tracked).toHaveLength(6);
      expect(model?.selection?.warnings).toEqual([]);

      // From a Monday 04:00 a week back: the baseline calibrates on the first 400 readings (67
      // minutes), production starts at 06:00, and at 12:00 the oil cooler starts to foul.
      const monday = lastMondayBefore(Date.now() - 7 * 86_400_000) + 4 * 3600_000;
      const faultAt = monday + 8 * 3600_000;
      const { thing, drained, status } = await sendSimulatedDevice(runtime, manifest, contract, {
        seed: 7,
        startAt: monday,
        stepMs: 5000,
        count: (12 * 3600) / 5,
        rate: 4000,
        fault: { id: 'oil-cooler-fouling', at: faultAt },
        dataDir: dir,
        firmware: '1.0.0',
        hardwareGeneration: 'gen-a',
      });
      expect(drained).toBe(true);
      await waitFor(
        'every compressor reading stored',
        async () => {
          const { rows } = await runtime.store.query(
            `SELECT count(*)::INTEGER AS n FROM inferences WHERE use_case = 'compressed-air' AND device_id = '${thing}'`,
          );
          return Number(rows[0]?.n) >= status.sent ? true : undefined;
        },
        60_000,
      );
      const alert = await waitFor(
        'an alert on the compressor',
        async () => {
          const { rows } = await runtime.store.query(
            `SELECT device_id, inference, epoch_ms(first_anomaly_at) AS first FROM alerts WHERE use_case = 'compressed-air'`,
          );
          return rows[0];
        },
        60_000,
      );
      expect(alert).toMatchObject({ device_id: thing, inference: 'compressor-anomaly' });
      expect(Number(alert.first)).toBeGreaterThanOrEqual(faultAt);
      const { rows: before } = await runtime.store.query(
        `SELECT count(*)::INTEGER AS n FROM inferences WHERE use_case = 'compressed-air' AND anomalous AND epoch_ms(time) < ${faultAt}`,
      );
      expect(before[0]?.n).toBe(0);
    } finally {
      await runtime.stop();
    }
  }, 240_000);
});
