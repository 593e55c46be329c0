import type { Alert } from './lifecycle.ts';
import type {
  AlertFilter,
  AlertStore,
  FeedbackRecord,
  ShiftCaps,
  Silence,
  StoredTrack,
  Suppression,
} from './ports.ts';

/** The alert store's rules held in memory: for replays (`aiot alerts replay`) and tests. */
export class InMemoryAlertStore implements AlertStore {
  readonly tracks = new Map<string, StoredTrack>();
  readonly alerts = new Map<string, Alert>();
  readonly silenceList: Silence[] = [];
  readonly suppressions: Suppression[] = [];
  readonly feedbackList: FeedbackRecord[] = [];

  getTrack(useCase: string, deviceId: string, inference: string): Promise<StoredTrack | undefined> {
    return Promise.resolve(this.tracks.get(`${useCase}/${deviceId}/${inference}`));
  }

  saveTrack(track: StoredTrack): Promise<boolean> {
    const key = `${track.useCase}/${track.deviceId}/${track.inference}`;
    if ((this.tracks.get(key)?.revision ?? 0) !== track.revision - 1) return Promise.resolve(false);
    this.tracks.set(key, track);
    return Promise.resolve(true);
  }

  openAlert(alert: Alert, caps: ShiftCaps): Promise<'notify' | 'digest'> {
    const existing = this.alerts.get(alert.id);
    if (existing) return Promise.resolve(existing.delivery);
    const shift = [...this.alerts.values()].filter(
      (a) => a.useCase === alert.useCase && a.delivery === 'notify' && a.openedAt >= caps.shiftStart,
    );
    const delivery =
      shift.length >= caps.perUseCase ||
      shift.filter((a) => a.deviceId === alert.deviceId).length >= caps.perDevice
        ? 'digest'
        : 'notify';
    this.alerts.set(alert.id, { ...alert, delivery });
    return Promise.resolve(delivery);
  }

  getAlert(id: string): Promise<Alert | undefined> {
    return Promise.resolve(this.alerts.get(id));
  }

  replaceAlert(alert: Alert, expectedHistory: number): Promise<boolean> {
    if (this.alerts.get(alert.id)?.history.length !== expectedHistory) return Promise.resolve(false);
    this.alerts.set(alert.id, alert);
    return Promise.resolve(true);
  }

  listAlerts(filter: AlertFilter): Promise<Alert[]> {
    return Promise.resolve(
      [...this.alerts.values()]
        .filter(
          (a) =>
            (!filter.useCase || a.useCase === filter.useCase) &&
            (!filter.deviceId || a.deviceId === filter.deviceId) &&
            (!filter.statuses || filter.statuses.includes(a.status)) &&
            (!filter.delivery || a.delivery === filter.delivery) &&
            (filter.since === undefined || a.openedAt >= filter.since),
        )
        .sort((a, b) => b.openedAt - a.openedAt)
        .slice(0, filter.limit ?? Number.POSITIVE_INFINITY),
    );
  }

  addSilence(silence: Silence): Promise<void> {
    this.silenceList.push(silence);
    return Promise.resolve();
  }

  silences(useCase: string, at?: number): Promise<Silence[]> {
    return Promise.resolve(
      this.silenceList.filter(
        (s) => s.useCase === useCase && (at === undefined ? true : s.from <= at && at < s.to),
      ),
    );
  }

  recordSuppression(suppression: Suppression): Promise<void> {
    this.suppressions.push(suppression);
    return Promise.resolve();
  }

  recordFeedback(feedback: FeedbackRecord): Promise<void> {
    this.feedbackList.push(feedback);
    return Promise.resolve();
  }

  feedback(useCase: string, since = 0): Promise<FeedbackRecord[]> {
    return Promise.resolve(this.feedbackList.filter((f) => f.useCase === useCase && f.at >= since));
  }
}
