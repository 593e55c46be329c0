import type { Actor, Permission } from '../core/operators/actor.ts';
import { bearerToken, signIn } from './auth.ts';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface Session {
  readonly actor: Actor;
  readonly permissions: readonly Permission[];
}

/**
 * Calls the operators' API under `/api` on the page's own origin: the local console's server, or
 * CloudFront in front of the HTTP API. In the cloud the request carries the signed-in user's
 * token; who acts is never in the body.
 */
export async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const token = await bearerToken();
  const response = await fetch(`/api${path}`, {
    method,
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 401 && token !== undefined) {
    await signIn();
    throw new ApiError('signing in again', 401);
  }
  const text = await response.text();
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new ApiError(
      `the API answered ${response.status} with something that is not JSON`,
      response.status,
    );
  }
  if (!response.ok) {
    const message =
      typeof answer === 'object' && answer !== null && 'error' in answer
        ? String(answer.error)
        : response.statusText;
    throw new ApiError(message, response.status);
  }
  return answer as T;
}
