import { issuesText } from '../core/contracts/reasons.ts';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import {
  anomalyModelSchema,
  historyReadings,
  scoreReadings,
  type AnomalyModel,
} from '../core/model/anomaly-model.ts';
import {
  calibrateBaseline,
  deviceBaselineSchema,
  scoreWithBaseline,
  type DeviceBaseline,
} from '../core/model/device-baseline.ts';
import { BASELINE_STALE_STATUS } from '../core/inference/ports.ts';
import { MODEL_FILE } from './train.ts';

/** Why `value` is not a non-empty list of rows of numbers, or undefined when it is. */
function notNumberRows(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'must be a list of rows';
  if (value.length === 0) return 'must hold at least one row';
  for (let r = 0; r < value.length; r++) {
    const row: unknown = value[r];
    if (!Array.isArray(row)) return `row ${r} is not a list of numbers`;
    for (let c = 0; c < row.length; c++) {
      const cell: unknown = row[c];
      if (typeof cell !== 'number') return `row ${r}, value ${c} is not a number (${JSON.stringify(cell)})`;
    }
  }
  return undefined;
}

/**
 * A window's rows, checked in one loop: a window holds hundreds of numbers, and a schema per
 * number (which also copies every row) was a sixth of the server's time per window. Widths and
 * finiteness are checked against the sensors when the window is scored.
 */
const numberRows = z.custom<number[][]>((value) => notNumberRows(value) === undefined, {
  error: (issue) => notNumberRows(issue.input) ?? 'must be a list of rows of numbers',
});

/** How a window is scored: the model's fleet-wide normal, a device baseline, or a new calibration. */
const modeFields = {
  scoreFrom: z.int().min(0).optional(),
  baseline: deviceBaselineSchema.optional(),
  ageSeconds: z.array(z.number().min(0)).optional(),
  calibrate: z.boolean().optional(),
};

/**
 * POST /invocations request: a window of consecutive readings of one device, oldest first,
 * either as `sensors` + `rows` or as `readings` objects keyed by sensor. `scoreFrom` skips the
 * results of the first readings, which serve as history for the smoothing. With `baseline` (and
 * `ageSeconds`, one per reading) the device's own normal scores the window; with `calibrate` the
 * window's readings calibrate a new baseline, which the answer carries.
 */
const rowsWindow = z.strictObject({ sensors: z.array(z.string()).min(1), rows: numberRows, ...modeFields });
const readingsWindow = z.strictObject({
  readings: z.array(z.record(z.string(), z.number())).min(1),
  ...modeFields,
});

function modeChecks(
  request: z.output<typeof rowsWindow> | z.output<typeof readingsWindow>,
  context: z.RefinementCtx,
): void {
  const rows = 'rows' in request ? request.rows.length : request.readings.length;
  if (request.calibrate && request.baseline) {
    context.addIssue({ code: 'custom', path: ['calibrate'], message: 'calibrate takes no baseline' });
  }
  if (request.ageSeconds && !request.baseline) {
    context.addIssue({ code: 'custom', path: ['ageSeconds'], message: 'ageSeconds needs a baseline' });
  }
  if (request.ageSeconds && request.ageSeconds.length !== rows) {
    context.addIssue({
      code: 'custom',
      path: ['ageSeconds'],
      message: `has ${request.ageSeconds.length} entries for ${rows} readings`,
    });
  }
}

export const invocationRequestSchema = z.union([rowsWindow, readingsWindow]).superRefine(modeChecks);
/** The form a body names by its keys, so a bad window is told what is wrong in it, not "invalid input". */
const rowsRequest = rowsWindow.superRefine(modeChecks);
const readingsRequest = readingsWindow.superRefine(modeChecks);

export type InvocationRequest = z.input<typeof invocationRequestSchema>;

export interface InvocationResponse {
  readonly modelVersion: string;
  /**
   * Readings of history this model needs before `scoreFrom` for warm scores: callers keep and
   * send that many per device (more is wasted JSON, fewer leaves the first scores cold).
   */
  readonly history: number;
  readonly threshold: number;
  readonly results: readonly {
    readonly index: number;
    readonly score: number;
    readonly anomalous: boolean;
    readonly warm: boolean;
    readonly contributors: readonly { sensor: string; share: number }[];
  }[];
  /** The new baseline, when the request asked to calibrate. */
  readonly baseline?: DeviceBaseline;
  /** Model compute time for the whole window, in milliseconds. */
  readonly computeMs: number;
}

