import { z } from 'zod';

/** A window of consecutive readings of one device, oldest first, as /invocations takes it. */
export interface ScoringWindow {
  readonly sensors: readonly string[];
  readonly rows: readonly (readonly number[])[];
  /** Index of the first reading whose result is wanted; the ones before are history. */
  readonly scoreFrom: number;
}

export const inferenceResultSchema = z.object({
  modelVersion: z.string(),
  threshold: z.number(),
  results: z.array(
    z.object({
      index: z.int().min(0),
      score: z.number(),
      anomalous: z.boolean(),
      contributors: z.array(z.object({ sensor: z.string(), share: z.number() })),
    }),
  ),
});

export type InferenceResult = z.output<typeof inferenceResultSchema>;

/** A failed call. `retryable` says whether the same request may succeed later (timeouts, throttling, 5xx). */
export class InferenceFailure extends Error {
  override readonly name = 'InferenceFailure';
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The model endpoint: SageMaker in the cloud, the local model server on one machine. */
export interface InferenceClient {
  /** Scores a window; gives up after `timeoutMs`. Throws InferenceFailure. */
  invoke(window: ScoringWindow, timeoutMs: number): Promise<InferenceResult>;
}
