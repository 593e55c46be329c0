import { Matrix, solve } from 'ml-matrix';

/**
 * Baseline models of M&V: ordinary least squares on the independent variables, with an optional
 * change point on one of them (outdoor temperature), the forms of ASHRAE's Inverse Modeling
 * Toolkit (RP-1050):
 *
 * - `linear`: y = b0 + Σ bi·xi
 * - `proportional`: y = Σ bi·xi, no intercept: downtime per running hour, energy per unit made
 * - `cooling-change-point` (3PC): y = b0 + bc·max(0, T − τ) + Σ bi·xi: flat below τ, rising above
 * - `heating-change-point` (3PH): y = b0 + bh·max(0, τ − T) + Σ bi·xi
 * - `change-point` (4P): both slopes about one τ
 *
 * τ is found by searching a grid over the observed T for the least squared error, with the
 * slopes' physical signs kept (more cooling energy when warmer); it counts as a parameter.
 */

export const MODEL_FORMS = [
  'linear',
  'proportional',
  'cooling-change-point',
  'heating-change-point',
  'change-point',
] as const;
export type ModelForm = (typeof MODEL_FORMS)[number];

/** One interval of the baseline or reporting period: the dependent value and the variables. */
export interface MvPoint {
  readonly y: number;
  readonly x: Readonly<Record<string, number>>;
}

export interface BaselineModel {
  readonly form: ModelForm;
  /** The variable the change point is on (absent for `linear`). */
  readonly changePointOn: string | undefined;
  readonly changePoint: number | undefined;
  /** The intercept, and a slope per term: `heating`, `cooling`, or a variable's name. */
  readonly coefficients: Readonly<Record<string, number>>;
  /** Every estimated quantity: coefficients and the change point. */
  readonly parameters: number;
}

/** Grid steps over the change-point variable's range. */
const GRID_STEPS = 200;
/** Points a change-point fit needs on each side of τ for its slope to mean anything. */
const MIN_POINTS_PER_SIDE = 3;

const hasHeating = (form: ModelForm) => form === 'heating-change-point' || form === 'change-point';
const hasCooling = (form: ModelForm) => form === 'cooling-change-point' || form === 'change-point';

/** The names of a model's terms besides the intercept, in the design matrix's order. */
function termNames(
  form: ModelForm,
  changePointOn: string | undefined,
  variables: readonly string[],
): string[] {
  const linear = variables.filter(
    (name) => form === 'linear' || form === 'proportional' || name !== changePointOn,
  );
  return [...(hasHeating(form) ? ['heating'] : []), ...(hasCooling(form) ? ['cooling'] : []), ...linear];
}

function termValue(point: MvPoint, term: string, changePointOn: string | undefined, tau: number): number {
  const t = changePointOn === undefined ? 0 : (point.x[changePointOn] ?? Number.NaN);
  if (term === 'heating') return Math.max(0, tau - t);
  if (term === 'cooling') return Math.max(0, t - tau);
  return point.x[term] ?? Number.NaN;
}

/** What the model predicts for one interval. */
export function predict(model: BaselineModel, point: MvPoint): number {
  let value = model.coefficients.intercept ?? 0;
  for (const [term, slope] of Object.entries(model.coefficients)) {
    if (term === 'intercept') continue;
    value += slope * termValue(point, term, model.changePointOn, model.changePoint ?? 0);
  }
  return value;
}

function leastSquares(
  points: readonly MvPoint[],
  terms: readonly string[],
  changePointOn: string | undefined,
  tau: number,
  intercept = true,
) {
  const design = new Matrix(
    points.map((point) => [
      ...(intercept ? [1] : []),
      ...terms.map((term) => termValue(point, term, changePointOn, tau)),
    ]),
  );
  const target = Matrix.columnVector(points.map((point) => point.y));
  // SVD: a variable that did not vary in the baseline (occupancy on a site closed all month)
  // gets a zero slope instead of a singular matrix.
  const solution = solve(design, target, true).to1DArray();
  const offset = intercept ? 1 : 0;
  const coefficients: Record<string, number> = { intercept: intercept ? (solution[0] ?? 0) : 0 };
  terms.forEach((term, index) => (coefficients[term] = solution[index + offset] ?? 0));
  const sse = points.reduce((total, point, index) => {
    const fitted = design
      .getRow(index)
      .reduce((acc, value, column) => acc + value * (solution[column] ?? 0), 0);
    return total + (point.y - fitted) ** 2;
  }, 0);
  return { coefficients, sse };
}

