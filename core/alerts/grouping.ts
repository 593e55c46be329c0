import type { Alert } from './lifecycle.ts';
import type { GroupNotification, NotificationBatcher } from './ports.ts';

/**
 * Bundles the alerts of one group (a site, a line) opened close together into one notification:
 * a pump trip that upsets five pumps on a line pages once, not five times. The first alert of a
 * group starts its window; the notification goes out when the window ends.
 */
export class NotificationGrouper implements NotificationBatcher {
  private readonly pending = new Map<string, { first: number; alerts: Alert[] }>();

  constructor(private readonly windowMs: (useCase: string) => number) {}

  add(alert: Alert, at: number): Promise<void> {
    const key = `${alert.useCase}\u0000${alert.group}`;
    const entry = this.pending.get(key);
    if (entry?.alerts.some((held) => held.id === alert.id)) return Promise.resolve();
    if (entry) entry.alerts.push(alert);
    else this.pending.set(key, { first: at, alerts: [alert] });
    return Promise.resolve();
  }

  /** The notifications whose window has ended by `now` (all of them with `flushAll`). */
  due(now: number, flushAll = false): Promise<GroupNotification[]> {
    const ready: GroupNotification[] = [];
    for (const [key, entry] of this.pending) {
      const [useCase = '', group = ''] = key.split('\u0000');
      if (!flushAll && now - entry.first < this.windowMs(useCase)) continue;
      this.pending.delete(key);
      ready.push({ useCase, group, alerts: entry.alerts, at: now });
    }
    return Promise.resolve(ready);
  }

  get size(): number {
    return [...this.pending.values()].reduce((sum, entry) => sum + entry.alerts.length, 0);
  }
}
