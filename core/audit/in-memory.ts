import type { AuditEvent, AuditTrail } from './audit-event.ts';

/** Keeps the events in memory: for tests and benchmarks of what records changes. */
export class CollectingAuditTrail implements AuditTrail {
  readonly events: AuditEvent[] = [];

  record(event: AuditEvent): Promise<void> {
    this.events.push(event);
    return Promise.resolve();
  }
}
