import { describe, expect, it } from 'vitest';
import { fitBaselineModel, predict, type MvPoint } from '../../core/kpi/mv/change-point.ts';
import {
  defaultFitLimits,
  disqualification,
  fitStatistics,
  fractionalSavingsUncertainty,
  lag1Autocorrelation,
  studentT,
  uncertaintyCorrection,
  type FitStatistics,
} from '../../core/kpi/mv/fit-statistics.ts';
import { measureSavings } from '../../core/kpi/mv/savings.ts';

describe('M&V fit statistics, by hand', () => {
  it('GIVEN four points and a two-parameter fit THEN CV(RMSE), NMBE and R² are as Guideline 14 defines them', () => {
    // Residuals -1, 1, -1, 1: SSE 4 over n - p = 2 degrees of freedom, RMSE √2, mean 13.
    const fit = fitStatistics([10, 12, 14, 16], [11, 11, 15, 15], 2);
    expect(fit.sse).toBe(4);
    expect(fit.cvRmsePct).toBeCloseTo((Math.SQRT2 / 13) * 100, 10); // 10.879%
    expect(fit.nmbePct).toBe(0);
    expect(fit.r2).toBeCloseTo(1 - 4 / 20, 12);
    expect(fit.autocorrelation).toBeCloseTo(-1, 12);
  });

  it('GIVEN a fit that is 1 low everywhere THEN NMBE is the bias over n - p times the mean', () => {
    const fit = fitStatistics([10, 20, 30], [9, 19, 29], 1);
    expect(fit.nmbePct).toBeCloseTo((3 / 2 / 20) * 100, 10); // 7.5%
    expect(fit.cvRmsePct).toBeCloseTo((Math.sqrt(1.5) / 20) * 100, 10);
  });

  it('GIVEN too few points for the parameters THEN it refuses, naming both counts', () => {
    expect(() => fitStatistics([1, 2], [1, 2], 2)).toThrow(/2 parameters needs more than 2 points, got 2/);
  });

  it('GIVEN a fit outside the limits THEN the disqualification names each figure and its limit', () => {
    const fit = fitStatistics([10, 20, 30], [9, 19, 29], 1);
    expect(disqualification(fit, { cvRmsePct: 5, nmbePct: 5 })).toEqual([
      'CV(RMSE) 6.1% is above 5%',
      'NMBE 7.5% is outside ±5%',
    ]);
    expect(disqualification(fit, defaultFitLimits('day'))).toEqual([]);
    expect(defaultFitLimits('month')).toEqual({ cvRmsePct: 15, nmbePct: 5 });
    expect(defaultFitLimits('hour')).toEqual({ cvRmsePct: 30, nmbePct: 10 });
  });

  it('GIVEN a trend and an alternating series THEN the lag-1 autocorrelation is near +1 and -1', () => {
    expect(lag1Autocorrelation([1, 2, 3, 4, 5, 6])).toBeCloseTo(1, 12);
    expect(lag1Autocorrelation([1, -1, 1, -1, 1])).toBeCloseTo(-1, 12);
    expect(lag1Autocorrelation([5, 5, 5])).toBe(0);
  });

  it('GIVEN degrees of freedom THEN t matches the printed tables', () => {
    expect(studentT(0.9, 10)).toBeCloseTo(1.8125, 4);
    expect(studentT(0.9, 27)).toBeCloseTo(1.7033, 4);
    expect(studentT(0.68, 1e6)).toBeCloseTo(0.9945, 3);
    expect(() => studentT(1.2, 10)).toThrow(/confidence must be in \(0, 1\), got 1.2/);
  });
});

