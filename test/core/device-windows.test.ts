import { describe, expect, it } from 'vitest';
import { DeviceWindows } from '../../core/inference/device-windows.ts';
import { toInferenceRecords } from '../../core/inference/inference-records.ts';
import type { TelemetryRecord } from '../../core/ingest/records.ts';
import { telemetryRecord } from '../support/messages.ts';

function record(device: string, time: number, value: number): TelemetryRecord {
  return telemetryRecord(device, time, time, { col_a: value, col_b: value * 10 });
}

describe('DeviceWindows', () => {
  it('sends each device its own history before its new readings, in time order', () => {
    const windows = new DeviceWindows(['col_a', 'col_b'], ['a', 'b'], 3);
    windows.add([record('p1', 1, 1), record('p1', 2, 2), record('p2', 1, 7)]);
    const [p1] = windows.add([record('p1', 4, 4), record('p1', 3, 3)]);
    expect(p1?.deviceId).toBe('p1');
    expect(p1?.records.map((r) => r.time)).toEqual([3, 4]);
    expect(p1?.window).toEqual({
      sensors: ['a', 'b'],
      rows: [
        [1, 10],
        [2, 20],
        [3, 30],
        [4, 40],
      ],
      scoreFrom: 2,
    });
    // History is bounded: only the last 3 readings of p1 remain.
    expect(windows.add([record('p1', 5, 5)])[0]?.window.rows).toEqual([
      [2, 20],
      [3, 30],
      [4, 40],
      [5, 50],
    ]);
  });

  it('maps a skipped window onto every reading with the reason', () => {
    const rows = toInferenceRecords('uc', 'p1', [record('p1', 1, 1), record('p1', 2, 2)], {
      status: 'skipped',
      reason: 'circuit open',
      attempts: 0,
    });
    expect(rows.map((r) => [r.status, r.score, r.skipReason])).toEqual([
      ['skipped', null, 'circuit open'],
      ['skipped', null, 'circuit open'],
    ]);
  });
});
