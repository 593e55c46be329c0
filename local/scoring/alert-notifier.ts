import type { AlertEventNotice, AlertNotifier, GroupNotification } from '../../core/alerts/ports.ts';
import type { DuckDbAlertStore } from '../store/duckdb-alert-store.ts';

/**
 * The local stand-in for the EventBridge bus and the SNS topic: machine events go to the
 * `alert_events` table (what the console's live feed reads), notifications to people go to the
 * runtime's output.
 */
export class LocalAlertNotifier implements AlertNotifier {
  constructor(
    private readonly store: DuckDbAlertStore,
    private readonly onNotification: ((notification: GroupNotification) => void) | undefined,
  ) {}

  publish(events: readonly AlertEventNotice[]): Promise<void> {
    return this.store.recordEvents(events);
  }

  notify(notification: GroupNotification): Promise<void> {
    this.onNotification?.(notification);
    return Promise.resolve();
  }
}
