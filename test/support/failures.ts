import { InferenceFailure } from '../../core/inference/ports.ts';

/** The InferenceFailure a call rejects with; fails the test when the call succeeds instead. */
export async function failureOf(promise: Promise<unknown>): Promise<InferenceFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof InferenceFailure) return error;
    throw error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
