import type { DataContract } from '../contracts/contract.ts';
import type { TelemetryRecord } from '../ingest/records.ts';
import type { DeviceBaseline } from '../model/device-baseline.ts';
import { round, type MakeFinding } from './finding-text.ts';
import type { DriftPolicy } from './policy.ts';
import type { Finding } from './ports.ts';
import { outsideTrainingShare, populationStabilityIndex, type ModelDescription } from './profile.ts';
import { pointsOf } from './sensor-findings.ts';

/** Fewer readings than this in a window say nothing about a distribution. */
const MIN_DRIFT_READINGS = 100;
/**
 * A device without a baseline drifts on an input only when this share of its readings lies beyond
 * anything the training data held: one device of a fleet is a narrow slice of the fleet's training
 * distribution, which is not drift.
 */
const MIN_OUTSIDE_SHARE = 0.05;

/** The model as it describes itself, with the training profile data drift is measured against. */
export type DescribedModel = Pick<ModelDescription, 'modelVersion' | 'tracked'> & {
  readonly profile?: ModelDescription['profile'] | undefined;
};

/**
 * Each scored model input's PSI over the window against the training profile, and which ones
 * drifted. A device with a calibrated baseline is compared with the training distribution moved
 * to its own level and spread: pumps of one fleet sit at different levels, which their baselines
 * absorb, so only a change of the distribution's shape or a move away from the calibration counts.
 * A device still calibrating is compared with the training distribution as it is, and an input
 * drifts only where the device goes beyond what the training data held.
 */
export function dataDrift(
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

/** A finding when enough of the device's model inputs left the training distribution. */
export function dataDriftFindings(
  policy: DriftPolicy,
  model: DescribedModel | undefined,
  baseline: DeviceBaseline | undefined,
  contract: DataContract,
  recent: readonly TelemetryRecord[],
  make: MakeFinding,
  deviceId: string,
): Finding[] {
  const drift = model ? dataDrift(model, baseline, contract, recent, policy) : undefined;
  if (!drift || drift.drifted.length / drift.evaluated < policy.dataDrift.maxDriftedShare) return [];
  return [
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
  ];
}