type Candidate = { coefficients: Record<string, number>; sse: number; tau: number };

/** The fit at τ, unless a hinge slope is negative: energy rises with heating and cooling load. */
function physicalFit(
  points: readonly MvPoint[],
  terms: readonly string[],
  changePointOn: string,
  tau: number,
): Candidate | undefined {
  const fit = leastSquares(points, terms, changePointOn, tau);
  if ((fit.coefficients.heating ?? 0) < 0 || (fit.coefficients.cooling ?? 0) < 0) return undefined;
  return { ...fit, tau };
}

/** Golden-section search within a grid step of the best τ: the grid alone is only that fine. */
function refineChangePoint(
  points: readonly MvPoint[],
  terms: readonly string[],
  changePointOn: string,
  best: Candidate,
  grid: readonly number[],
): Candidate {
  const step = (grid[1] ?? best.tau) - (grid[0] ?? best.tau);
  let low = best.tau - step;
  let high = best.tau + step;
  const ratio = (Math.sqrt(5) - 1) / 2;
  const sseAt = (tau: number) =>
    physicalFit(points, terms, changePointOn, tau)?.sse ?? Number.POSITIVE_INFINITY;
  for (let iteration = 0; iteration < 40; iteration++) {
    const a = high - ratio * (high - low);
    const b = low + ratio * (high - low);
    if (sseAt(a) <= sseAt(b)) high = b;
    else low = a;
  }
  const refined = physicalFit(points, terms, changePointOn, (low + high) / 2);
  return refined && refined.sse <= best.sse ? refined : best;
}

/** The grid of τ to try: between the values leaving a few points on each side. */
function changePointGrid(values: readonly number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const low = sorted[MIN_POINTS_PER_SIDE - 1];
  const high = sorted[sorted.length - MIN_POINTS_PER_SIDE];
  if (low === undefined || high === undefined || !(high > low)) return [];
  return Array.from({ length: GRID_STEPS + 1 }, (_, step) => low + ((high - low) * step) / GRID_STEPS);
}

/**
 * Fits a baseline model of `form` on the baseline period's points; for a change-point form the
 * change point is on `changePointOn`, which must be one of `variables`. Throws, naming the cause,
 * when the data cannot support the form.
 */
export function fitBaselineModel(
  points: readonly MvPoint[],
  form: ModelForm,
  variables: readonly string[],
  changePointOn?: string,
): BaselineModel {
  for (const point of points)
    for (const name of variables)
      if (!Number.isFinite(point.x[name])) throw new Error(`a baseline point has no value of "${name}"`);
  if (form === 'linear' || form === 'proportional') {
    const terms = termNames(form, undefined, variables);
    const parameters = terms.length + (form === 'linear' ? 1 : 0);
    if (points.length <= parameters)
      throw new Error(
        `a ${form} model of ${terms.length} variables needs more than ${parameters} points, got ${points.length}`,
      );
    const { coefficients } = leastSquares(points, terms, undefined, 0, form === 'linear');
    return { form, changePointOn: undefined, changePoint: undefined, coefficients, parameters };
  }
  if (changePointOn === undefined || !variables.includes(changePointOn))
    throw new Error(
      `a ${form} model needs its change-point variable among the variables (${variables.join(', ')})`,
    );
  const terms = termNames(form, changePointOn, variables);
  let best: Candidate | undefined;
  const grid = changePointGrid(points.map((point) => point.x[changePointOn] ?? 0));
  for (const tau of grid) {
    const candidate = physicalFit(points, terms, changePointOn, tau);
    if (candidate && (!best || candidate.sse < best.sse)) best = candidate;
  }
  if (best) best = refineChangePoint(points, terms, changePointOn, best, grid);
  if (!best)
    throw new Error(
      `no ${form} fits the baseline: "${changePointOn}" varies too little across ${points.length} points, or energy does not rise with it (try form: linear)`,
    );
  return {
    form,
    changePointOn,
    changePoint: best.tau,
    coefficients: best.coefficients,
    parameters: terms.length + 2,
  };
}
