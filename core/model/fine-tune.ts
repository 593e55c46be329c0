import { z } from 'zod';

/**
 * When operators' "false positive" answers start a new candidate model by themselves: after a
 * few of them, or a day after the first, so one busy shift does not train ten candidates and one
 * lone answer still counts. The candidate is only registered: a person approves it (four eyes).
 */
export const fineTuneSchema = z.strictObject({
  /** Start once this many false-positive verdicts arrived since the last candidate. @default 3 */
  afterVerdicts: z.int().min(1).max(1000).default(3),
  /** Or once the oldest of them has waited this long. @default 24 */
  orAfterHours: z
    .number()
    .positive()
    .max(24 * 90)
    .default(24),
  /** Days of recent readings the candidate learns from. @default 7 */
  days: z.int().min(1).max(365).default(7),
  /** Off: verdicts are kept, and `aiot model retrain` starts a candidate by hand. @default true */
  enabled: z.boolean().default(true),
});

export type FineTunePolicy = z.output<typeof fineTuneSchema>;
export const DEFAULT_FINE_TUNE: FineTunePolicy = fineTuneSchema.parse({});

/** Whether a candidate is due, and why in words for the audit trail; `undefined` when not. */
export function fineTuneDue(
  verdictTimes: readonly number[],
  now: number,
  policy: FineTunePolicy,
): string | undefined {
  if (!policy.enabled || verdictTimes.length === 0) return undefined;
  const plural = verdictTimes.length === 1 ? '' : 's';
  if (verdictTimes.length >= policy.afterVerdicts)
    return `fine-tuned by itself after ${verdictTimes.length} false-positive verdict${plural} since the last candidate`;
  const oldest = Math.min(...verdictTimes);
  if (now - oldest >= policy.orAfterHours * 3600_000)
    return `fine-tuned by itself: ${verdictTimes.length} false-positive verdict${plural} waited ${policy.orAfterHours} h`;
  return undefined;
}

/**
 * The cloud's fine-tuning jobs of a use case are named `<use case>-ft-<UTC time>`: the prefix finds
 * the last one, and the roles are granted on it. SageMaker allows 63 characters in the name.
 */
export function fineTuneJobPrefix(useCase: string): string {
  return `${useCase.toLowerCase().slice(0, 40)}-ft-`;
}

export function fineTuneJobName(useCase: string, now: number): string {
  return `${fineTuneJobPrefix(useCase)}${new Date(now).toISOString().replace(/[-:T]/g, '').slice(0, 14)}`;
}
