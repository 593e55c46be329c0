import { actorSchema, type Actor } from '../../core/operators/actor.ts';
import type { OperatorReply, OperatorRequest } from '../../core/operators/api.ts';
import { issuesText } from '../../core/contracts/reasons.ts';

/**
 * A runtime API request as the operators' API takes it. Local programs (the CLI, the console's
 * server) are trusted on loopback to say who acts: a change names its actor in the JSON body
 * (`{"actor": {"name", "role"}, ...}`), which is taken out of the body here; reads need none.
 */
export function localOperatorRequest(
  method: string,
  url: URL,
  body: string,
): OperatorRequest | OperatorReply {
  const base = { method, path: url.pathname, query: Object.fromEntries(url.searchParams) };
  if (method !== 'POST') return { ...base, body, actor: undefined };
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { status: 400, body: { error: 'the body must be JSON' } };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json) || !('actor' in json)) {
    return { ...base, body, actor: undefined };
  }
  const { actor, ...rest } = json;
  const parsed = actorSchema.safeParse(actor);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ ...issue, path: ['actor', ...issue.path] }));
    return { status: 400, body: { error: issuesText(issues) } };
  }
  const who: Actor = parsed.data;
  return { ...base, body: JSON.stringify(rest), actor: who };
}
