import { describe, expect, it } from 'vitest';
import { pumpTelemetryV1 } from '../support/contracts.ts';
import { buildTelemetryMessage, EdgePreprocessor, type SourceReading } from '../../core/edge/preprocessor.ts';
import { resolveEdgeSettings, type EdgeSettings } from '../../core/edge/settings.ts';

const identity = { thing: 'pump-001', firmware: '2.0.1', hardwareGeneration: 'gen3' };
const normal = pumpTelemetryV1.example().measures;
const T0 = Date.parse('2026-11-25T10:00:00.000Z');

function preprocessor(settings: EdgeSettings = {}, thing = identity.thing): EdgePreprocessor {
  return new EdgePreprocessor(pumpTelemetryV1, { ...identity, thing }, resolveEdgeSettings(settings, thing));
}

function reading(secondsAfterT0: number, changes: Record<string, unknown> = {}): SourceReading {
  return { timestamp: T0 + secondsAfterT0 * 1000, measures: { ...normal, ...changes } };
}

describe('EdgePreprocessor', () => {
  it('passes a valid reading through untouched with default settings', () => {
    const edge = preprocessor();
    const result = edge.accept(reading(0), 0);
    expect(result).toEqual({ ready: [{ time: T0, measures: normal }] });
  });

  it('refuses a reading the contract refuses, with every reason, and counts it', () => {
    const edge = preprocessor();
    const { ready, rejected } = edge.accept(
      { timestamp: 'yesterday', measures: { ...normal, outletPressure: 99, flowRate: 'a lot' } },
      0,
    );
    expect(ready).toEqual([]);
    expect(rejected).toEqual([
      expect.stringMatching(/^timestamp: Invalid ISO datetime/),
      'measures.outletPressure: above the physical range -1..40 bar (got 99)',
      'measures.flowRate: Invalid input: expected number, received string (got "a lot")',
    ]);
    expect(edge.counters.rejected).toBe(1);
  });

  it('uses the clock when the source has no timestamp, and refuses time going backwards', () => {
    const edge = preprocessor();
    expect(edge.accept({ measures: normal }, T0).ready[0]?.time).toBe(T0);
    expect(edge.accept(reading(-1), T0).rejected).toEqual([
      'timestamp: 2026-11-25T09:59:59.000Z is not after the previous reading at 2026-11-25T10:00:00.000Z',
    ]);
  });

  it('stamps readings without a time of their own a millisecond apart when they arrive in the same one', () => {
    const edge = preprocessor();
    const times = [1, 2, 3].map(() => edge.accept({ measures: normal }, T0).ready[0]?.time);
    expect(times).toEqual([T0, T0 + 1, T0 + 2]);
    // The clock moves on: the next takes it again.
    expect(edge.accept({ measures: normal }, T0 + 1000).ready[0]?.time).toBe(T0 + 1000);
    expect(edge.counters.rejected).toBe(0);
  });

  it('refuses a physically impossible jump and judges the next reading from the last good one', () => {
    const edge = preprocessor({ maxChangePerSecond: { 'measures.motorTemperature': 5 } });
    edge.accept(reading(0, { motorTemperature: 70 }), 0);
    expect(edge.accept(reading(1, { motorTemperature: 120 }), 0).rejected).toEqual([
      'measures.motorTemperature: changes 50/s, above 5/s',
    ]);
    expect(edge.accept(reading(2, { motorTemperature: 72 }), 0).ready).toHaveLength(1);
  });

  it('sends a spike as is in flag mode and the window median in replace mode, counting both', () => {
    for (const mode of ['flag', 'replace'] as const) {
      const edge = preprocessor({
        spikeFilter: { fields: ['measures.outletPressure'], window: 5, threshold: 3, mode },
      });
      const sent: number[] = [];
      [2.1, 2.2, 2.1, 2.3, 2.2, 9.5, 2.2].forEach((pressure, i) => {
        for (const r of edge.accept(reading(i, { outletPressure: pressure }), 0).ready)
          sent.push(r.measures.outletPressure ?? NaN);
      });
      // The median of the four readings before the spike.
      expect(sent[5]).toBe(mode === 'flag' ? 9.5 : 2.2);
      expect(sent).toHaveLength(7);
      expect(edge.counters.spikes).toEqual({ outletPressure: 1 });
    }
  });

  it('sends the mean of each aggregation window, and the open window on flush', () => {
    const edge = preprocessor({ aggregateSeconds: 5 });
    const ready = [0, 1, 2, 3, 4, 5, 6].flatMap(
      (s) => edge.accept(reading(s, { flowRate: 30 + s }), 0).ready,
    );
    expect(ready.map((r) => [r.time, r.measures.flowRate])).toEqual([[T0, 32]]);
    expect(ready[0]?.measures.motorTemperature).toBeCloseTo(normal.motorTemperature ?? NaN, 9);
    expect(edge.flush().map((r) => [r.time, r.measures.flowRate])).toEqual([[T0 + 5000, 35.5]]);
    expect(edge.counters.aggregated).toBe(7);
  });

  it('drops readings inside the deadband on every field, and sends a heartbeat', () => {
    const bands = Object.fromEntries(Object.keys(normal).map((m) => [`measures.${m}`, 0.5]));
    const edge = preprocessor({ deadband: bands, heartbeatSeconds: 10 });
    const sentAt = [0, 1, 2, 3, 11].filter((s) => edge.accept(reading(s), 0).ready.length > 0);
    expect(sentAt).toEqual([0, 11]);
    expect(edge.counters.filtered).toBe(3);
  });

  it('applies per-device overrides on top of the use case, merging field maps', () => {
    const settings: EdgeSettings = {
      deadband: { 'measures.flowRate': 1 },
      heartbeatSeconds: 60,
      devices: { 'pump-007': { deadband: { 'measures.supplyVoltage': 3 }, heartbeatSeconds: 300 } },
    };
    expect(resolveEdgeSettings(settings, 'pump-007')).toMatchObject({
      deadband: { flowRate: 1, supplyVoltage: 3 },
      heartbeatMs: 300_000,
    });
    expect(resolveEdgeSettings(settings, 'pump-001')).toMatchObject({
      deadband: { flowRate: 1 },
      heartbeatMs: 60_000,
    });
  });

  it('refuses settings naming a measure the contract does not have', () => {
    expect(() => preprocessor({ deadband: { 'measures.rpm': 1 } })).toThrow(
      'deadband names "rpm", which is not a measure of pump.telemetry@1',
    );
  });
});

describe('buildTelemetryMessage', () => {
  it('tags the reading with the contract version, identity and sequence number', () => {
    const built = buildTelemetryMessage(pumpTelemetryV1, identity, { time: T0, measures: normal }, 41);
    expect(built).toEqual({
      ok: true,
      message: {
        contract: 'pump.telemetry',
        version: 1,
        deviceId: 'pump-001',
        timestamp: '2026-11-25T10:00:00.000Z',
        seq: 41,
        firmware: '2.0.1',
        hardwareGeneration: 'gen3',
        measures: normal,
      },
    });
  });
});
