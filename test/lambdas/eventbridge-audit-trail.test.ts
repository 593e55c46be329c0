import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../core/audit/audit-event.ts';
import { EventBridgeAuditTrail } from '../../lambdas/adapters/eventbridge-audit-trail.ts';

const events = mockClient(EventBridgeClient);
const trail = new EventBridgeAuditTrail(new EventBridgeClient({}), 'app-bus');
const change: AuditEvent = {
  kind: 'alert-verdict',
  actor: { name: 'olu', role: 'operator' },
  at: Date.parse('2026-11-30T08:00:00Z'),
  useCase: 'pump-maintenance',
  subject: 'alert a-1 (pump-001)',
  before: 'a'.repeat(64),
  after: 'b'.repeat(64),
  reason: 'false positive: sensor-fault',
  details: { action: 'false-positive' },
};

beforeEach(() => events.reset());
afterAll(() => {
  events.restore();
});

describe('EventBridgeAuditTrail', () => {
  it('GIVEN a change THEN it is one Audit Event from aiot.audit on the bus, at the time of the change', async () => {
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    await trail.record(change);
    const [entry] = events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries ?? [];
    expect(entry).toMatchObject({ EventBusName: 'app-bus', Source: 'aiot.audit', DetailType: 'Audit Event' });
    expect(entry?.Time).toEqual(new Date(change.at));
    expect(JSON.parse(entry?.Detail ?? '{}')).toEqual(change);
  });

  it('GIVEN the bus refuses the event THEN recording fails with its reason, so the caller knows it is not kept', async () => {
    events.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });
    await expect(trail.record(change)).rejects.toThrow(
      'EventBridge refused the audit event (InternalFailure: try again); the change was made but is not recorded',
    );
  });
});
