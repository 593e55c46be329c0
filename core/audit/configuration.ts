import type { DataContract } from '../contracts/contract.ts';
import type { Actor } from '../operators/actor.ts';
import { manifestDocument, type UseCaseManifest } from '../usecase/manifest.ts';
import { digestOf, type AuditEvent } from './audit-event.ts';

/**
 * The manifests and contracts a start applies that differ from what the trail last recorded for
 * them (or that it never recorded): one `manifest-applied` or `contract-applied` event each, and
 * `alert-policy-changed` when a manifest's alert policy is new or changed, with the digests before
 * and after. A restart with the same files records nothing.
 */
export function configurationChanges(
  recorded: readonly AuditEvent[],
  applied: { useCases: readonly UseCaseManifest[]; contracts: readonly DataContract[] },
  actor: Actor,
  at: number,
  reason: string,
): AuditEvent[] {
  const last = new Map<string, string | null>();
  for (const e of recorded) {
    if (e.kind === 'manifest-applied' || e.kind === 'contract-applied' || e.kind === 'alert-policy-changed') {
      last.set(e.subject, e.after);
    }
  }
  const changes: AuditEvent[] = [];
  const consider = (
    kind: 'manifest-applied' | 'contract-applied' | 'alert-policy-changed',
    subject: string,
    useCase: string | null,
    state: unknown,
  ) => {
    const after = digestOf(state);
    const before = last.get(subject) ?? null;
    if (before === after) return;
    changes.push({ kind, actor, at, useCase, subject, before, after, reason, details: {} });
  };
  for (const contract of applied.contracts) {
    consider('contract-applied', `contract ${contract.ref}`, null, contract.document);
  }
  for (const manifest of applied.useCases) {
    consider('manifest-applied', `manifest ${manifest.id}`, manifest.id, manifestDocument(manifest));
    // When people are interrupted is its own question in an audit: its change is named as such.
    consider('alert-policy-changed', `alert policy ${manifest.id}`, manifest.id, manifest.alerts);
  }
  return changes;
}
