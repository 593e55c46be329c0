import type { AlertStore } from '../alerts/ports.ts';
import type { BaselineStore } from '../baseline/ports.ts';
import type { DataContract } from '../contracts/contract.ts';
import type { ContractRegistry } from '../contracts/registry.ts';
import type { UseCaseManifest } from '../usecase/manifest.ts';
import { countGaps } from './checks.ts';
import { dataDriftFindings, type DescribedModel } from './data-drift.ts';
import type { MakeFinding } from './finding-text.ts';
import { modelFindings } from './model-findings.ts';
import type { DataReceipt, DriftReads, DriftReport, DriftSink, Finding, InferenceSample } from './ports.ts';
import {
  gapFindings,
  healthFindings,
  sensorFindings,
  sensorSpecs,
  type SensorSpec,
} from './sensor-findings.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3600_000;
/** Readings read per device and run: two windows of a 10 Hz device for an hour. */
const MAX_READINGS = 72_000;

/** One run's use case and window, and what each device adds to it. */
interface RunContext {
  readonly manifest: UseCaseManifest;
  readonly model: DescribedModel | undefined;
  readonly contract: DataContract;
  readonly sensors: readonly SensorSpec[];
  readonly from: number;
  readonly now: number;
  readonly make: MakeFinding;
}

/**
 * Runs the drift checks of a use case over its recent window: sensor health and data-loss
 * receipts per device, data drift of each device's model inputs against the model's training
 * profile, and the model's performance across the fleet. Every finding names its subject, check,
 * figure, threshold and what to do next.
 */
export class DriftService {
  constructor(
    private readonly contracts: ContractRegistry,
    private readonly reads: DriftReads,
    private readonly alerts: Pick<AlertStore, 'listAlerts'>,
    private readonly baselines: Pick<BaselineStore, 'get'>,
    private readonly sink: DriftSink,
  ) {}

  /**
   * `model` is the use case's model as it describes itself (an AnomalyModel is one); without it,
   * or without its training profile, the data-drift check is skipped.
   */
  async run(manifest: UseCaseManifest, model: DescribedModel | undefined, now: number): Promise<DriftReport> {
    const from = now - manifest.drift.windowMinutes * MINUTE_MS;
    const contract = this.contracts.get(manifest.contract);
    const run: RunContext = {
      manifest,
      model,
      contract,
      sensors: sensorSpecs(manifest, contract),
      from,
      now,
      make: (partial) => ({ useCase: manifest.id, from, to: now, at: now, ...partial }),
    };
    const findings: Finding[] = [];
    const receipts: DataReceipt[] = [];
    const fleet: InferenceSample[] = [];
    const devices = await this.reads.devices(manifest.id, { from, to: now });
    for (const deviceId of devices) {
      const device = await this.checkDevice(run, deviceId);
      findings.push(...device.findings);
      receipts.push(...device.receipts);
      fleet.push(...(await this.reads.inferences(manifest.id, deviceId, { from, to: now })));
    }
    findings.push(...(await modelFindings(manifest, model, fleet, this.alerts, run.make, now)));
    const report: DriftReport = {
      useCase: manifest.id,
      from,
      to: now,
      at: now,
      devices: devices.length,
      findings,
      receipts,
    };
    await this.sink.record(report);
    return report;
  }

  /** One device over the window: its data-loss receipts and what its readings and reports show. */
  private async checkDevice(
    run: RunContext,
    deviceId: string,
  ): Promise<{ findings: Finding[]; receipts: DataReceipt[] }> {
    const { manifest, from, now, make } = run;
    const policy = manifest.drift;
    const windowMs = now - from;
    // The window before this one is the reference for the noise check.
    const readings = await this.reads.readings(
      manifest.id,
      deviceId,
      { from: from - windowMs, to: now },
      MAX_READINGS,
    );
    const recent = readings.filter((r) => r.time >= from);
    const earlier = readings.filter((r) => r.time < from);
    // Receipts cover whole hours: from the start of the window's first hour (read with the reference window).
    const receiptsFrom = Math.max(Math.floor(from / HOUR_MS) * HOUR_MS, from - windowMs);
    const hourly = countGaps(
      readings.filter((r) => r.time >= receiptsFrom).map((r) => ({ time: r.time, seq: r.seq })),
    );
    const health = await this.reads.healthReports(manifest.id, deviceId, { from, to: now });
    const baseline = (await this.baselines.get(manifest.id, deviceId))?.active?.baseline;
    return {
      receipts: hourly.perHour.map((h) => ({ useCase: manifest.id, deviceId, ...h })),
      findings: [
        ...gapFindings(policy, recent, make, deviceId),
        ...sensorFindings(policy, run.sensors, recent, earlier, make, deviceId),
        ...healthFindings(policy, health, make, deviceId),
        ...dataDriftFindings(policy, run.model, baseline, run.contract, recent, make, deviceId),
      ],
    };
  }
}
