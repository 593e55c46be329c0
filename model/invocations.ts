import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { anomalyModelSchema, scoreReadings, type AnomalyModel } from '../core/model/anomaly-model.ts';
import { MODEL_FILE } from './train.ts';

/**
 * POST /invocations request: a window of consecutive readings of one device, oldest first,
 * either as `sensors` + `rows` or as `readings` objects keyed by sensor. `scoreFrom` skips the
 * results of the first readings, which serve as history for the smoothing.
 */
export const invocationRequestSchema = z.union([
  z.strictObject({
    sensors: z.array(z.string()).min(1),
    rows: z.array(z.array(z.number())).min(1),
    scoreFrom: z.int().min(0).optional(),
  }),
  z.strictObject({
    readings: z.array(z.record(z.string(), z.number())).min(1),
    scoreFrom: z.int().min(0).optional(),
  }),
]);

export type InvocationRequest = z.input<typeof invocationRequestSchema>;

export interface InvocationResponse {
  readonly modelVersion: string;
  readonly threshold: number;
  readonly results: readonly {
    readonly index: number;
    readonly score: number;
    readonly anomalous: boolean;
    readonly contributors: readonly { sensor: string; share: number }[];
  }[];
  /** Model compute time for the whole window, in milliseconds. */
  readonly computeMs: number;
}

export class InvocationError extends Error {
  override readonly name = 'InvocationError';
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

/** Readings keyed by sensor, as a table of the sensors the model scores; a missing one is reported. */
function readingsTable(model: AnomalyModel, readings: readonly Record<string, number>[]) {
  const sensors = model.tracked.map((t) => t.sensor);
  return { sensors, rows: readings.map((reading) => sensors.map((sensor) => reading[sensor] ?? Number.NaN)) };
}

/** The one code path behind POST /invocations and `aiot model score`. */
export function invoke(model: AnomalyModel, body: unknown): InvocationResponse {
  const parsed = invocationRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw new InvocationError(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
    );
  }
  const request = parsed.data;
  const table =
    'rows' in request
      ? { sensors: request.sensors, rows: request.rows }
      : readingsTable(model, request.readings);
  const started = performance.now();
  let scored;
  try {
    scored = scoreReadings(model, table);
  } catch (error) {
    throw new InvocationError(error instanceof Error ? error.message : String(error));
  }
  const computeMs = performance.now() - started;
  const from = request.scoreFrom ?? 0;
  return {
    modelVersion: model.modelVersion,
    threshold: model.threshold,
    results: scored.slice(from).map((result, i) => ({
      index: from + i,
      score: result.score,
      anomalous: result.anomalous,
      contributors: result.contributors,
    })),
    computeMs,
  };
}
