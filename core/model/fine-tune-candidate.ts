import { trainAnomalyModel, type AnomalyModel } from './anomaly-model.ts';
import {
  normalTrainingSet,
  scoreOnFeedback,
  type DeviceRecording,
  type FeedbackScore,
  type LabelledStretch,
} from './retraining.ts';

/**
 * A candidate from recent readings and operators' verdicts, and an honest comparison with the
 * live model: the same for `aiot model retrain`, the local runtime's fine-tuner and the SageMaker
 * training job (model/fine-tune-job.ts).
 *
 * The windows judged normal are what a candidate learns from, so scoring the candidate on them
 * would flatter it. Some are held out instead: a second model is trained without them and both it
 * and the live model (which never saw them) are scored there; confirmed faults are never learned
 * by either and always count. The registered candidate then learns from every normal reading.
 */
export interface FineTuneOutcome {
  readonly candidate: AnomalyModel;
  /** Readings the candidate learned from. */
  readonly trainingRows: number;
  /** Readings inside confirmed faults, left out of the training. */
  readonly excluded: number;
  /** The windows the comparison was scored on, none of them seen by the model it scored. */
  readonly heldOut: readonly LabelledStretch[];
  readonly live: FeedbackScore;
  /** The candidate's recipe trained without the held-out windows, scored on them. */
  readonly next: FeedbackScore;
}

/**
 * The normal verdict windows held out of the comparison's model: every second one in time order,
 * or the only one, so the figure is measured on answers the candidate did not learn from.
 */
export function heldOutNormal(labels: readonly LabelledStretch[]): LabelledStretch[] {
  const normal = labels.filter((l) => l.label === 'normal').sort((a, b) => a.from - b.from);
  if (normal.length <= 1) return normal;
  return normal.filter((_, i) => i % 2 === 1);
}

export function fineTuneCandidate(input: {
  readonly current: AnomalyModel;
  readonly recordings: readonly DeviceRecording[];
  readonly labels: readonly LabelledStretch[];
  readonly modelVersion: string;
}): FineTuneOutcome {
  const { current, recordings, labels } = input;
  if (recordings.length === 0) throw new Error('no readings to fine-tune on');
  const train = (set: ReturnType<typeof normalTrainingSet>, modelVersion: string) => {
    if (set.table.rows.length === 0)
      throw new Error('every reading lies inside a confirmed fault: no normal running to learn from');
    return trainAnomalyModel(set.table, { modelVersion, params: current.params, segments: set.segments });
  };
  const full = normalTrainingSet(recordings, labels);
  const candidate = train(full, input.modelVersion);
  const heldNormal = heldOutNormal(labels);
  // Held-out windows leave the comparison model's training as confirmed faults leave every training.
  const withoutHeld = normalTrainingSet(recordings, [
    ...labels,
    ...heldNormal.map((l) => ({ ...l, label: 'anomaly' as const })),
  ]);
  const comparisonModel =
    heldNormal.length === 0 ? candidate : train(withoutHeld, `${input.modelVersion}-held-out`);
  const heldOut = [...labels.filter((l) => l.label === 'anomaly'), ...heldNormal];
  return {
    candidate,
    trainingRows: full.table.rows.length,
    excluded: full.excluded,
    heldOut,
    live: scoreOnFeedback(current, recordings, heldOut),
    next: scoreOnFeedback(comparisonModel, recordings, heldOut),
  };
}

/** The comparison as the registry keeps it: plain figures, live beside candidate. */
export function comparisonMetrics(
  outcome: FineTuneOutcome,
  verdicts: number,
): Record<string, number | string> {
  const { live, next } = outcome;
  return {
    confirmedFaultsFlagged: `${next.anomaliesFlagged} of ${next.anomalies}`,
    liveConfirmedFaultsFlagged: `${live.anomaliesFlagged} of ${live.anomalies}`,
    normalFlaggedShare: next.normalFlaggedShare,
    liveNormalFlaggedShare: live.normalFlaggedShare,
    heldOutNormalReadings: next.normalReadings,
    verdicts,
  };
}
