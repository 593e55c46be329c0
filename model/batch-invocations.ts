import { z } from 'zod';
import { MAX_WINDOWS_PER_CALL } from '../core/inference/batch.ts';
import type { AnomalyModel } from '../core/model/anomaly-model.ts';
import { invoke, InvocationError, type InvocationResponse } from './invocations.ts';

/**
 * POST /invocations `{"windows": [...]}`: the windows of many devices, each as a single call takes
 * it, answered in order, each with its result or its own refusal (`error`, `status`), so one
 * device's bad window does not cost the others their scores. Only a body that is not such a list
 * is refused whole.
 */
export const batchRequestSchema = z.strictObject({
  windows: z.array(z.unknown()).min(1).max(MAX_WINDOWS_PER_CALL),
});

export type WindowAnswer =
  Omit<InvocationResponse, 'computeMs'> | { readonly error: string; readonly status: number };

export interface BatchInvocationResponse {
  readonly windows: readonly WindowAnswer[];
  /** Model compute time for all windows, in milliseconds. */
  readonly computeMs: number;
}

/** Whether a body asks for a batch (it has `windows`); its shape is checked by `invokeBatch`. */
export function isBatchRequest(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'windows' in body;
}

export function invokeBatch(model: AnomalyModel, body: unknown): BatchInvocationResponse {
  const parsed = batchRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvocationError(
      `a batch is {"windows": [...]} with 1 to ${MAX_WINDOWS_PER_CALL} windows${issue ? ` (${issue.path.join('.') || 'body'}: ${issue.message})` : ''}`,
    );
  }
  let computeMs = 0;
  const windows = parsed.data.windows.map((window, index): WindowAnswer => {
    try {
      const { computeMs: ms, ...answer } = invoke(model, window);
      computeMs += ms;
      return answer;
    } catch (error) {
      if (error instanceof InvocationError)
        return { error: `windows[${index}]: ${error.message}`, status: error.status };
      throw error;
    }
  });
  return { windows, computeMs };
}
