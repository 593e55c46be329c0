import type { z } from 'zod';

/** One reason a message was refused: where in the payload, and what is wrong there. */
export interface Reason {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    const name = String(key);
    return out ? `${out}.${name}` : name;
  }, '');
}

function describeInput(input: unknown): string {
  if (input === undefined) return ' (missing)';
  if (input === null || typeof input === 'number' || typeof input === 'boolean')
    return ` (got ${String(input)})`;
  if (typeof input === 'string')
    return ` (got ${JSON.stringify(input.length > 80 ? `${input.slice(0, 80)}…` : input)})`;
  return '';
}

/** Every zod issue as a reason an operator can act on, with the offending value where it is short. */
export function reasonsFromZod(issues: readonly z.core.$ZodIssue[]): Reason[] {
  return issues.map((issue) => ({
    path: formatPath(issue.path),
    code: issue.code,
    message: `${issue.message}${issue.code === 'unrecognized_keys' ? '' : describeInput(issue.input)}`,
  }));
}

export function formatReason(reason: Reason): string {
  return reason.path ? `${reason.path}: ${reason.message}` : reason.message;
}

/**
 * Zod issues as one line, `path: message; path: message`, for errors about a whole document (a
 * request body, a settings file) rather than a payload's reasons. `whole` names the document's root.
 */
export function issuesText(issues: readonly z.core.$ZodIssue[], whole = '(root)'): string {
  return issues.map((issue) => `${issue.path.join('.') || whole}: ${issue.message}`).join('; ');
}
