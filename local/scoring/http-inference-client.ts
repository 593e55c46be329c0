import {
  InferenceFailure,
  parseInferenceAnswer,
  refusedRequest,
  type InferenceClient,
  type InferenceResult,
  type ScoringWindow,
} from '../../core/inference/ports.ts';

/** Scores a window on the local model server (the container's code on a local port). */
export class HttpInferenceClient implements InferenceClient {
  constructor(private readonly baseUrl: string) {}

  async invoke(window: ScoringWindow, timeoutMs: number): Promise<InferenceResult> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(window),
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
    return parseInferenceAnswer(text, `model server ${this.baseUrl}`);
  }
}
