import * as path from 'node:path';
import type { DataContract } from '../../core/contracts/contract.ts';
import type { AnomalyModel } from '../../core/model/anomaly-model.ts';
import {
  comparisonMetrics,
  fineTuneCandidate,
  type FineTuneOutcome,
} from '../../core/model/fine-tune-candidate.ts';
import { registerCandidate } from '../../core/model/registry.ts';
import type { DeviceRecording, FeedbackScore, LabelledStretch } from '../../core/model/retraining.ts';
import type { Actor } from '../../core/operators/actor.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { loadModel } from '../../model/invocations.ts';
import { FileAuditLog } from '../files/audit-log.ts';
import type { StoreQuery } from '../store/query-client.ts';
import { deviceRows, devicesIn, standingVerdicts } from '../store/store-reads.ts';
import { FileModelRegistry } from './model-registry.ts';

/**
 * A candidate model from a use case's recent readings and the operators' verdicts, compared with
 * the live model and registered as pending: what `aiot model retrain` does by hand and the
 * runtime does by itself after false positives (./fine-tuner.ts). A person approves it.
 */

/** Each device's readings since `since`, as the model's sensors, in time order. */
async function recentRecordings(
  query: StoreQuery,
  useCase: string,
  sensors: readonly string[],
  columns: readonly string[],
  since: number,
): Promise<DeviceRecording[]> {
  const recordings: DeviceRecording[] = [];
  for (const deviceId of await devicesIn(query, 'telemetry', useCase)) {
    const rows = await deviceRows(query, 'telemetry', useCase, deviceId, {
      columns: columns.join(', '),
      after: since - 1,
      where: columns.map((c) => `${c} IS NOT NULL`).join(' AND '),
    });
    if (rows.length === 0) continue;
    recordings.push({
      deviceId,
      times: rows.map((row) => Number(row.t)),
      table: { sensors: [...sensors], rows: rows.map((row) => columns.map((column) => Number(row[column]))) },
    });
  }
  return recordings;
}

/** The live model and the candidate side by side, as printed, and the figures behind it. */
export interface Comparison {
  readonly rows: Record<string, string>[];
  readonly now: FeedbackScore;
  readonly next: FeedbackScore;
}

export interface CandidateRun {
  readonly current: AnomalyModel;
  readonly candidate: AnomalyModel;
  readonly recordings: DeviceRecording[];
  readonly labels: LabelledStretch[];
  readonly normalReadings: number;
  /** Readings inside confirmed faults, left out of the training. */
  readonly excluded: number;
  readonly outcome: FineTuneOutcome;
  readonly comparison: Comparison;
}

/** Trains a candidate on the last `days` of normal readings and compares it with the live model on held-out verdicts. */
export async function trainCandidate(input: {
  readonly dataDir: string;
  readonly manifest: UseCaseManifest;
  readonly contract: DataContract;
  readonly query: StoreQuery;
  readonly days: number;
  readonly now: number;
}): Promise<CandidateRun> {
  const { manifest, contract } = input;
  const current = loadModel(path.join(input.dataDir, 'models', manifest.id));
  const columns = current.sensors.map((sensor) => contract.measures[sensor]?.column ?? sensor);
  const since = input.now - input.days * 24 * 3600_000;
  const recordings = await recentRecordings(input.query, manifest.id, current.sensors, columns, since);
  const labels = await standingVerdicts(input.query, manifest.id);
  if (recordings.length === 0)
    throw new Error(`no readings of ${manifest.id} in the last ${input.days} days`);
  const version = `${manifest.id}-candidate-${new Date(input.now).toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
  const outcome = fineTuneCandidate({ current, recordings, labels, modelVersion: version });
  return {
    current,
    candidate: outcome.candidate,
    recordings,
    labels,
    normalReadings: outcome.trainingRows,
    excluded: outcome.excluded,
    outcome,
    comparison: feedbackComparison(current, outcome),
  };
}

/** Both models on held-out verdicts: confirmed faults flagged, windows judged normal still flagged. */
function feedbackComparison(current: AnomalyModel, outcome: FineTuneOutcome): Comparison {
  const { live: now, next, candidate } = outcome;
  const rows: Record<string, string>[] = [
    { measure: 'model version', current: current.modelVersion, candidate: candidate.modelVersion },
    {
      measure: 'training readings',
      current: String(current.training.rows),
      candidate: String(outcome.trainingRows),
    },
    {
      measure: 'confirmed faults flagged',
      current: `${now.anomaliesFlagged} of ${now.anomalies}`,
      candidate: `${next.anomaliesFlagged} of ${next.anomalies}`,
    },
    {
      measure: 'readings flagged in held-out windows judged normal',
      current: `${(100 * now.normalFlaggedShare).toFixed(1)}% of ${now.normalReadings}`,
      candidate: `${(100 * next.normalFlaggedShare).toFixed(1)}% of ${next.normalReadings}`,
    },
  ];
  return { rows, now, next };
}

/** Keeps the candidate and registers it as pending, with its card and the comparison, on the audit trail. */
export async function registerPending(
  dataDir: string,
  manifest: UseCaseManifest,
  run: CandidateRun,
  who: { readonly actor: Actor; readonly reason?: string; readonly days: number; readonly now: number },
): Promise<void> {
  const { candidate, comparison } = run;
  const registry = FileModelRegistry.inDataDir(dataDir, manifest.id);
  registry.keepVersion(candidate);
  const metrics = comparisonMetrics(run.outcome, run.labels.length);
  const skabRow = comparison.rows.find((r) => r.measure?.startsWith('SKAB'));
  if (skabRow?.candidate) metrics.skabF1FarMar = skabRow.candidate;
  await registry.change((state) => {
    const { registry: registered, event } = registerCandidate(
      state,
      {
        version: candidate.modelVersion,
        trainedBy: who.actor,
        trainedAt: who.now,
        trainingData: `local store ${dataDir}: ${manifest.id}, ${run.recordings.length} devices, ${who.days} days to ${new Date(who.now).toISOString()}, ${run.normalReadings} normal readings`,
        parameters: { ...candidate.params },
        metrics,
        card: {
          intendedUse: `${manifest.name}: ${manifest.description}`,
          inputs: candidate.sensors,
          knownLimits: [
            `trained on ${who.days} days of readings of ${run.recordings.length} devices; failure modes absent from them are not learned`,
            'readings inside alerts operators confirmed are left out; false positives are kept as normal',
          ],
        },
      },
      who.reason,
    );
    return { registry: registered, events: [event] };
  }, FileAuditLog.inDataDir(dataDir));
}
