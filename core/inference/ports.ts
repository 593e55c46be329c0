import { z } from 'zod';
import { deviceBaselineSchema, type DeviceBaseline } from '../model/device-baseline.ts';

/** A window of consecutive readings of one device, oldest first, as /invocations takes it. */
export interface ScoringWindow {
  readonly sensors: readonly string[];
  readonly rows: readonly (readonly number[])[];
  /** Index of the first reading whose result is wanted; the ones before are history. */
  readonly scoreFrom: number;
  /** Score against this device baseline instead of the model's fleet-wide normal. */
  readonly baseline?: DeviceBaseline;
  /** With `baseline`: each reading's seconds since the baseline's last calibration reading. */
  readonly ageSeconds?: readonly number[];
  /** Calibrate a baseline on all rows (normal operation) and score them against it. */
  readonly calibrate?: boolean;
}

/** The most history a window may carry: the longest smoothing window a model may have, less one. */
export const MAX_HISTORY_READINGS = 3599;

export const inferenceResultSchema = z.object({
  modelVersion: z.string(),
  /** Readings of history the model needs before `scoreFrom` for warm scores. Older servers omit it. */
  history: z.int().min(0).max(MAX_HISTORY_READINGS).optional(),
  threshold: z.number(),
  results: z.array(
    z.object({
      index: z.int().min(0),
      score: z.number(),
      anomalous: z.boolean(),
      /** False while the smoothing has less than a full window of history. Older servers omit it. */
      warm: z.boolean().default(true),
      contributors: z.array(z.object({ sensor: z.string(), share: z.number() })),
    }),
  ),
  /** The new baseline, answering a `calibrate` request. */
  baseline: deviceBaselineSchema.optional(),
});

export type InferenceResult = z.output<typeof inferenceResultSchema>;

/**
 * A failed call. `retryable` says whether the same request may succeed later (timeouts, throttling,
 * 5xx). `endpointUnhealthy` says whether the failure is the endpoint's, not the request's: only
 * those may open the circuit breaker that every device shares, so one device's bad window (a 4xx)
 * cannot stop scoring for the fleet. @default endpointUnhealthy = retryable
 */
export class InferenceFailure extends Error {
  override readonly name = 'InferenceFailure';
  readonly endpointUnhealthy: boolean;
  /** `baseline-stale`: the device baseline belongs to another model version; recalibrate it. */
  readonly code?: InferenceFailureCode;
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown; endpointUnhealthy?: boolean; code?: InferenceFailureCode },
  ) {
    super(message, options);
    this.endpointUnhealthy = options?.endpointUnhealthy ?? retryable;
    if (options?.code) this.code = options.code;
  }
}

export type InferenceFailureCode = 'baseline-stale';

/** The HTTP status the model server answers a baseline of another model version with. */
export const BASELINE_STALE_STATUS = 409;

/** A refusal by the endpoint (a 4xx status), as an InferenceFailure with its code. */
export function refusedRequest(message: string, status: number, cause?: unknown): InferenceFailure {
  return new InferenceFailure(message, false, {
    cause,
    ...(status === BASELINE_STALE_STATUS ? { code: 'baseline-stale' as const } : {}),
  });
}

/**
 * Reads an endpoint's answer. A body that is not JSON (cut off, an HTML error page) is a
 * retryable failure of the endpoint; JSON of the wrong shape is not retryable (the same request
 * gets the same answer) but still the endpoint's fault: an incompatible model serves every device.
 */
export function parseInferenceAnswer(text: string, source: string): InferenceResult {
  const parsed = inferenceResultSchema.safeParse(answerJson(text, source));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InferenceFailure(
      `${source} answered an unexpected body: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : ''}`,
      false,
      { endpointUnhealthy: true },
    );
  }
  return parsed.data;
}

/** An answer's JSON; a body that is not JSON (cut off, an HTML error page) is a retryable failure. */
export function answerJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InferenceFailure(
      `${source} answered a body that is not JSON: ${error instanceof Error ? error.message : String(error)}`,
      true,
      { cause: error },
    );
  }
}

/** The model endpoint: SageMaker in the cloud, the local model server on one machine. */
export interface InferenceClient {
  /** Scores a window; gives up after `timeoutMs`. Throws InferenceFailure. */
  invoke(window: ScoringWindow, timeoutMs: number): Promise<InferenceResult>;
}
