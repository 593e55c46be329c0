import { describe, expect, it } from 'vitest';
import { InMemoryAlertStore } from '../../core/alerts/in-memory.ts';
import type { Alert } from '../../core/alerts/lifecycle.ts';
import { InMemoryBaselineStore } from '../../core/baseline/in-memory.ts';
import type { HealthSample } from '../../core/drift/checks.ts';
import { DriftService } from '../../core/drift/drift-service.ts';
import { CollectingDriftSink, InMemoryDriftReads } from '../../core/drift/in-memory.ts';
import type { DriftReport, InferenceSample } from '../../core/drift/ports.ts';
import type { TelemetryRecord } from '../../core/ingest/records.ts';
import { trainAnomalyModel } from '../../core/model/anomaly-model.ts';
import { gaussian, seededRandom } from '../../core/simulation/random.ts';
import { repoUseCase } from '../support/catalog.ts';
import { repoContracts } from '../support/contracts.ts';

const PUMPS = repoUseCase('pump-maintenance');
const NOW = Date.parse('2026-11-30T12:00:00Z');
const HOUR = 3600_000;
const SENSORS = ['vibrationRmsX', 'motorCurrent', 'outletPressure'] as const;
const COLUMNS: Record<(typeof SENSORS)[number], string> = {
  vibrationRmsX: 'vibration_rms_x',
  motorCurrent: 'motor_current',
  outletPressure: 'outlet_pressure',
};

/** Two hours of 1 Hz readings of one device, `shift` added to every sensor in the last hour. */
function readings(deviceId: string, seed: number, shift = 0): TelemetryRecord[] {
  const random = seededRandom(seed);
  return Array.from({ length: 2 * 3600 }, (_, i) => {
    const time = NOW - 2 * HOUR + i * 1000;
    const late = time >= NOW - HOUR ? shift : 0;
    return {
      dimensions: {
        use_case: 'pump-maintenance',
        device_id: deviceId,
        firmware: 'f',
        hardware_generation: 'h',
        contract: 'pump.telemetry@1',
      },
      time,
      seq: i,
      origin: 'simulated',
      measures: {
        vibration_rms_x: 1 + 0.1 * gaussian(random) + late,
        motor_current: 20 + gaussian(random) + late * 10,
        outlet_pressure: 5 + 0.2 * gaussian(random) + late * 2,
      },
    } satisfies TelemetryRecord;
  });
}

/** The in-memory reads with these devices' readings, the first device's scores, and health reports. */
function memoryReads(
  rows: Map<string, TelemetryRecord[]>,
  scores: InferenceSample[] = [],
  health: HealthSample[] = [],
): InMemoryDriftReads {
  const reads = new InMemoryDriftReads();
  for (const [device, records] of rows) {
    reads.readingsOf.set(device, records);
    reads.healthOf.set(device, health);
  }
  const first = [...rows.keys()][0];
  if (first) reads.inferencesOf.set(first, scores);
  return reads;
}

const training = trainAnomalyModel(
  {
    sensors: [...SENSORS],
    rows: readings('training', 1)
      .slice(0, 3600)
      .map((r) => SENSORS.map((s) => r.measures[COLUMNS[s]] ?? 0)),
  },
  { modelVersion: 'm-test' },
);

async function run(reads: InMemoryDriftReads, alerts = new InMemoryAlertStore()): Promise<DriftReport> {
  const sink = new CollectingDriftSink();
  const service = new DriftService(repoContracts, reads, alerts, new InMemoryBaselineStore(), sink);
  const report = await service.run(PUMPS, training, NOW);
  expect(sink.reports).toEqual([report]);
  return report;
}

