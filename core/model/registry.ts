import { z } from 'zod';
import { digestOf, type AuditEvent } from '../audit/audit-event.ts';
import { actorSchema, requirePermission, type Actor } from '../operators/actor.ts';

/**
 * A model version's lifecycle. `pending`: trained, waiting for a person. `approved`: live now, or
 * live before (the rollback targets). `rejected`: never goes live. `rolled-back`: was live, taken
 * back.
 */
export const MODEL_STATUSES = ['pending', 'approved', 'rejected', 'rolled-back'] as const;

const reasonSchema = z.string().trim().min(1, 'give a reason').max(500);

/** What the model is for and what it is not: shown to whoever approves it. */
export const modelCardSchema = z.strictObject({
  intendedUse: z.string().min(1).max(1000),
  inputs: z.array(z.string().min(1)).min(1),
  knownLimits: z.array(z.string().min(1).max(500)),
});

const decisionSchema = z.strictObject({
  action: z.enum(['approve', 'reject', 'rollback']),
  actor: actorSchema,
  at: z.int().min(0),
  reason: reasonSchema,
});

export const modelVersionSchema = z.strictObject({
  version: z.string().min(1).max(128),
  status: z.enum(MODEL_STATUSES),
  trainedBy: actorSchema,
  trainedAt: z.int().min(0),
  /** Where the training data came from, e.g. `local store, pump-maintenance, 7 days to 2026-11-30`. */
  trainingData: z.string().min(1).max(500),
  parameters: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  /** The comparison that came with it: feedback scores, the SKAB replay. */
  metrics: z.record(z.string(), z.union([z.number(), z.string()])),
  card: modelCardSchema,
  decisions: z.array(decisionSchema),
});

export const registrySchema = z.strictObject({
  useCase: z.string().min(1),
  /** The version that scores now. */
  live: z.string().nullable(),
  /** Every version that was live, oldest first: what a rollback goes back along. */
  liveHistory: z.array(z.string()),
  versions: z.array(modelVersionSchema),
});

export type ModelVersion = z.output<typeof modelVersionSchema>;
export type ModelRegistry = z.output<typeof registrySchema>;

/** A registry change that breaks the lifecycle's rules: four eyes, a version's state. */
export class RegistryRefusal extends Error {
  override readonly name = 'RegistryRefusal';
}

export function emptyRegistry(useCase: string): ModelRegistry {
  return { useCase, live: null, liveHistory: [], versions: [] };
}

function find(registry: ModelRegistry, version: string): ModelVersion {
  const found = registry.versions.find((v) => v.version === version);
  if (!found) {
    throw new RegistryRefusal(
      `${registry.useCase} has no model version "${version}" (versions: ${registry.versions.map((v) => v.version).join(', ') || 'none'})`,
    );
  }
  return found;
}

/** Who decides and why, checked: the decider's role may manage models, and a reason is given. */
function decision(actor: Actor, reasonText: string): string {
  requirePermission(actor, 'manage-models');
  return reasonSchema.parse(reasonText);
}

/** The version a decision is about, which must still be pending. */
function pending(registry: ModelRegistry, version: string, verb: string): ModelVersion {
  const candidate = find(registry, version);
  if (candidate.status !== 'pending') {
    throw new RegistryRefusal(`${version} is ${candidate.status}: only a pending version can be ${verb}`);
  }
  return candidate;
}

function replace(registry: ModelRegistry, version: ModelVersion): ModelVersion[] {
  return registry.versions.map((v) => (v.version === version.version ? version : v));
}

function modelEvent(
  kind: AuditEvent['kind'],
  registry: ModelRegistry,
  before: ModelRegistry,
  version: string,
  actor: Actor,
  at: number,
  reason: string,
  details: AuditEvent['details'] = {},
): AuditEvent {
  return {
    kind,
    actor,
    at,
    useCase: registry.useCase,
    subject: `model ${registry.useCase} ${version}`,
    before: digestOf(before),
    after: digestOf(registry),
    reason,
    details: { live: registry.live, ...details },
  };
}

