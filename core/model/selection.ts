import {
  anomalyModelParamsSchema,
  fitNormal,
  scoreAgainst,
  scoreReadings,
  trainAnomalyModel,
  type AnomalyModel,
  type AnomalyModelParams,
  type ScoredReading,
  type SensorTable,
} from './anomaly-model.ts';
import { calibrateBaseline, scoreWithBaseline } from './device-baseline.ts';
import type { ModelSelection } from './selection-schema.ts';

/**
 * Chooses a use case's model settings from its own data instead of one set for every asset: each
 * candidate is fitted on the training data and checked on data the fit did not see (normal running
 * of other devices and another week, and each declared fault), and the one that catches the most
 * faults while keeping normal running quiet wins. What was tried and why the winner won is kept in
 * the model (its card), so a reviewer can read the choice.
 */

/** Settings the selection may choose; a use case that sets one in its manifest keeps its own. */
export const SELECTABLE = [
  'slowSensorRatio',
  'covarianceShrinkage',
  'thresholdQuantile',
  'thresholdFactor',
] as const;
type Selectable = (typeof SELECTABLE)[number];

/** Defaults first: on a tie the default stays. */
const GRID: { readonly [K in Selectable]: readonly number[] } = {
  // 0 scores every signal: slow ones too, against a normal learnt over their whole cycle.
  slowSensorRatio: [0.5, 0],
  // Less shrinkage keeps the ties between signals sharp, when the training data is long enough.
  covarianceShrinkage: [0.1, 0.01],
  // A higher anchor for use cases with rare normal states (a daily start-up) in the top percent.
  thresholdQuantile: [0.99, 0.999],
  thresholdFactor: [1.5, 1.25, 2, 3],
};

/** Normal running may have at most this share of readings flagged, */
export const MAX_NORMAL_FLAGGED = 0.005;
/** and at most this many flagged episodes a device a week (what would page someone). */
export const MAX_NORMAL_EPISODES_PER_DEVICE_WEEK = 1;
/**
 * A fault counts as caught when at least this share of its readings is flagged, from an hour after
 * onset. Above the 50 % a use case is held to (bench:faults), for the devices the checks did not see.
 */
export const MIN_CAUGHT = 0.8;
/** The share a use case is held to (bench:faults): what a warning is about, and the next best thing when the bar is out of reach. */
export const CAUGHT_GOAL = 0.5;

type Candidate = ModelSelection['candidates'][number];

export interface DeclaredFaultData {
  readonly id: string;
  /** The measures the fault changes directly. */
  readonly touches: readonly string[];
  /** Readings of devices with the fault, each starting in normal running. */
  readonly tables: readonly SensorTable[];
  /** Per table, the first row counted as faulted (an hour after onset). */
  readonly from: readonly number[];
}

export interface SelectionData {
  readonly source: string;
  readonly training: SensorTable;
  /** Normal running the fit does not see. */
  readonly normal: readonly SensorTable[];
  readonly faults: readonly DeclaredFaultData[];
}

const share = (flagged: number, of: number) => (of === 0 ? 0 : flagged / of);

/** Every combination of the grid's values for the keys not pinned. */
function combinations(pinned: ReadonlySet<string>): Partial<Record<Selectable, number>>[] {
  let result: Partial<Record<Selectable, number>>[] = [{}];
  for (const key of SELECTABLE) {
    if (pinned.has(key)) continue;
    result = result.flatMap((partial) => GRID[key].map((value) => ({ ...partial, [key]: value })));
  }
  return result;
}

/** Smoothed scores of warm readings, against a fit whose threshold is the bare anchor. */
function scoresOf(fit: ReturnType<typeof fitNormal>, window: number, table: SensorTable, from = 0): number[] {
  return scoreAgainst(fit, window, table, 'the candidate')
    .map((scored, i) => (scored.warm && i >= Math.max(from, window - 1) ? scored.score : Number.NaN))
    .filter((score) => !Number.isNaN(score));
}

const WEEK_SECONDS = 7 * 24 * 3600;

/**
 * Stretches of flagged readings, two closer than `gap` readings counting as one: what would page
 * someone, where the share of flagged readings does not tell one long episode from many short ones.
 */
function episodes(scores: readonly number[], line: number, gap: number): number {
  let count = 0;
  let quiet = Number.POSITIVE_INFINITY;
  for (const score of scores) {
    if (score > line) {
      if (quiet >= gap) count += 1;
      quiet = 0;
    } else quiet += 1;
  }
  return count;
}

