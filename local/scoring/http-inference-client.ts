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

/** Scores windows on the local model server (the container's code on a local port), one or many a call. */
export class HttpInferenceClient implements InferenceClient, InferenceBatchClient {
  constructor(private readonly baseUrl: string) {}

  async invoke(window: ScoringWindow, timeoutMs: number): Promise<InferenceResult> {
    return parseInferenceAnswer(
      await this.post(JSON.stringify(window), timeoutMs),
      `model server ${this.baseUrl}`,
    );
  }

  async invokeBatch(windows: readonly ScoringWindow[], timeoutMs: number): Promise<BatchAnswer> {
    const text = await this.post(batchRequestBody(windows), timeoutMs);
    return parseBatchAnswer(text, `model server ${this.baseUrl}`, windows.length);
  }

  /** The answer's text to a POST /invocations, or the failure as the scorer classes it. */
  private async post(body: string, timeoutMs: number): Promise<string> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      // Refused connections and timeouts may pass; the server may be restarting.
      throw new InferenceFailure(
        `model server ${this.baseUrl}: ${error instanceof Error ? error.message : String(error)}`,
        true,
        { cause: error },
      );
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      // The connection broke or the timeout fired while the body was arriving.
      throw new InferenceFailure(
        `model server ${this.baseUrl}: reading the answer failed: ${error instanceof Error ? error.message : String(error)}`,
        true,
        { cause: error },
      );
    }
    if (response.status >= 500)
      throw new InferenceFailure(`model server answered ${response.status}: ${text}`, true);
    if (!response.ok)
      throw refusedRequest(`model server answered ${response.status}: ${text}`, response.status);
    return text;
  }
}
