import { describe, expect, it } from 'vitest';
import {
  approve,
  emptyRegistry,
  registerCandidate,
  reject,
  RegistryRefusal,
  rollback,
  type ModelRegistry,
} from '../../core/model/registry.ts';
import { PermissionDenied, type Actor } from '../../core/operators/actor.ts';

const ROSA: Actor = { name: 'rosa', role: 'ml-engineer' };
const DANA: Actor = { name: 'dana', role: 'reliability-engineer' };
const OLU: Actor = { name: 'olu', role: 'operator' };

function candidate(version: string, trainedBy: Actor = ROSA) {
  return {
    version,
    trainedBy,
    trainedAt: 1000,
    trainingData: 'local store, 7 days',
    parameters: { smoothingWindow: 60 },
    metrics: { normalFlaggedShare: 0.01 },
    card: { intendedUse: 'pump anomalies', inputs: ['flowRate'], knownLimits: ['no cavitation seen'] },
  };
}

/** A registry with v1 live and v2 pending. */
function withTwo(): ModelRegistry {
  let registry = registerCandidate(emptyRegistry('pump-maintenance'), candidate('v1')).registry;
  registry = approve(registry, 'v1', DANA, 'first model', 2000).registry;
  return registerCandidate(registry, candidate('v2')).registry;
}

describe('model registry', () => {
  it('GIVEN a candidate WHEN the person who trained it approves it THEN it is refused: four eyes', () => {
    expect(() => approve(withTwo(), 'v2', { ...ROSA }, 'looks good', 3000)).toThrow(
      new RegistryRefusal('rosa trained v2 and may not also approve it: another person must (four eyes)'),
    );
  });

  it('GIVEN a candidate WHEN an operator approves it THEN the role may not', () => {
    expect(() => approve(withTwo(), 'v2', OLU, 'looks good', 3000)).toThrow(PermissionDenied);
  });

  it('GIVEN a candidate WHEN a second person approves it with a reason THEN it is live, the old one kept to go back to, and the audit events name them', () => {
    const { registry, events } = approve(withTwo(), 'v2', DANA, 'fewer false alarms on line 1', 3000);
    expect(registry.live).toBe('v2');
    expect(registry.liveHistory).toEqual(['v1', 'v2']);
    expect(registry.versions.map((v) => [v.version, v.status])).toEqual([
      ['v1', 'approved'],
      ['v2', 'approved'],
    ]);
    expect(events.map((e) => [e.kind, e.actor.name, e.reason, e.details.previous])).toEqual([
      ['model-approved', 'dana', 'fewer false alarms on line 1', 'v1'],
      ['model-deployed', 'dana', 'fewer false alarms on line 1', 'v1'],
    ]);
    expect(events[0]?.before).not.toBe(events[0]?.after);
  });

  it('GIVEN a live version WHEN it is rolled back THEN the one before scores again and it is marked rolled back; with nothing before, it is refused', () => {
    const approved = approve(withTwo(), 'v2', DANA, 'ok', 3000).registry;
    const { registry, event } = rollback(approved, DANA, 'alerts doubled overnight', 4000);
    expect(registry.live).toBe('v1');
    expect(registry.versions.find((v) => v.version === 'v2')?.status).toBe('rolled-back');
    expect(event).toMatchObject({ kind: 'model-rolled-back', subject: 'model pump-maintenance v2' });
    expect(() => rollback(registry, DANA, 'again', 5000)).toThrow(
      'pump-maintenance has no earlier approved version to roll back to',
    );
  });

  it('GIVEN a candidate WHEN it is rejected THEN it can never be approved, and a decision needs a reason', () => {
    const { registry, event } = reject(withTwo(), 'v2', ROSA, 'trained on a bad week', 3000);
    expect(event.kind).toBe('model-rejected');
    expect(() => approve(registry, 'v2', DANA, 'ok', 4000)).toThrow(
      'v2 is rejected: only a pending version can be approved',
    );
    expect(() => reject(withTwo(), 'v2', DANA, '  ', 3000)).toThrow('give a reason');
    expect(() => approve(withTwo(), 'v9', DANA, 'ok', 3000)).toThrow(
      'pump-maintenance has no model version "v9" (versions: v1, v2)',
    );
    expect(() => registerCandidate(withTwo(), candidate('v2'))).toThrow('already has a model version "v2"');
  });
});