/** A trained version, waiting for a person's approval. */
export function registerCandidate(
  registry: ModelRegistry,
  candidate: Omit<ModelVersion, 'status' | 'decisions'>,
  reason = 'trained as a candidate',
): { registry: ModelRegistry; event: AuditEvent } {
  if (registry.versions.some((v) => v.version === candidate.version)) {
    throw new RegistryRefusal(`${registry.useCase} already has a model version "${candidate.version}"`);
  }
  const next = {
    ...registry,
    versions: [...registry.versions, { ...candidate, status: 'pending' as const, decisions: [] }],
  };
  return {
    registry: next,
    event: modelEvent(
      'model-trained',
      next,
      registry,
      candidate.version,
      candidate.trainedBy,
      candidate.trainedAt,
      reason,
      {
        trainingData: candidate.trainingData,
      },
    ),
  };
}

/**
 * A pending version goes live. Four eyes: the person who trained it may not approve it. The
 * version that was live stays approved, the one a rollback returns to.
 */
export function approve(
  registry: ModelRegistry,
  version: string,
  actor: Actor,
  reasonText: string,
  at: number,
): { registry: ModelRegistry; events: AuditEvent[] } {
  const reason = decision(actor, reasonText);
  const candidate = pending(registry, version, 'approved');
  if (candidate.trainedBy.name === actor.name) {
    throw new RegistryRefusal(
      `${actor.name} trained ${version} and may not also approve it: another person must (four eyes)`,
    );
  }
  const approved: ModelVersion = {
    ...candidate,
    status: 'approved',
    decisions: [...candidate.decisions, { action: 'approve', actor, at, reason }],
  };
  const next: ModelRegistry = {
    ...registry,
    live: version,
    liveHistory: [...registry.liveHistory, version],
    versions: replace(registry, approved),
  };
  return {
    registry: next,
    events: [
      modelEvent('model-approved', next, registry, version, actor, at, reason, { previous: registry.live }),
      modelEvent('model-deployed', next, registry, version, actor, at, reason, { previous: registry.live }),
    ],
  };
}

/** A pending version will never go live. */
export function reject(
  registry: ModelRegistry,
  version: string,
  actor: Actor,
  reasonText: string,
  at: number,
): { registry: ModelRegistry; event: AuditEvent } {
  const reason = decision(actor, reasonText);
  const candidate = pending(registry, version, 'rejected');
  const next: ModelRegistry = {
    ...registry,
    versions: replace(registry, {
      ...candidate,
      status: 'rejected',
      decisions: [...candidate.decisions, { action: 'reject', actor, at, reason }],
    }),
  };
  return { registry: next, event: modelEvent('model-rejected', next, registry, version, actor, at, reason) };
}

/** The live version is taken back; the one live before it scores again. */
export function rollback(
  registry: ModelRegistry,
  actor: Actor,
  reasonText: string,
  at: number,
): { registry: ModelRegistry; event: AuditEvent } {
  const reason = decision(actor, reasonText);
  const live = registry.live;
  // The last version live before this one that was not itself rolled back.
  const previous = [...registry.liveHistory]
    .reverse()
    .find((v) => v !== live && registry.versions.find((x) => x.version === v)?.status === 'approved');
  if (!live || !previous) {
    throw new RegistryRefusal(`${registry.useCase} has no earlier approved version to roll back to`);
  }
  const current = find(registry, live);
  const next: ModelRegistry = {
    ...registry,
    live: previous,
    liveHistory: [...registry.liveHistory, previous],
    versions: replace(registry, {
      ...current,
      status: 'rolled-back',
      decisions: [...current.decisions, { action: 'rollback', actor, at, reason }],
    }),
  };
  return {
    registry: next,
    event: modelEvent('model-rolled-back', next, registry, live, actor, at, reason, { restored: previous }),
  };
}
