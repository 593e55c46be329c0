import { fitBaselineModel, predict, type BaselineModel } from './change-point.ts';
import {
  defaultFitLimits,
  disqualification,
  fitStatistics,
  fractionalSavingsUncertainty,
  type FitLimits,
  type FitStatistics,
  type MvInterval,
} from './fit-statistics.ts';
import type { TimedPoint } from './intervals.ts';

/**
 * Savings against a baseline, as IPMVP and ASHRAE Guideline 14 define them: a model fitted on the
 * baseline period, judged against the limits, predicts each reporting interval from its measured
 * conditions; savings are that prediction minus what was measured, with their fractional
 * uncertainty at 68% and 90% confidence.
 */

/** Baseline points a model needs beyond its parameters before it is fitted at all. */
export const MIN_SPARE_POINTS = 5;

/** A baseline interval as measured and as the model fits it. */
export interface FittedInterval {
  readonly from: number;
  readonly measured: number;
  readonly predicted: number;
}

export interface ReportingInterval {
  readonly from: number;
  readonly measured: number;
  readonly predicted: number;
  readonly savings: number;
  /** Savings from the start of reporting to the end of this interval. */
  readonly cumulative: number;
}

export interface SavingsTotals {
  readonly measured: number;
  readonly predicted: number;
  readonly savings: number;
  /** Savings over the prediction (the baseline adjusted to the reporting conditions), percent. */
  readonly savingsPct: number;
  /** Fractional savings uncertainty at 68% and 90% confidence, percent of the savings. */
  readonly uncertainty68Pct: number;
  readonly uncertainty90Pct: number;
}

export type MvOutcome =
  | { readonly status: 'too little data'; readonly reasons: readonly string[] }
  | {
      readonly status: 'refused';
      readonly reasons: readonly string[];
      readonly model: BaselineModel | undefined;
      readonly fit: FitStatistics | undefined;
    }
  | {
      readonly status: 'qualified';
      readonly model: BaselineModel;
      readonly fit: FitStatistics;
      /** The baseline's own fitted values, for the plot of measured against the model. */
      readonly fitted: readonly FittedInterval[];
      readonly reporting: readonly ReportingInterval[];
      /** Null before the first reporting interval. */
      readonly totals: SavingsTotals | null;
    };

export interface MvModelSpec {
  readonly interval: MvInterval;
  readonly form: BaselineModel['form'];
  readonly variables: readonly string[];
  readonly changePointOn?: string | undefined;
  readonly limits?: FitLimits | undefined;
}

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

/** Savings of the reporting points against the baseline points' model, or why there are none. */
export function measureSavings(
  spec: MvModelSpec,
  baseline: readonly TimedPoint[],
  reportingPoints: readonly TimedPoint[],
): MvOutcome {
  const limits = spec.limits ?? defaultFitLimits(spec.interval);
  const extra = { linear: 1, proportional: 0, 'change-point': 4 } as Partial<Record<string, number>>;
  const needed = spec.variables.length + (extra[spec.form] ?? 3);
  if (baseline.length < needed + MIN_SPARE_POINTS)
    return {
      status: 'too little data',
      reasons: [
        `the baseline has ${baseline.length} ${spec.interval}s of full data; a ${spec.form} model of ${spec.variables.length} variables needs ${needed + MIN_SPARE_POINTS}`,
      ],
    };
  let model: BaselineModel;
  try {
    model = fitBaselineModel(baseline, spec.form, spec.variables, spec.changePointOn);
  } catch (error) {
    return { status: 'refused', reasons: [(error as Error).message], model: undefined, fit: undefined };
  }
  const fitted = baseline.map((point) => ({
    from: point.from,
    measured: point.y,
    predicted: predict(model, point),
  }));
  const fit = fitStatistics(
    fitted.map((point) => point.measured),
    fitted.map((point) => point.predicted),
    model.parameters,
  );
  const reasons = disqualification(fit, limits);
  if (reasons.length > 0) return { status: 'refused', reasons, model, fit };
  let cumulative = 0;
  const reporting = reportingPoints.map((point) => {
    const predicted = predict(model, point);
    cumulative += predicted - point.y;
    return { from: point.from, measured: point.y, predicted, savings: predicted - point.y, cumulative };
  });
  return {
    status: 'qualified',
    model,
    fit,
    fitted,
    reporting,
    totals: savingsTotals(fit, spec.interval, reporting),
  };
}

/** The reporting period's totals with the savings' fractional uncertainty. */
export function savingsTotals(
  fit: FitStatistics,
  interval: MvInterval,
  reporting: readonly Pick<ReportingInterval, 'measured' | 'predicted'>[],
): SavingsTotals | null {
  if (reporting.length === 0) return null;
  const measured = sum(reporting.map((point) => point.measured));
  const predicted = sum(reporting.map((point) => point.predicted));
  const savings = predicted - measured;
  const fraction = predicted === 0 ? 0 : savings / predicted;
  const uncertainty = (confidence: number) =>
    fractionalSavingsUncertainty(fit, interval, reporting.length, fraction, confidence) * 100;
  return {
    measured,
    predicted,
    savings,
    savingsPct: fraction * 100,
    uncertainty68Pct: uncertainty(0.68),
    uncertainty90Pct: uncertainty(0.9),
  };
}
