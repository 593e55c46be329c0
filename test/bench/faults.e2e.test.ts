import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = path.join(import.meta.dirname, '..', '..');

/**
 * The HVAC figures docs/benchmarks.md reports from `npm run bench:faults -- --use-case
 * hvac-energy`, guarded: a change to the model, its selection or the alert policy that loses a
 * fault or pages on normal running fails here.
 */
describe('bench:faults on hvac-energy', () => {
  it('GIVEN the shipped manifest THEN every declared fault is flagged and alerts every unit, and a normal week opens at most one alert a unit', () => {
    const run = spawnSync('npm', ['run', '-s', 'bench:faults', '--', '--use-case', 'hvac-energy'], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.filter((line) => line.startsWith('warning:'))).toEqual([]);
    const result = JSON.parse(lines.at(-1) ?? '{}') as {
      normalFlaggedShare: number;
      faults: Record<string, number>;
      alertsPerUnitWeek: number;
      faultsAlerted: Record<string, number>;
    };
    expect(Object.keys(result.faults).sort()).toEqual(['fouled-coil', 'schedule-override', 'stuck-valve']);
    for (const caught of Object.values(result.faults)) expect(caught).toBeGreaterThanOrEqual(0.5);
    expect(result.normalFlaggedShare).toBeLessThan(0.02);
    expect(Object.values(result.faultsAlerted)).toEqual([1, 1, 1]);
    expect(result.alertsPerUnitWeek).toBeLessThanOrEqual(1);
  }, 150_000);
});
