import type { AlertStore } from '../alerts/ports.ts';
import type { BaselineStore } from '../baseline/ports.ts';
import type { DataContract } from '../contracts/contract.ts';
import type { ContractRegistry } from '../contracts/registry.ts';
import type { TelemetryRecord } from '../ingest/records.ts';
import type { DeviceBaseline } from '../model/device-baseline.ts';
import type { UseCaseManifest } from '../usecase/manifest.ts';
import {
  clockSkewSeconds,
  countGaps,
  flatRun,
  noiseLevel,
  outOfRangeShare,
  percentile,
  spikeShares,
} from './checks.ts';
import type { DriftPolicy } from './policy.ts';
import type { DataReceipt, DriftReads, DriftReport, DriftSink, Finding, InferenceSample } from './ports.ts';
import { outsideTrainingShare, populationStabilityIndex, type ModelDescription } from './profile.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3600_000;
const DAY_MS = 24 * 3600_000;
/** Readings read per device and run: two windows of a 10 Hz device for an hour. */
const MAX_READINGS = 72_000;
/** Fewer scored readings than this say nothing about an anomaly rate. */
const MIN_SCORED = 100;
/** Fewer readings than this in a window say nothing about a distribution. */
const MIN_DRIFT_READINGS = 100;
/**
 * A device without a baseline drifts on an input only when this share of its readings lies beyond
 * anything the training data held: one device of a fleet is a narrow slice of the fleet's training
 * distribution, which is not drift.
 */
const MIN_OUTSIDE_SHARE = 0.05;

interface SensorSpec {
  readonly sensor: string;
  readonly column: string;
  readonly unit: string;
  readonly range: { readonly min: number; readonly max: number };
}

