import tQuantile from '@stdlib/stats-base-dists-t-quantile';

/**
 * The goodness-of-fit and uncertainty figures of measurement and verification (M&V), as ASHRAE
 * Guideline 14-2014 defines them: CV(RMSE) and NMBE with the model's degrees of freedom, R², the
 * lag-1 autocorrelation of the residuals, and the fractional savings uncertainty of its Annex B.
 */

/** How often a baseline model is evaluated: one point per hour, day, week or month. */
export type MvInterval = 'hour' | 'day' | 'week' | 'month';

export interface FitStatistics {
  /** Points the model was fitted on, and its parameters (a change point counts as one). */
  readonly n: number;
  readonly parameters: number;
  readonly meanMeasured: number;
  /** Σ (measured − predicted)²: the sum of squared errors. */
  readonly sse: number;
  /** Root mean squared error over the mean measured value, in percent. */
  readonly cvRmsePct: number;
  /** Net bias: Σ (measured − predicted) over (n − p) times the mean, in percent. */
  readonly nmbePct: number;
  readonly r2: number;
  /** Lag-1 autocorrelation of the residuals, in time order. */
  readonly autocorrelation: number;
}

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

/** CV(RMSE), NMBE, R² and residual autocorrelation of a fit (points in time order). */
export function fitStatistics(
  measured: readonly number[],
  predicted: readonly number[],
  parameters: number,
): FitStatistics {
  const n = measured.length;
  if (predicted.length !== n) throw new Error(`${n} measured values but ${predicted.length} predictions`);
  if (n <= parameters)
    throw new Error(`a model of ${parameters} parameters needs more than ${parameters} points, got ${n}`);
  const mean = sum(measured) / n;
  const residuals = measured.map((value, index) => value - (predicted[index] ?? 0));
  const sse = sum(residuals.map((residual) => residual ** 2));
  const sst = sum(measured.map((value) => (value - mean) ** 2));
  const dof = n - parameters;
  // An all-zero baseline (no downtime at all) has no relative error: say so as infinity.
  const relative = (value: number) => (mean === 0 ? Number.POSITIVE_INFINITY : (value / mean) * 100);
  return {
    n,
    parameters,
    meanMeasured: mean,
    sse,
    cvRmsePct: relative(Math.sqrt(sse / dof)),
    nmbePct: mean === 0 ? 0 : relative(sum(residuals) / dof),
    r2: sst === 0 ? 0 : 1 - sse / sst,
    autocorrelation: lag1Autocorrelation(residuals),
  };
}

/** The lag-1 correlation of a series with itself (0 for fewer than 3 points or no variation). */
export function lag1Autocorrelation(series: readonly number[]): number {
  if (series.length < 3) return 0;
  const head = series.slice(0, -1);
  const tail = series.slice(1);
  const meanHead = sum(head) / head.length;
  const meanTail = sum(tail) / tail.length;
  let covariance = 0;
  let varianceHead = 0;
  let varianceTail = 0;
  head.forEach((value, index) => {
    const a = value - meanHead;
    const b = (tail[index] ?? 0) - meanTail;
    covariance += a * b;
    varianceHead += a * a;
    varianceTail += b * b;
  });
  return varianceHead === 0 || varianceTail === 0 ? 0 : covariance / Math.sqrt(varianceHead * varianceTail);
}

/** The limits a baseline model must meet to be used (ASHRAE Guideline 14-2014, 4.3.2.4). */
export interface FitLimits {
  readonly cvRmsePct: number;
  readonly nmbePct: number;
}

/**
 * Guideline 14's limits: 15% CV(RMSE) and ±5% NMBE for monthly data, 30% and ±10% for hourly.
 * It sets none for days and weeks; these take the hourly limits, as most M&V tools do (a
 * manifest may set tighter ones).
 */
export function defaultFitLimits(interval: MvInterval): FitLimits {
  return interval === 'month' ? { cvRmsePct: 15, nmbePct: 5 } : { cvRmsePct: 30, nmbePct: 10 };
}

/** Why a fit may not serve as a baseline, or nothing when it qualifies. */
export function disqualification(fit: FitStatistics, limits: FitLimits): string[] {
  const reasons: string[] = [];
  if (!(fit.cvRmsePct <= limits.cvRmsePct))
    reasons.push(`CV(RMSE) ${formatPct(fit.cvRmsePct)} is above ${limits.cvRmsePct}%`);
  if (!(Math.abs(fit.nmbePct) <= limits.nmbePct))
    reasons.push(`NMBE ${formatPct(fit.nmbePct)} is outside ±${limits.nmbePct}%`);
  return reasons;
}

const formatPct = (value: number) => (Number.isFinite(value) ? `${value.toFixed(1)}%` : 'unbounded');

/**
 * Sun and Baltazar's empirical correction of the uncertainty formula for the interval and the
 * baseline's length, as Guideline 14-2014 Annex B gives it: 1.26 for hourly data; for daily and
 * monthly a quadratic in the baseline's months. Weeks take the daily fit on their months.
 */
export function uncertaintyCorrection(interval: MvInterval, baselinePoints: number): number {
  switch (interval) {
    case 'hour':
      return 1.26;
    case 'day':
    case 'week': {
      const months = (baselinePoints * (interval === 'week' ? 7 : 1)) / 30.4;
      return -0.00024 * months ** 2 + 0.03535 * months + 1.00286;
    }
    case 'month':
      return -0.00022 * baselinePoints ** 2 + 0.03306 * baselinePoints + 0.94054;
  }
}

/** Two-sided Student t value for a confidence (0.68, 0.9) and degrees of freedom. */
export function studentT(confidence: number, degreesOfFreedom: number): number {
  if (!(confidence > 0 && confidence < 1)) throw new Error(`confidence must be in (0, 1), got ${confidence}`);
  if (!(degreesOfFreedom > 0)) throw new Error(`degrees of freedom must be above 0, got ${degreesOfFreedom}`);
  return tQuantile(1 - (1 - confidence) / 2, degreesOfFreedom);
}

/**
 * ASHRAE Guideline 14-2014 Annex B: the uncertainty of savings as a fraction of the savings, at a
 * confidence, for `reportingPoints` points saving `savingsFraction` of the baseline's prediction:
 *
 *   ΔS/S = α · t · √(MSE · (1 + 2/n) · m) / (m · ȳ · F)
 *
 * where MSE = SSE / (n − p). Where the residuals are autocorrelated (ρ ≥ 0.5, not monthly), n
 * becomes the effective n' = n (1 − ρ) / (1 + ρ) in MSE, in 1 + 2/n and in t's degrees of
 * freedom. Infinity when nothing was saved or the autocorrelation leaves no degrees of freedom.
 */
export function fractionalSavingsUncertainty(
  fit: FitStatistics,
  interval: MvInterval,
  reportingPoints: number,
  savingsFraction: number,
  confidence: number,
): number {
  const rho = fit.autocorrelation;
  const effective = interval !== 'month' && rho >= 0.5 ? (fit.n * (1 - rho)) / (1 + rho) : fit.n;
  const dof = effective - fit.parameters;
  if (!(dof > 0) || savingsFraction === 0 || reportingPoints < 1 || fit.meanMeasured === 0)
    return Number.POSITIVE_INFINITY;
  const mse = fit.sse / dof;
  const alpha = uncertaintyCorrection(interval, fit.n);
  const t = studentT(confidence, dof);
  const m = reportingPoints;
  return Math.abs(
    (alpha * t * Math.sqrt(mse * (1 + 2 / effective) * m)) / (m * fit.meanMeasured * savingsFraction),
  );
}