/** Fits once per fitting setting; threshold factors only move the line, so they reuse the scores. */
function evaluate(data: SelectionData, base: AnomalyModelParams, pinned: ReadonlySet<string>): Candidate[] {
  const byFit = new Map<string, Partial<Record<Selectable, number>>[]>();
  for (const combination of combinations(pinned)) {
    const { thresholdFactor: _factor, ...fitting } = combination;
    const key = JSON.stringify(fitting);
    byFit.set(key, [...(byFit.get(key) ?? []), combination]);
  }
  const candidates: Candidate[] = [];
  for (const group of byFit.values()) {
    const params = anomalyModelParamsSchema.parse({ ...base, ...group[0] });
    let fit: ReturnType<typeof fitNormal>;
    try {
      fit = fitNormal(data.training, params, 1);
    } catch (error) {
      // No sensor left to score with these settings: not a candidate. Anything else is a fault.
      if (error instanceof Error && error.message.startsWith('no sensor can be scored')) continue;
      throw error;
    }
    const perDevice = data.normal.map((table) => scoresOf(fit, params.smoothingWindow, table));
    const normal = perDevice.flat();
    const deviceWeeks = (normal.length * params.samplingSeconds) / WEEK_SECONDS;
    const faults = data.faults.map((fault) => ({
      id: fault.id,
      scores: fault.tables.flatMap((table, i) => scoresOf(fit, params.smoothingWindow, table, fault.from[i])),
    }));
    for (const combination of group) {
      const line = fit.threshold * (combination.thresholdFactor ?? base.thresholdFactor);
      candidates.push({
        params: { ...combination },
        tracked: fit.tracked.map((t) => t.sensor),
        normalFlaggedShare: share(normal.filter((score) => score > line).length, normal.length),
        normalEpisodesPerDeviceWeek:
          deviceWeeks > 0
            ? perDevice.reduce((sum, scores) => sum + episodes(scores, line, params.smoothingWindow), 0) /
              deviceWeeks
            : 0,
        caught: Object.fromEntries(
          faults.map((fault) => [
            fault.id,
            share(fault.scores.filter((score) => score > line).length, fault.scores.length),
          ]),
        ),
      });
    }
  }
  return candidates;
}

const caughtCount = (candidate: Candidate, bar: number) =>
  Object.values(candidate.caught).filter((value) => value >= bar).length;

/**
 * The order of preference: normal running quiet enough, then the most faults caught (above the
 * bar, then above the goal), the most
 * signals scored, the fewest flagged episodes and normal readings (the widest margin that still
 * catches them: operators stop reading a noisy console). Earlier candidates (the defaults) win ties.
 */
function better(a: Candidate, b: Candidate): number {
  const quiet = (c: Candidate) =>
    c.normalFlaggedShare <= MAX_NORMAL_FLAGGED &&
    c.normalEpisodesPerDeviceWeek <= MAX_NORMAL_EPISODES_PER_DEVICE_WEEK
      ? 1
      : 0;
  return (
    quiet(b) - quiet(a) ||
    caughtCount(b, MIN_CAUGHT) - caughtCount(a, MIN_CAUGHT) ||
    caughtCount(b, CAUGHT_GOAL) - caughtCount(a, CAUGHT_GOAL) ||
    b.tracked.length - a.tracked.length ||
    a.normalEpisodesPerDeviceWeek - b.normalEpisodesPerDeviceWeek ||
    a.normalFlaggedShare - b.normalFlaggedShare
  );
}

/** What a use case's author should hear about faults a model misses. */
export interface FaultOutcome {
  readonly id: string;
  /** The measures it changes directly; empty when unknown. */
  readonly touches: readonly string[];
  /** Share of its readings flagged from an hour after onset. */
  readonly caught: number;
}

/**
 * Warnings for faults caught in less than `wanted` of their readings: whether the model cannot
 * see them at all (they change only signals it does not score) or sees them too faintly.
 */
export function faultWarnings(
  faults: readonly FaultOutcome[],
  tracked: readonly string[],
  wanted: number,
): string[] {
  return faults
    .filter((fault) => fault.caught < wanted)
    .map((fault) => {
      const unseen = fault.touches.length > 0 && fault.touches.every((measure) => !tracked.includes(measure));
      return unseen
        ? `fault "${fault.id}" changes only ${fault.touches.join(', ')}, which the model does not score`
        : `fault "${fault.id}" is caught in only ${(100 * fault.caught).toFixed(0)}% of its readings from an hour after onset (at least ${(100 * wanted).toFixed(0)}% wanted)`;
    });
}

function warningsOf(best: Candidate, data: SelectionData): string[] {
  const warnings: string[] = [];
  if (
    best.normalFlaggedShare > MAX_NORMAL_FLAGGED ||
    best.normalEpisodesPerDeviceWeek > MAX_NORMAL_EPISODES_PER_DEVICE_WEEK
  )
    warnings.push(
      `no setting keeps normal running quiet: the best flags ${(100 * best.normalFlaggedShare).toFixed(1)}% of normal readings in ${best.normalEpisodesPerDeviceWeek.toFixed(1)} episodes a device a week (at most ${100 * MAX_NORMAL_FLAGGED}% and ${MAX_NORMAL_EPISODES_PER_DEVICE_WEEK} wanted); check the simulation's normal cycles`,
    );
  const outcomes = data.faults.map((fault) => ({ ...fault, caught: best.caught[fault.id] ?? 0 }));
  return [...warnings, ...faultWarnings(outcomes, best.tracked, CAUGHT_GOAL)];
}