const round = (value: number, digits = 4) => Math.round(value * 10 ** digits) / 10 ** digits;
const percent = (share: number) => `${round(share * 100, 2)}%`;

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
  async run(
    manifest: UseCaseManifest,
    model:
      | (Pick<ModelDescription, 'modelVersion' | 'tracked'> & {
          readonly profile?: ModelDescription['profile'] | undefined;
        })
      | undefined,
    now: number,
  ): Promise<DriftReport> {
    const policy = manifest.drift;
    const windowMs = policy.windowMinutes * MINUTE_MS;
    const from = now - windowMs;
    const contract = this.contracts.get(manifest.contract);
    const sensors = sensorSpecs(manifest, contract);
    const findings: Finding[] = [];
    const receipts: DataReceipt[] = [];
    const fleet: InferenceSample[] = [];
    const make = (partial: Omit<Finding, 'useCase' | 'from' | 'to' | 'at'>): Finding => ({
      useCase: manifest.id,
      from,
      to: now,
      at: now,
      ...partial,
    });

    const devices = await this.reads.devices(manifest.id, { from, to: now });
    for (const deviceId of devices) {
      // The window before this one is the reference for the noise check.
      const readings = await this.reads.readings(
        manifest.id,
        deviceId,
        { from: from - windowMs, to: now },
        MAX_READINGS,
      );
      const recent = readings.filter((r) => r.time >= from);
      const earlier = readings.filter((r) => r.time < from);
      const device = { deviceId, modelVersion: null };

      const gaps = countGaps(recent.map((r) => ({ time: r.time, seq: r.seq })));
      // Receipts cover whole hours: from the start of the window's first hour (read with the reference window).
      const receiptsFrom = Math.max(Math.floor(from / HOUR_MS) * HOUR_MS, from - windowMs);
      const hourly = countGaps(
        readings.filter((r) => r.time >= receiptsFrom).map((r) => ({ time: r.time, seq: r.seq })),
      );
      receipts.push(...hourly.perHour.map((h) => ({ useCase: manifest.id, deviceId, ...h })));
      const missingShare = gaps.missing / Math.max(1, gaps.received + gaps.missing);
      if (missingShare > policy.gaps.maxMissingShare) {
        findings.push(
          make({
            ...device,
            check: 'data-gaps',
            sensor: null,
            figure: round(missingShare),
            threshold: policy.gaps.maxMissingShare,
            unit: 'share',
            summary: `${gaps.missing} readings missing of ${gaps.received + gaps.missing} numbered (${percent(missingShare)})`,
            action:
              "check the device's link and its edge agent's disk queue (dropped, corrupt); the readings were lost between device and store",
          }),
        );
      }

      findings.push(...this.sensorFindings(policy, sensors, recent, earlier, make, deviceId));

      const health = await this.reads.healthReports(manifest.id, deviceId, { from, to: now });
      for (const [field, share] of Object.entries(spikeShares(health))) {
        if (share <= policy.spikes.maxShare) continue;
        findings.push(
          make({
            ...device,
            check: 'spikes',
            sensor: field.replace(/^measures\./, ''),
            figure: round(share),
            threshold: policy.spikes.maxShare,
            unit: 'share',
            summary: `the edge spike filter flagged ${percent(share)} of ${field}`,
            action:
              'check the transducer and its wiring: isolated spikes this often are a sensor or electrical fault',
          }),
        );
      }
      const skew = clockSkewSeconds(health);
      if (skew !== undefined && Math.abs(skew) > policy.clockSkew.maxSeconds) {
        findings.push(
          make({
            ...device,
            check: 'clock-skew',
            sensor: null,
            figure: round(skew, 1),
            threshold: policy.clockSkew.maxSeconds,
            unit: 'seconds',
            summary: `the device clock is ${Math.abs(round(skew, 1))} s ${skew > 0 ? 'behind' : 'ahead of'} arrival`,
            action: "set up time synchronisation (NTP) on the device: readings' times are its clock's",
          }),
        );
      }

      const baseline = (await this.baselines.get(manifest.id, deviceId))?.active?.baseline;
      const drift = model ? dataDrift(model, baseline, contract, recent, policy) : undefined;
      if (drift && drift.drifted.length / drift.evaluated >= policy.dataDrift.maxDriftedShare) {
        findings.push(
          make({
            deviceId,
            modelVersion: model?.modelVersion ?? null,
            check: 'data-drift',
            sensor: null,
            figure: round(drift.drifted.length / drift.evaluated),
            threshold: policy.dataDrift.maxDriftedShare,
            unit: 'share of features',
            summary: `${drift.drifted.length} of ${drift.evaluated} model inputs left the training distribution: ${drift.drifted
              .map((d) => `${d.sensor} PSI ${round(d.psi, 2)}`)
              .join(', ')}`,
            action:
              'if the device was repaired or its duty changed, re-baseline it; if the process changed for good, retrain the model on recent data',
          }),
        );
      }
      fleet.push(...(await this.reads.inferences(manifest.id, deviceId, { from, to: now })));
    }

    findings.push(...(await this.modelFindings(manifest, model, fleet, make, now)));
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

  private sensorFindings(
    policy: DriftPolicy,
    sensors: readonly SensorSpec[],
    recent: readonly TelemetryRecord[],
    earlier: readonly TelemetryRecord[],
    make: (partial: Omit<Finding, 'useCase' | 'from' | 'to' | 'at'>) => Finding,
    deviceId: string,
  ): Finding[] {
    const findings: Finding[] = [];
    const device = { deviceId, modelVersion: null };
    for (const spec of sensors) {
      const points = pointsOf(recent, spec.column);
      if (points.length === 0) continue;
      const flat = policy.flatLine.ignore.includes(`measures.${spec.sensor}`) ? undefined : flatRun(points);
      const flatMinutes = (flat?.ms ?? 0) / MINUTE_MS;
      if (flat && flatMinutes >= policy.flatLine.minutes) {
        findings.push(
          make({
            ...device,
            check: 'flat-line',
            sensor: spec.sensor,
            figure: round(flatMinutes, 1),
            threshold: policy.flatLine.minutes,
            unit: 'minutes',
            summary: `${spec.sensor} has read exactly ${flat.value} ${spec.unit} for ${round(flatMinutes, 1)} min`,
            action:
              'check the sensor: a live signal never holds the same value this long (stuck, disconnected, frozen input)',
          }),
        );
        continue;
      }
      const values = points.map((p) => p.value);
      const outside = outOfRangeShare(values, spec.range);
      if (outside > policy.outOfRange.maxShare) {
        findings.push(
          make({
            ...device,
            check: 'out-of-range',
            sensor: spec.sensor,
            figure: round(outside),
            threshold: policy.outOfRange.maxShare,
            unit: 'share',
            summary: `${percent(outside)} of ${spec.sensor} readings outside the operating range ${spec.range.min} to ${spec.range.max} ${spec.unit}`,
            action:
              'check the sensor and its calibration, or the process: the readings are stored, the manifest says they should not happen',
          }),
        );
      }
      const noise = noiseLevel(values);
      const noiseBefore = noiseLevel(pointsOf(earlier, spec.column).map((p) => p.value));
      if (noise !== undefined && noiseBefore !== undefined && noiseBefore > 0) {
        const ratio = noise / noiseBefore;
        if (ratio > policy.noise.maxRatio || ratio < 1 / policy.noise.maxRatio) {
          findings.push(
            make({
              ...device,
              check: 'noise-change',
              sensor: spec.sensor,
              figure: round(ratio, 2),
              threshold: ratio > 1 ? policy.noise.maxRatio : round(1 / policy.noise.maxRatio, 4),
              unit: 'ratio',
              summary: `${spec.sensor} is ${ratio > 1 ? `${round(ratio, 1)} times noisier` : `${round(1 / ratio, 1)} times quieter`} than in the window before`,
              action:
                ratio > 1
                  ? 'check the sensor, its wiring and grounding, and the machine (a loose mount, a failing bearing)'
                  : 'check the sensor: a signal that goes quiet is often frozen, saturated or filtered upstream',
            }),
          );
        }
      }
    }
    return findings;
  }

  private async modelFindings(
    manifest: UseCaseManifest,
    model: Pick<ModelDescription, 'modelVersion'> | undefined,
    samples: readonly InferenceSample[],
    make: (partial: Omit<Finding, 'useCase' | 'from' | 'to' | 'at'>) => Finding,
    now: number,
  ): Promise<Finding[]> {
    const policy = manifest.drift;
    const findings: Finding[] = [];
    const subject = { deviceId: null, sensor: null, modelVersion: model?.modelVersion ?? null };
    const scored = samples.filter((s) => s.status === 'scored');
    const monitored = scored.filter((s) => s.monitoring);
    if (monitored.length >= MIN_SCORED) {
      const rate = monitored.filter((s) => s.anomalous === true).length / monitored.length;
      const limit = policy.anomalyRate.expected * policy.anomalyRate.maxFactor;
      if (rate > limit) {
        findings.push(
          make({
            ...subject,
            check: 'anomaly-rate',
            figure: round(rate),
            threshold: limit,
            unit: 'share',
            summary: `${percent(rate)} of monitored readings scored anomalous across the fleet, expected about ${percent(policy.anomalyRate.expected)}`,
            action:
              'if the alerts are false, retrain the model with the operators’ verdicts; if they are real, the fleet has a common cause',
          }),
        );
      }
    }
    const p99 = percentile(
      scored.flatMap((s) => (s.latencyMs === null ? [] : [s.latencyMs])),
      0.99,
    );
    if (p99 !== undefined && p99 > policy.inference.p99Ms) {
      findings.push(
        make({
          ...subject,
          check: 'inference-latency',
          figure: round(p99, 1),
          threshold: policy.inference.p99Ms,
          unit: 'ms',
          summary: `inference p99 ${round(p99, 1)} ms over ${scored.length} scores`,
          action: 'scale the endpoint out (more instances, or a lower invocations-per-instance target)',
        }),
      );
    }
    if (samples.length > 0) {
      const skipped = (samples.length - scored.length) / samples.length;
      if (skipped > policy.inference.maxSkippedShare) {
        findings.push(
          make({
            ...subject,
            check: 'skipped-scores',
            figure: round(skipped),
            threshold: policy.inference.maxSkippedShare,
            unit: 'share',
            summary: `${percent(skipped)} of readings were stored without a score`,
            action:
              'check the endpoint: its health, errors and the scorer circuit breaker in the ingest logs',
          }),
        );
      }
    }
    const answered = (
      await this.alerts.listAlerts({
        useCase: manifest.id,
        since: now - policy.falsePositives.days * DAY_MS,
        limit: 1000,
      })
    ).filter((a) => a.verdict !== null);
    if (answered.length >= policy.falsePositives.minAnswered) {
      const share = answered.filter((a) => a.verdict?.kind === 'false-positive').length / answered.length;
      if (share > policy.falsePositives.maxShare) {
        findings.push(
          make({
            ...subject,
            check: 'false-positives',
            figure: round(share),
            threshold: policy.falsePositives.maxShare,
            unit: 'share',
            summary: `${percent(share)} of the ${answered.length} alerts answered in ${policy.falsePositives.days} days were false positives`,
            action:
              'retrain the model with the operators’ verdicts (aiot model retrain), or review the alert policy with aiot alerts replay',
          }),
        );
      }
    }
    return findings;
  }
}

