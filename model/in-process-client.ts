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

/**
 * The endpoint's code called in this process: what `aiot model score` and replays score with, so
 * a file is scored exactly as the endpoint would score it, without a server.
 */
export class InProcessInferenceClient implements InferenceClient {
  constructor(private readonly model: AnomalyModel) {}

  invoke(window: ScoringWindow): Promise<InferenceResult> {
    try {
      return Promise.resolve(inferenceResultSchema.parse(invoke(this.model, window)));
    } catch (error) {
      if (error instanceof InvocationError)
        return Promise.reject(refusedRequest(error.message, error.status, error));
      return Promise.reject(
        new InferenceFailure(error instanceof Error ? error.message : String(error), false, {
          cause: error,
          endpointUnhealthy: true,
        }),
      );
    }
  }
}