describe('DriftService', () => {
  it('GIVEN a device like the training data THEN no finding, and a receipt for the hour of the window with nothing missing', async () => {
    const report = await run(memoryReads(new Map([['p1', readings('p1', 2)]])));
    expect(report.findings).toEqual([]);
    expect(report.receipts.every((r) => r.missing === 0)).toBe(true);
    expect(report.receipts).toEqual([
      { useCase: 'pump-maintenance', deviceId: 'p1', hour: NOW - HOUR, received: 3600, missing: 0 },
    ]);
  });

  it('GIVEN a device whose inputs moved THEN a data-drift finding names the drifted inputs and says to re-baseline or retrain', async () => {
    const report = await run(memoryReads(new Map([['p2', readings('p2', 3, 0.5)]])));
    const drift = report.findings.find((f) => f.check === 'data-drift');
    expect(drift).toMatchObject({ deviceId: 'p2', modelVersion: 'm-test', figure: 1, threshold: 0.3 });
    expect(drift?.summary).toMatch(/^3 of 3 model inputs left the training distribution: vibrationRmsX PSI/);
    expect(drift?.action).toContain('re-baseline');
  });

  it('GIVEN a calibrating device that is one narrow slice of what the training data held THEN that is not drift', async () => {
    // Quieter than the training data and off its centre, but never beyond its range.
    const narrow = readings('p3', 4).map((r) => ({
      ...r,
      measures: {
        vibration_rms_x: 1.1 + ((r.measures.vibration_rms_x ?? 1) - 1) * 0.1,
        motor_current: 20.5 + ((r.measures.motor_current ?? 20) - 20) * 0.1,
        outlet_pressure: 5.1 + ((r.measures.outlet_pressure ?? 5) - 5) * 0.1,
      },
    }));
    const report = await run(memoryReads(new Map([['p3', narrow]])));
    expect(report.findings).toEqual([]);
  });

  it('GIVEN the scores of the fleet THEN anomaly rate, latency and skipped scores are checked against the manifest', async () => {
    const scores: InferenceSample[] = Array.from({ length: 1000 }, (_, i) => ({
      time: NOW - i * 1000,
      status: i % 50 === 0 ? 'skipped' : 'scored',
      anomalous: i % 10 === 0,
      latencyMs: i % 20 === 0 ? 900 : 20,
      monitoring: true,
    }));
    const report = await run(memoryReads(new Map([['p1', readings('p1', 2)]]), scores));
    expect(report.findings.map((f) => [f.check, f.figure, f.threshold])).toEqual([
      ['anomaly-rate', expect.closeTo(80 / 980, 3), 0.05],
      ['inference-latency', 900, 200],
      ['skipped-scores', 0.02, 0.01],
    ]);
  });

  it('GIVEN operators who call most alerts false THEN a finding says to retrain with their verdicts', async () => {
    const alerts = new InMemoryAlertStore();
    for (let i = 0; i < 6; i++) {
      alerts.alerts.set(`a${i}`, {
        id: `a${i}`,
        useCase: 'pump-maintenance',
        openedAt: NOW - i * HOUR,
        verdict:
          i < 5
            ? { kind: 'false-positive', reason: 'normal-operation', note: '' }
            : { kind: 'confirmed', failureMode: 'seal', workOrder: null, note: '' },
      } as Alert);
    }
    const report = await run(memoryReads(new Map([['p1', readings('p1', 2)]])), alerts);
    expect(report.findings).toEqual([
      expect.objectContaining({
        check: 'false-positives',
        figure: expect.closeTo(0.833, 3) as unknown,
        threshold: 0.5,
      }),
    ]);
  });

  it('GIVEN health reports of a skewed clock and a spiking transducer THEN each gets its finding', async () => {
    const health: HealthSample[] = [
      {
        receivedAt: NOW - HOUR + 1000,
        deviceTime: NOW - HOUR + 1000 - 120_000,
        readings: 100,
        spikes: { 'measures.outletPressure': 0 },
      },
      {
        receivedAt: NOW - 1000,
        deviceTime: NOW - 1000 - 120_000,
        readings: 3700,
        spikes: { 'measures.outletPressure': 180 },
      },
    ];
    const report = await run(memoryReads(new Map([['p1', readings('p1', 2)]]), [], health));
    expect(report.findings.map((f) => [f.check, f.sensor, f.figure])).toEqual([
      ['spikes', 'outletPressure', 0.05],
      ['clock-skew', null, 120],
    ]);
  });
});