/** The readings of one column that have it, oldest first as the records are. */
function pointsOf(records: readonly TelemetryRecord[], column: string): { time: number; value: number }[] {
  return records.flatMap((r) => {
    const value = r.measures[column];
    return value === undefined ? [] : [{ time: r.time, value }];
  });
}

function sensorSpecs(manifest: UseCaseManifest, contract: DataContract): SensorSpec[] {
  return manifest.sensors.flatMap((s) => {
    const sensor = s.field.replace(/^measures\./, '');
    const spec = contract.measures[sensor];
    return spec ? [{ sensor, column: spec.column, unit: s.unit, range: s.range }] : [];
  });
}

/**
 * Each scored model input's PSI over the window against the training profile, and which ones
 * drifted. A device with a calibrated baseline is compared with the training distribution moved
 * to its own level and spread: pumps of one fleet sit at different levels, which their baselines
 * absorb, so only a change of the distribution's shape or a move away from the calibration counts.
 * A device still calibrating is compared with the training distribution as it is, and an input
 * drifts only where the device goes beyond what the training data held.
 */
function dataDrift(
  model: Pick<ModelDescription, 'tracked'> & { readonly profile?: ModelDescription['profile'] | undefined },
  baseline: DeviceBaseline | undefined,
  contract: DataContract,
  recent: readonly TelemetryRecord[],
  policy: DriftPolicy,
): { evaluated: number; drifted: { sensor: string; psi: number }[] } | undefined {
  if (!model.profile) return undefined;
  const trained = new Map(model.tracked.map((t) => [t.sensor, t]));
  const calibrated = new Map(baseline?.tracked.map((t) => [t.sensor, t]) ?? []);
  const results = model.profile.flatMap((trainedProfile) => {
    const column = contract.measures[trainedProfile.sensor]?.column;
    const training = trained.get(trainedProfile.sensor);
    // Inputs the model leaves out of its score (too slow to have a level) cannot drift it.
    if (!column || !training) return [];
    const device = calibrated.get(trainedProfile.sensor);
    const profile = device
      ? {
          ...trainedProfile,
          edges: trainedProfile.edges.map(
            (e) => device.mean + ((e - training.mean) * device.scale) / training.scale,
          ),
        }
      : trainedProfile;
    const values = pointsOf(recent, column).map((p) => p.value);
    if (values.length < MIN_DRIFT_READINGS) return [];
    const psi = populationStabilityIndex(profile, values);
    const drifted =
      psi > policy.dataDrift.psi &&
      (device !== undefined || outsideTrainingShare(profile, values) >= MIN_OUTSIDE_SHARE);
    return [{ sensor: trainedProfile.sensor, psi, drifted }];
  });
  if (results.length === 0) return undefined;
  return { evaluated: results.length, drifted: results.filter((r) => r.drifted) };
}
