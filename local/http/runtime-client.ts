import { JSON_CONTENT_TYPE } from './runtime-api.ts';
import { readRuntimeFile } from '../runtime/data-dir.ts';

/** A refusal by the runtime, with the HTTP status it answered. */
export class RuntimeRefusal extends Error {
  override readonly name = 'RuntimeRefusal';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * Calls the running runtime's API on `dataDir` and answers the parsed JSON; a refusal throws with
 * the runtime's own explanation. Alerts and baselines live in the runtime's store, so these calls
 * need it running.
 */
export async function callRuntime<T>(
  dataDir: string,
  method: 'GET' | 'POST',
  route: string,
  body?: unknown,
): Promise<T> {
  const running = readRuntimeFile(dataDir);
  if (!running) throw new Error(`no local runtime is running on ${dataDir}: start it with "npm start"`);
  const response = await fetch(`http://127.0.0.1:${running.apiPort}${route}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': JSON_CONTENT_TYPE }, body: JSON.stringify(body) }),
  });
  const answer = (await response.json()) as T | { error: string };
  if (!response.ok) {
    const message =
      typeof answer === 'object' && answer !== null && 'error' in answer ? answer.error : response.statusText;
    throw new RuntimeRefusal(message, response.status);
  }
  return answer as T;
}