describe('fractional savings uncertainty (ASHRAE Guideline 14-2014 Annex B)', () => {
  // 30 daily points of a 3-parameter model, mean 100, SSE 675: MSE 25 on 27 degrees of freedom.
  const fit: FitStatistics = {
    n: 30,
    parameters: 3,
    meanMeasured: 100,
    sse: 675,
    cvRmsePct: 5,
    nmbePct: 0,
    r2: 0.9,
    autocorrelation: 0.1,
  };

  it('GIVEN 30 reporting days saving 10% THEN ΔS/S = α t √(MSE (1 + 2/n) m) / (m ȳ F), worked by hand', () => {
    // α for 30 days (0.987 months) = -0.00024 M² + 0.03535 M + 1.00286 = 1.037511.
    expect(uncertaintyCorrection('day', 30)).toBeCloseTo(1.037511, 6);
    // 1.037511 × 1.703288 × √(25 × 1.066667 × 30) / (30 × 100 × 0.1) = 0.16661
    expect(fractionalSavingsUncertainty(fit, 'day', 30, 0.1, 0.9)).toBeCloseTo(0.16661, 5);
    // Twice the savings, half the fractional uncertainty; 68% is about 1 t instead of 1.7.
    expect(fractionalSavingsUncertainty(fit, 'day', 30, 0.2, 0.9)).toBeCloseTo(0.16661 / 2, 5);
    expect(fractionalSavingsUncertainty(fit, 'day', 30, 0.1, 0.68)).toBeLessThan(0.1);
  });

  it('GIVEN residuals autocorrelated at 0.6 THEN n becomes n(1-ρ)/(1+ρ) = 7.5 in MSE, 1 + 2/n and t', () => {
    const correlated = { ...fit, autocorrelation: 0.6 };
    // MSE' = 675 / (7.5 - 3) = 150; √(150 × (1 + 2/7.5) × 30) = 75.498; t(0.9, 4.5) is 2.015..2.132.
    const expected = (1.037511 * studentT(0.9, 4.5) * 75.49834) / 300;
    expect(fractionalSavingsUncertainty(correlated, 'day', 30, 0.1, 0.9)).toBeCloseTo(expected, 5);
    expect(expected).toBeGreaterThan(0.526);
    expect(expected).toBeLessThan(0.557);
    // Hourly data takes the constant 1.26; monthly ignores autocorrelation.
    expect(uncertaintyCorrection('hour', 8760)).toBe(1.26);
  });

  it('GIVEN no savings, or autocorrelation that leaves no degrees of freedom THEN the uncertainty is unbounded', () => {
    expect(fractionalSavingsUncertainty(fit, 'day', 30, 0, 0.9)).toBe(Number.POSITIVE_INFINITY);
    expect(fractionalSavingsUncertainty({ ...fit, autocorrelation: 0.9 }, 'day', 30, 0.1, 0.9)).toBe(
      Number.POSITIVE_INFINITY,
    );
  });
});

/** Days with outdoor temperature 10..30 °C and a weekday occupancy pattern, as a plant would see. */
function days(energy: (t: number, occupancy: number) => number, count = 42, noise = 0): MvPoint[] {
  return Array.from({ length: count }, (_, index) => {
    const t = 10 + ((index * 8) % 21);
    const occupancy = index % 7 < 5 ? 40 : 0;
    // A fixed zig-zag stands in for noise: reproducible, zero mean over each pair.
    const wiggle = noise * (index % 2 === 0 ? 1 : -1);
    return { y: energy(t, occupancy) + wiggle, x: { t, occupancy } };
  });
}

