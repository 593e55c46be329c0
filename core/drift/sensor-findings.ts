import type { DataContract } from '../contracts/contract.ts';
import type { TelemetryRecord } from '../ingest/records.ts';
import type { UseCaseManifest } from '../usecase/manifest.ts';
import {
  clockSkewSeconds,
  countGaps,
  flatRun,
  noiseLevel,
  outOfRangeShare,
  spikeShares,
  type HealthSample,
} from './checks.ts';
import { percent, round, type MakeFinding } from './finding-text.ts';
import type { DriftPolicy } from './policy.ts';
import type { Finding } from './ports.ts';

const MINUTE_MS = 60_000;

export interface SensorSpec {
  readonly sensor: string;
  readonly column: string;
  readonly unit: string;
  readonly range: { readonly min: number; readonly max: number };
}

/** The readings of one column that have it, oldest first as the records are. */
export function pointsOf(
  records: readonly TelemetryRecord[],
  column: string,
): { time: number; value: number }[] {
  return records.flatMap((r) => {
    const value = r.measures[column];
    return value === undefined ? [] : [{ time: r.time, value }];
  });
}

export function sensorSpecs(manifest: UseCaseManifest, contract: DataContract): SensorSpec[] {
  return manifest.sensors.flatMap((s) => {
    const sensor = s.field.replace(/^measures\./, '');
    const spec = contract.measures[sensor];
    return spec ? [{ sensor, column: spec.column, unit: s.unit, range: s.range }] : [];
  });
}

/** Readings lost between device and store, from the devices' sequence numbers. */
export function gapFindings(
  policy: DriftPolicy,
  recent: readonly TelemetryRecord[],
  make: MakeFinding,
  deviceId: string,
): Finding[] {
  const gaps = countGaps(recent.map((r) => ({ time: r.time, seq: r.seq })));
  const missingShare = gaps.missing / Math.max(1, gaps.received + gaps.missing);
  if (missingShare <= policy.gaps.maxMissingShare) return [];
  return [
    make({
      deviceId,
      modelVersion: null,
      check: 'data-gaps',
      sensor: null,
      figure: round(missingShare),
      threshold: policy.gaps.maxMissingShare,
      unit: 'share',
      summary: `${gaps.missing} readings missing of ${gaps.received + gaps.missing} numbered (${percent(missingShare)})`,
      action:
        "check the device's link and its edge agent's disk queue (dropped, corrupt); the readings were lost between device and store",
    }),
  ];
}

/** What the device's own health reports say: spikes its edge filter flagged, and its clock. */
export function healthFindings(
  policy: DriftPolicy,
  health: readonly HealthSample[],
  make: MakeFinding,
  deviceId: string,
): Finding[] {
  const findings: Finding[] = [];
  const device = { deviceId, modelVersion: null };
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
  return findings;
}

/** Each sensor's health over the window: stuck, out of its operating range, noisier or quieter than before. */
export function sensorFindings(
  policy: DriftPolicy,
  sensors: readonly SensorSpec[],
  recent: readonly TelemetryRecord[],
  earlier: readonly TelemetryRecord[],
  make: MakeFinding,
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