/**
 * POST /invocations `{"describe": "model"}`: what the served model is, for the drift checks: its
 * version, the inputs it scores with their training mean and scale, and its training profile.
 */
export const describeRequestSchema = z.strictObject({ describe: z.literal('model') });

export function describeModel(model: AnomalyModel) {
  return {
    modelVersion: model.modelVersion,
    tracked: model.tracked,
    profile: model.profile ?? null,
  };
}

export class InvocationError extends Error {
  override readonly name = 'InvocationError';
  constructor(
    message: string,
    /** 400 for a malformed request; 409 for a baseline of another model version. */
    readonly status: 400 | typeof BASELINE_STALE_STATUS = 400,
  ) {
    super(message);
  }
}

export function loadModel(modelDir: string): AnomalyModel {
  const file = path.join(modelDir, MODEL_FILE);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(
      `cannot read the model at ${file}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  return anomalyModelSchema.parse(json);
}

/**
 * Readings keyed by sensor, as a table of the sensors the model scores (every sensor it knows
 * when calibrating, since a device may track sensors the fleet model leaves out); a missing one
 * is reported.
 */
function readingsTable(
  model: AnomalyModel,
  readings: readonly Record<string, number>[],
  sensors: readonly string[] = model.tracked.map((t) => t.sensor),
) {
  return { sensors, rows: readings.map((reading) => sensors.map((sensor) => reading[sensor] ?? Number.NaN)) };
}

/**
 * What a baseline scores: its tracked sensors, and, with the gross-deviation check on, the slow
 * ones it left out that every reading carries.
 */
function baselineSensors(
  model: AnomalyModel,
  baseline: DeviceBaseline,
  readings: readonly Record<string, number>[],
): string[] {
  const tracked = baseline.tracked.map((t) => t.sensor);
  if (!(model.params.grossDeviation > 0)) return tracked;
  const slow = baseline.untracked
    .filter((u) => u.scale !== undefined)
    .map((u) => u.sensor)
    .filter((sensor) => readings.every((reading) => Number.isFinite(reading[sensor])));
  return [...tracked, ...slow];
}

/** The one code path behind POST /invocations and `aiot model score`. */
export function invoke(model: AnomalyModel, body: unknown): InvocationResponse {
  const readings = typeof body === 'object' && body !== null && 'readings' in body && !('rows' in body);
  const parsed = (readings ? readingsRequest : rowsRequest).safeParse(body);
  if (!parsed.success) {
    throw new InvocationError(issuesText(parsed.error.issues, '(body)'));
  }
  const request = parsed.data;
  const table =
    'rows' in request
      ? { sensors: request.sensors, rows: request.rows }
      : readingsTable(
          model,
          request.readings,
          request.calibrate || request.baseline
            ? request.baseline
              ? baselineSensors(model, request.baseline, request.readings)
              : model.sensors
            : undefined,
        );
  const started = performance.now();
  // Only the readings from scoreFrom on are answered: the history before them is not scored.
  const from = request.scoreFrom ?? 0;
  let scored;
  let baseline: DeviceBaseline | undefined;
  try {
    if (request.calibrate) {
      baseline = calibrateBaseline(model, table);
      scored = scoreWithBaseline(model, baseline, table, new Array<number>(table.rows.length).fill(0), from);
    } else if (request.baseline) {
      if (request.baseline.modelVersion !== model.modelVersion) {
        throw new InvocationError(
          `the baseline was calibrated with model ${request.baseline.modelVersion}, this endpoint serves ${model.modelVersion}: recalibrate it`,
          BASELINE_STALE_STATUS,
        );
      }
      const ages = request.ageSeconds ?? new Array<number>(table.rows.length).fill(0);
      scored = scoreWithBaseline(model, request.baseline, table, ages, from);
    } else {
      scored = scoreReadings(model, table, from);
    }
  } catch (error) {
    if (error instanceof InvocationError) throw error;
    throw new InvocationError(error instanceof Error ? error.message : String(error));
  }
  const computeMs = performance.now() - started;
  return {
    modelVersion: model.modelVersion,
    history: historyReadings(model.params),
    threshold: (baseline ?? request.baseline ?? model).threshold,
    results: scored.map((result, i) => ({
      index: from + i,
      score: result.score,
      anomalous: result.anomalous,
      warm: result.warm,
      contributors: result.contributors,
    })),
    ...(baseline ? { baseline } : {}),
    computeMs,
  };
}