describe('change-point baseline models', () => {
  it('GIVEN energy flat below 20 °C and rising 5 kWh per degree above THEN the 3PC fit finds 20 °C and the slope', () => {
    const points = days((t) => 100 + 5 * Math.max(0, t - 20));
    const model = fitBaselineModel(points, 'cooling-change-point', ['t'], 't');
    expect(model.changePoint).toBeCloseTo(20, 6);
    expect(model.coefficients.intercept).toBeCloseTo(100, 6);
    expect(model.coefficients.cooling).toBeCloseTo(5, 6);
    expect(model.parameters).toBe(3);
    expect(predict(model, { y: 0, x: { t: 26 } })).toBeCloseTo(130, 6);
  });

  it('GIVEN an occupancy term beside the temperature THEN both are recovered, the change point counted as a parameter', () => {
    const points = days((t, occupancy) => 50 + 4 * Math.max(0, t - 18) + 2 * occupancy);
    const model = fitBaselineModel(points, 'cooling-change-point', ['t', 'occupancy'], 't');
    expect(model.changePoint).toBeCloseTo(18, 6);
    expect(model.coefficients.occupancy).toBeCloseTo(2, 6);
    expect(model.coefficients.cooling).toBeCloseTo(4, 6);
    expect(model.parameters).toBe(4);
  });

  it('GIVEN downtime in proportion to running hours THEN the proportional model has no intercept and one parameter', () => {
    const points = [100, 140, 90, 160, 120, 130, 110].map((hours) => ({ y: 0.02 * hours, x: { hours } }));
    const model = fitBaselineModel(points, 'proportional', ['hours']);
    expect(model.coefficients.hours).toBeCloseTo(0.02, 12);
    expect(model.coefficients.intercept).toBe(0);
    expect(model.parameters).toBe(1);
    // A fleet that ran half as much is expected to be down half as long.
    expect(predict(model, { y: 0, x: { hours: 50 } })).toBeCloseTo(1, 12);
  });

  it('GIVEN energy that falls as it warms THEN a cooling change point is refused with the reason', () => {
    const points = days((t) => 300 - 5 * t);
    expect(() => fitBaselineModel(points, 'cooling-change-point', ['t'], 't')).toThrow(
      /no cooling-change-point fits the baseline: "t" varies too little across 42 points, or energy does not rise with it/,
    );
    expect(() => fitBaselineModel(points, 'change-point', ['t'], 'occupancy')).toThrow(
      /change-point variable/,
    );
  });
});

describe('savings against a qualified baseline', () => {
  const at = (points: MvPoint[], start: number) =>
    points.map((point, index) => ({ ...point, from: start + index * 86_400_000 }));
  const energy = (t: number, occupancy: number) => 200 + 6 * Math.max(0, t - 18) + 3 * occupancy;

  it('GIVEN a baseline that fits and a reporting period using 10% less THEN savings are 10% with a finite uncertainty', () => {
    const baseline = at(days(energy, 42, 4), 0);
    const reporting = at(
      days((t, occupancy) => 0.9 * energy(t, occupancy), 28),
      42 * 86_400_000,
    );
    const outcome = measureSavings(
      { interval: 'day', form: 'cooling-change-point', variables: ['t', 'occupancy'], changePointOn: 't' },
      baseline,
      reporting,
    );
    if (outcome.status !== 'qualified') throw new Error(`not qualified: ${JSON.stringify(outcome)}`);
    expect(outcome.fit.cvRmsePct).toBeLessThan(2);
    expect(outcome.totals?.savingsPct).toBeCloseTo(10, 1);
    expect(outcome.reporting.at(-1)?.cumulative).toBeCloseTo(outcome.totals?.savings ?? 0, 6);
    expect(outcome.totals?.uncertainty90Pct).toBeGreaterThan(outcome.totals?.uncertainty68Pct ?? Infinity);
    expect(outcome.totals?.uncertainty90Pct).toBeLessThan(20);
  });

  it('GIVEN a baseline too noisy to qualify THEN it is refused with its CV(RMSE) and no savings are claimed', () => {
    const outcome = measureSavings(
      { interval: 'day', form: 'linear', variables: ['t', 'occupancy'] },
      at(days(energy, 42, 150), 0),
      at(days(energy, 10), 42 * 86_400_000),
    );
    if (outcome.status !== 'refused') throw new Error(`not refused: ${outcome.status}`);
    expect(outcome.reasons[0]).toMatch(/^CV\(RMSE\) \d+\.\d% is above 30%$/);
    expect('totals' in outcome).toBe(false);
  });

  it('GIVEN fewer baseline days than the model needs THEN it says how many it has and needs', () => {
    const outcome = measureSavings(
      { interval: 'day', form: 'cooling-change-point', variables: ['t'], changePointOn: 't' },
      at(days(energy, 6), 0),
      [],
    );
    expect(outcome).toEqual({
      status: 'too little data',
      reasons: ['the baseline has 6 days of full data; a cooling-change-point model of 1 variables needs 9'],
    });
  });
});