/**
 * Picks the settings of `SELECTABLE` the use case did not pin (`pinned`) from its data. `base` is
 * the use case's own settings, defaults applied.
 */
export function selectParams(
  data: SelectionData,
  base: AnomalyModelParams,
  pinned: ReadonlySet<string>,
): ModelSelection {
  const candidates = evaluate(data, base, pinned);
  if (candidates.length === 0)
    throw new Error('no setting leaves a sensor to score: every sensor is constant in the training data');
  const ranked = candidates
    .map((candidate, order) => ({ candidate, order }))
    .sort((a, b) => better(a.candidate, b.candidate) || a.order - b.order)
    .map(({ candidate }) => candidate);
  const best = ranked[0] as Candidate;
  return {
    source: data.source,
    maxNormalFlaggedShare: MAX_NORMAL_FLAGGED,
    minCaughtShare: MIN_CAUGHT,
    chosen: best.params,
    pinned: SELECTABLE.filter((key) => pinned.has(key)),
    candidates: ranked,
    warnings: warningsOf(best, data),
  };
}

const flaggedShare = (scored: readonly ScoredReading[]) => {
  const warm = scored.filter((result) => result.warm);
  return share(warm.filter((result) => result.anomalous).length, warm.length);
};

/** Calibrations tried per check device, spread over its recording: devices start at any hour. */
const CALIBRATIONS_PER_DEVICE = 8;
/** How long after each calibration is scored: the first day, where a short calibration shows. */
const BASELINE_HORIZON_SECONDS = 24 * 3600;

/**
 * Decides whether a trained model's devices get baselines of their own: each check device is
 * calibrated, at several times of its recording, on `calibrationRows` readings and scored through
 * the day after as the runtime does. Baselines stay when they keep normal running quiet, or no
 * louder than the fleet's normal; otherwise (cycles longer than a calibration) every device is
 * scored against the fleet's normal.
 */
export function chooseDeviceBaselines(
  model: AnomalyModel,
  normal: readonly SensorTable[],
): NonNullable<ModelSelection['deviceBaselines']> {
  const { calibrationRows, samplingSeconds, smoothingWindow } = model.params;
  const horizon = Math.ceil(BASELINE_HORIZON_SECONDS / samplingSeconds);
  const withBaselines = { ...model, params: { ...model.params, deviceBaselines: true } };
  const own: ScoredReading[] = [];
  const fleet: ScoredReading[] = [];
  for (const table of normal) {
    const room = table.rows.length - calibrationRows - smoothingWindow;
    if (room <= 0) continue;
    for (let k = 0; k < CALIBRATIONS_PER_DEVICE; k++) {
      const start = Math.floor((k * room) / CALIBRATIONS_PER_DEVICE);
      const rows = (from: number, to: number) => ({
        sensors: table.sensors,
        rows: table.rows.slice(from, to),
      });
      const baseline = calibrateBaseline(withBaselines, rows(start, start + calibrationRows));
      const after = rows(start + calibrationRows, start + calibrationRows + horizon);
      const ages = after.rows.map((_, i) => (i + 1) * samplingSeconds);
      own.push(...scoreWithBaseline(withBaselines, baseline, after, ages));
      fleet.push(...scoreReadings(model, after));
    }
  }
  const normalFlaggedShare = flaggedShare(own);
  const fleetNormalFlaggedShare = flaggedShare(fleet);
  return {
    used: normalFlaggedShare <= MAX_NORMAL_FLAGGED || normalFlaggedShare <= fleetNormalFlaggedShare,
    normalFlaggedShare,
    fleetNormalFlaggedShare,
  };
}

/**
 * Chooses the settings on `data`, trains on `training` with them (every recording, the held-out
 * ones too where the caller has them), then decides device baselines on the checks' normal
 * running. The choice is kept in the model, its card.
 */
export function trainWithSelection(input: {
  readonly data: SelectionData;
  readonly training: SensorTable;
  readonly segments: readonly number[];
  readonly base: AnomalyModelParams;
  readonly pinned: ReadonlySet<string>;
  readonly modelVersion: string;
}): AnomalyModel {
  const selection = selectParams(input.data, input.base, input.pinned);
  const model = trainAnomalyModel(input.training, {
    modelVersion: input.modelVersion,
    params: { ...input.base, ...selection.chosen },
    segments: input.segments,
  });
  const deviceBaselines = chooseDeviceBaselines(model, input.data.normal);
  return {
    ...model,
    params: { ...model.params, deviceBaselines: deviceBaselines.used },
    selection: {
      ...selection,
      chosen: { ...selection.chosen, deviceBaselines: deviceBaselines.used },
      deviceBaselines,
    },
  };
}
