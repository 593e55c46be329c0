import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import {
  InferenceFailure,
  parseInferenceAnswer,
  refusedRequest,
  type InferenceClient,
  type InferenceResult,
  type ScoringWindow,
} from '../../core/inference/ports.ts';

// Worth another try: the endpoint was busy, throttled or briefly unhealthy.
const RETRYABLE = new Set([
  'ThrottlingException',
  'ServiceUnavailable',
  'InternalFailure',
  'InternalDependencyException',
  'TimeoutError',
  'AbortError',
]);

/**
 * Scores a window on a SageMaker real-time endpoint. Build the client with `maxAttempts: 1`: the
 * ResilientScorer owns retries, so they are not multiplied by the SDK's own.
 */
export class SageMakerInferenceClient implements InferenceClient {
  constructor(
    private readonly client: SageMakerRuntimeClient,
    private readonly endpointName: string,
  ) {}

  async invoke(window: ScoringWindow, timeoutMs: number): Promise<InferenceResult> {
    let body: Uint8Array;
    try {
      const response = await this.client.send(
        new InvokeEndpointCommand({
          EndpointName: this.endpointName,
          ContentType: 'application/json',
          Accept: 'application/json',
          Body: JSON.stringify(window),
        }),
        { abortSignal: AbortSignal.timeout(timeoutMs) },
      );
      body = response.Body;
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      // A model error carries the container's status: 4xx is the request's fault, 5xx the model's.
      const status = (error as { OriginalStatusCode?: number }).OriginalStatusCode;
      const retryable = RETRYABLE.has(name) || (name === 'ModelError' && (status ?? 500) >= 500);
      const message = error instanceof Error ? `${name}: ${error.message}` : String(error);
      if (name === 'ModelError' && status !== undefined && status < 500) {
        throw refusedRequest(`InvokeEndpoint ${this.endpointName} failed: ${message}`, status, error);
      }
      throw new InferenceFailure(`InvokeEndpoint ${this.endpointName} failed: ${message}`, retryable, {
        cause: error,
      });
    }
    return parseInferenceAnswer(new TextDecoder().decode(body), `endpoint ${this.endpointName}`);
  }
}
