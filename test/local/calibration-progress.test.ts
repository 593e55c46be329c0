import { describe, expect, it } from 'vitest';
import type { BaselineState } from '../../core/baseline/ports.ts';
import { CalibrationProgress, roughDuration } from '../../local/runtime/calibration-progress.ts';
import { calibratingBaseline } from '../support/baselines.ts';

const calibrating = (deviceId: string, collected: number) =>
  calibratingBaseline('hvac-energy', deviceId, collected);
const calibrated = (deviceId: string): BaselineState =>
  ({ useCase: 'hvac-energy', deviceId, revision: 2, active: { version: 1 } }) as unknown as BaselineState;

describe('calibration progress on the status line', () => {
  it('GIVEN units that send a reading every few minutes THEN it estimates when the slowest is done', async () => {
    let states = [calibrated('ahu-001'), calibrating('ahu-002', 100), calibrating('ahu-003', 40)];
    const progress = new CalibrationProgress(
      { list: () => Promise.resolve(states) },
      new Map([['hvac-energy', { readings: 400, idleMs: 120_000 }]]),
    );
    await progress.refresh(0);
    expect(progress.text()).toBe('hvac-energy 1/3 calibrated (slowest 40/400 readings)');
    // 20 minutes later each has 5 more: one every 4 minutes; the slowest needs 355 more.
    states = [calibrated('ahu-001'), calibrating('ahu-002', 105), calibrating('ahu-003', 45)];
    await progress.refresh(20 * 60_000);
    expect(progress.text()).toBe('hvac-energy 1/3 calibrated (slowest 45/400 readings, about 24 h more)');
    expect(progress.current[0]).toMatchObject({ devices: 3, calibrated: 1, idle: 0 });
  });

  it('GIVEN a device that stopped sending THEN it waits for readings, and no estimate grows without end', async () => {
    let states = [calibrated('ahu-001'), calibrating('my-unit', 3)];
    const progress = new CalibrationProgress(
      { list: () => Promise.resolve(states) },
      new Map([['hvac-energy', { readings: 400, idleMs: 120_000 }]]),
    );
    await progress.refresh(0);
    await progress.refresh(60_000);
    await progress.refresh(180_000);
    expect(progress.text()).toBe('hvac-energy 1/2 calibrated (1 waiting for readings)');
    states = [calibrated('ahu-001'), calibrated('my-unit')];
    await progress.refresh(240_000);
    expect(progress.text()).toBe('');
  });

  it('GIVEN durations THEN they read as estimates', () => {
    expect([30, 600, 4 * 3600, 3 * 86_400].map(roughDuration)).toEqual([
      'about a minute',
      'about 10 min',
      'about 4 h',
      'about 3 days',
    ]);
  });
});
