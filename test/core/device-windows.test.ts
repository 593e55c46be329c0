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

  it('keeps the history the model asks for, cutting what an earlier, longer one kept', () => {
    const windows = new DeviceWindows(['col_a', 'col_b'], ['a', 'b'], 4);
    windows.add([1, 2, 3, 4].map((t) => record('p1', t, t)));
    windows.followModel(2);
    const [shorter] = windows.add([record('p1', 5, 5)]);
    expect(shorter?.window.rows.map(([a]) => a)).toEqual([3, 4, 5]);
    expect(shorter?.window.scoreFrom).toBe(2);
    // A longer history fills as readings come; an answer without one changes nothing.
    windows.followModel(undefined);
    windows.followModel(3);
    expect(windows.add([record('p1', 6, 6)])[0]?.window.rows.map(([a]) => a)).toEqual([4, 5, 6]);
    expect(windows.add([record('p1', 7, 7)])[0]?.window.rows.map(([a]) => a)).toEqual([4, 5, 6, 7]);
    // A model without smoothing needs no history at all.
    windows.followModel(0);
    expect(windows.add([record('p1', 8, 8)])[0]?.window).toMatchObject({ rows: [[8, 80]], scoreFrom: 0 });
  });

  it('refuses a history that is not a whole number of readings a model may ask for', () => {
    expect(() => new DeviceWindows(['col_a'], ['a'], -1)).toThrow(
      'history must be a whole number from 0 to 3599, got -1',
    );
    const windows = new DeviceWindows(['col_a'], ['a'], 3);
    expect(() => {
      windows.followModel(3600);
    }).toThrow('history must be a whole number from 0 to 3599, got 3600');
    expect(() => {
      windows.followModel(2.5);
    }).toThrow('got 2.5');
    expect(windows.historyReadings).toBe(3);
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
