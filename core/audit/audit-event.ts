import { createHash } from 'node:crypto';
import { z } from 'zod';
import { actorSchema, type Actor } from '../operators/actor.ts';

/** Where the cloud's audit events come from on the application's bus, which archives them. */
export const AUDIT_EVENT_SOURCE = 'aiot.audit';
export const AUDIT_DETAIL_TYPE = 'Audit Event';

/** Every kind of change the audit trail records. */
export const AUDIT_KINDS = [
  'manifest-applied',
  'contract-applied',
  'model-trained',
  'fine-tune-started',
  'fine-tune-failed',
  'model-approved',
  'model-rejected',
  'model-deployed',
  'model-rolled-back',
  'alert-policy-changed',
  'silence-set',
  'device-rebaselined',
  'alert-verdict',
  'recommendation-accepted',
] as const;

export type AuditKind = (typeof AUDIT_KINDS)[number];

/** One change: who, in which role, when, to what, the state before and after (digests), and why. */
export interface AuditEvent {
  readonly kind: AuditKind;
  readonly actor: Actor;
  /** Epoch milliseconds. */
  readonly at: number;
  readonly useCase: string | null;
  /** What changed, e.g. `alert a-17`, `device pump-001`, `model pump-maintenance v3`. */
  readonly subject: string;
  /** SHA-256 of the state before the change (canonical JSON), or null where there was none. */
  readonly before: string | null;
  /** SHA-256 of the state after it. */
  readonly after: string | null;
  readonly reason: string;
  /** A few facts people look for without the states: the verdict, the version, the silence's end. */
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
}

const digestSchema = z
  .string()
  .regex(/^[0-9a-f]{64}$/)
  .nullable();

/** An event as it is read back from a log: every field checked, nothing more. */
export const auditEventSchema = z.strictObject({
  kind: z.enum(AUDIT_KINDS),
  actor: actorSchema,
  at: z.int().min(0),
  useCase: z.string().max(63).nullable(),
  subject: z.string().min(1).max(200),
  before: digestSchema,
  after: digestSchema,
  reason: z.string().max(1000),
  details: z.record(z.string().max(64), z.union([z.string().max(500), z.number(), z.boolean(), z.null()])),
});

/** Where changes are recorded: an append-only log on one machine, the EventBridge bus in the cloud. */
export interface AuditTrail {
  /** Resolves once the event is kept (on disk, or accepted by the bus). */
  record(event: AuditEvent): Promise<void>;
}

/** JSON with keys in a fixed order, so equal values have equal digests whatever built them. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The digest of a state, for `before` and `after`; null for none. */
export function digestOf(state: unknown): string | null {
  return state === undefined || state === null ? null : sha256(canonicalJson(state));
}
