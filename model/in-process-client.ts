import {
  InferenceFailure,
  inferenceResultSchema,
  refusedRequest,
  type InferenceClient,
  type InferenceResult,
  type ScoringWindow,
} from '../core/inference/ports.ts';
import type { AnomalyModel } from '../core/model/anomaly-model.ts';
import { invoke, InvocationError } from './invocations.ts';
import { invokeBatch } from './batch-invocations.ts';
import { parseBatchAnswer, type BatchAnswer, type InferenceBatchClient } from '../core/inference/batch.ts';

/**
 * The endpoint's code called in this process: what `aiot model score` and replays score with, so
 * a file is scored exactly as the endpoint would score it, without a server.
 */
export class InProcessInferenceClient implements InferenceClient, InferenceBatchClient {
  constructor(private readonly model: AnomalyModel) {}

  invokeBatch(windows: readonly ScoringWindow[]): Promise<BatchAnswer> {
    try {
      const text = JSON.stringify(invokeBatch(this.model, { windows }));
      return Promise.resolve(parseBatchAnswer(text, 'the model', windows.length));
    } catch (error) {
      return Promise.reject(failureOf(error));
    }
  }

  invoke(window: ScoringWindow): Promise<InferenceResult> {
    try {
      return Promise.resolve(inferenceResultSchema.parse(invoke(this.model, window)));
    } catch (error) {
      return Promise.reject(failureOf(error));
    }
  }
}

/** A refusal as the endpoint's status would class it; anything else is the model's fault. */
function failureOf(error: unknown): InferenceFailure {
  if (error instanceof InvocationError) return refusedRequest(error.message, error.status, error);
  return new InferenceFailure(error instanceof Error ? error.message : String(error), false, {
    cause: error,
    endpointUnhealthy: true,
  });
}
