import { z } from 'zod';
import { decisionSchema } from '../alerts/lifecycle.ts';

/**
 * What people send to change the system, as the local runtime's API and the cloud API take it.
 * The bodies never name who sends them: the adapter knows (locally whoever runs the CLI or the
 * console, in the cloud the token's user and group), never what a browser claims.
 */
const epochMs = z.union([
  z.int().min(0),
  z.iso.datetime({ offset: true }).transform((text) => Date.parse(text)),
]);

export const decisionRequestSchema = z.strictObject({ decision: decisionSchema });

export const rebaselineRequestSchema = z.strictObject({
  note: z.string().trim().min(1, 'say why: a re-baseline needs a reason').max(2000),
});

export const silenceRequestSchema = z.strictObject({
  useCase: z.string().min(1).max(64),
  scope: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('device'), deviceId: z.string().min(1).max(128) }),
    z.strictObject({ kind: z.literal('group'), group: z.string().min(1).max(64) }),
    z.strictObject({ kind: z.literal('use-case') }),
  ]),
  kind: z.enum(['silence', 'maintenance']).default('silence'),
  from: epochMs,
  to: epochMs,
  reason: z.string().trim().min(1, 'say why: a silence needs a reason').max(2000),
});

export type SilenceRequest = z.output<typeof silenceRequestSchema>;

export const acceptRecommendationSchema = z.strictObject({
  useCase: z.string().min(1).max(64),
  /** The recommendation's id as the report lists it: `<rule>/<device>`. */
  id: z.string().min(1).max(200),
  note: z.string().trim().max(2000).default(''),
});
