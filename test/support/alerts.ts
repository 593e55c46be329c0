import { newAlert, type Alert } from '../../core/alerts/lifecycle.ts';
import { SYSTEM } from '../../core/operators/actor.ts';

/** A new, notified major alert on `flowRate`, opened at `openedAt` after 30 s of anomaly. */
export function openAlert(
  where: { useCase: string; deviceId: string; inference: string; group: string },
  openedAt: number,
  alertId = `${where.useCase}:${where.deviceId}:${where.inference}:${new Date(openedAt).toISOString()}`,
): Alert {
  return newAlert(
    {
      alertId,
      openedAt,
      firstAnomalyAt: openedAt - 29_000,
      lastAnomalyAt: openedAt,
      peakScore: 20,
      peakRatio: 2,
      threshold: 10,
      contributors: [{ sensor: 'flowRate', share: 0.7 }],
      severity: 'major',
      baselineVersion: 1,
      modelVersion: 'm1',
    },
    where,
    'notify',
    SYSTEM,
  );
}
