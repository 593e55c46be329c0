import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import {
  InferenceFailure,
  parseInferenceAnswer,
  refusedRequest,
  type InferenceClient,
  type InferenceResult,
  type ScoringWindow,
} from '../../core/inference/ports.ts';
import {
  batchRequestBody,
  parseBatchAnswer,
  type BatchAnswer,
  type InferenceBatchClient,
} from '../../core/inference/batch.ts';

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
 * Scores windows on a SageMaker real-time endpoint, one or many a call. Build the client with
 * `maxAttempts: 1`: the ResilientScorer owns retries, so they are not multiplied by the SDK's own.
 */
export class SageMakerInferenceClient implements InferenceClient, InferenceBatchClient {
  constructor(
    private readonly client: SageMakerRuntimeClient,
    private readonly endpointName: string,
  ) {}

  async invoke(window: ScoringWindow, timeoutMs: number): Promise<InferenceResult> {
    return parseInferenceAnswer(
      await this.post(JSON.stringify(window), timeoutMs),
      `endpoint ${this.endpointName}`,
    );
  }

  async invokeBatch(windows: readonly ScoringWindow[], timeoutMs: number): Promise<BatchAnswer> {
    const text = await this.post(batchRequestBody(windows), timeoutMs);
    return parseBatchAnswer(text, `endpoint ${this.endpointName}`, windows.length);
  }

  /** The answer's text to an InvokeEndpoint, or the failure as the scorer classes it. */
  private async post(requestBody: string, timeoutMs: number): Promise<string> {
    let body: Uint8Array;
    try {
      const response = await this.client.send(
        new InvokeEndpointCommand({
          EndpointName: this.endpointName,
          ContentType: 'application/json',
          Accept: 'application/json',
          Body: requestBody,
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
    return new TextDecoder().decode(body);
  }
}
