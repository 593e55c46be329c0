import { z } from 'zod';
import {
  answerJson,
  InferenceFailure,
  inferenceResultSchema,
  refusedRequest,
  type InferenceResult,
  type ScoringWindow,
} from './ports.ts';

/**
 * Many devices' windows in one call to the model: `{"windows": [...]}` to /invocations, each window
 * as a single call takes it, each answered on its own (a result, or the refusal a single call
 * would have had), so one device's bad window costs no other device its score. The per-request
 * overhead of an endpoint (about 1-5 ms against 0.1 ms of model compute a window) is paid once a
 * batch instead of once a device.
 */

/** Windows one call carries at most: the model server refuses more. */
export const MAX_WINDOWS_PER_CALL = 1000;

const windowAnswerSchema = z.union([
  inferenceResultSchema,
  z.object({ error: z.string(), status: z.int().min(400).max(499) }),
]);

export const batchAnswerSchema = z.object({ windows: z.array(windowAnswerSchema) });

/** Each window's result, or the failure a single call would have thrown for it. */
export type BatchAnswer = readonly (InferenceResult | InferenceFailure)[];

/** A model endpoint that scores many windows in one call. */
export interface InferenceBatchClient {
  /** Scores the windows in one call; gives up after `timeoutMs`. Throws InferenceFailure for the whole call. */
  invokeBatch(windows: readonly ScoringWindow[], timeoutMs: number): Promise<BatchAnswer>;
}

/**
 * A window's JSON, kept with the window object: the batching client measures it to split calls
 * and the call's body is made of it, so each window is serialized once.
 */
const serialized = new WeakMap<ScoringWindow, string>();

export function windowJson(window: ScoringWindow): string {
  let json = serialized.get(window);
  if (json === undefined) {
    json = JSON.stringify(window);
    serialized.set(window, json);
  }
  return json;
}

/** The body of a batch call: `JSON.stringify({ windows })`, from each window's JSON. */
export function batchRequestBody(windows: readonly ScoringWindow[]): string {
  return `{"windows":[${windows.map(windowJson).join(',')}]}`;
}

/**
 * Reads a batch answer: one entry per window sent, in order. A body that is not JSON is a
 * retryable failure of the endpoint; one of the wrong shape or count is the endpoint's, not retryable.
 */
export function parseBatchAnswer(text: string, source: string, sent: number): BatchAnswer {
  const parsed = batchAnswerSchema.safeParse(answerJson(text, source));
  if (!parsed.success || parsed.data.windows.length !== sent) {
    const issue = parsed.error?.issues[0];
    throw new InferenceFailure(
      `${source} answered an unexpected batch: ${
        issue
          ? `${issue.path.join('.') || '(root)'}: ${issue.message}`
          : `${parsed.data?.windows.length ?? 0} answers for ${sent} windows`
      }`,
      false,
      { endpointUnhealthy: true },
    );
  }
  return parsed.data.windows.map((answer) =>
    'error' in answer
      ? refusedRequest(`${source} refused the window: ${answer.error}`, answer.status)
      : answer,
  );
}
