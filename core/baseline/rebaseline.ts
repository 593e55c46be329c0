import { requirePermission, type Actor, type Permission } from '../operators/actor.ts';
import type { BaselineState, BaselineStore, CalibrationReason } from './ports.ts';

export type RebaselineReason = Exclude<CalibrationReason, 'commissioning' | 'model-changed'>;

/** Who may start each kind of recalibration. */
const PERMISSION_FOR: Readonly<Record<RebaselineReason, Permission>> = {
  // An engineer's decision that the device's normal has changed.
  requested: 'rebaseline',
  // An operator's verdict on an alert: "this is the new normal".
  'new-normal': 'answer-alerts',
  // The end of a maintenance window, which engineers set.
  maintenance: 'silence',
};

export interface RebaselineRequest {
  readonly useCase: string;
  readonly deviceId: string;
  readonly reason: RebaselineReason;
  /** Why, in words: kept with the baseline it produces. */
  readonly note: string;
  readonly actor: Actor;
  /** When the request is made. */
  readonly at: number;
  /** Readings from this time on calibrate the new baseline. @default the readings that arrive next */
  readonly since?: number;
}

/**
 * Starts a new calibration of a device: from `at` on its readings calibrate the next baseline
 * version and raise no alerts; the current baseline stays on record. Throws PermissionDenied for a
 * role that may not, and an error for an empty note.
 */
export async function requestCalibration(
  store: BaselineStore,
  request: RebaselineRequest,
  maxConflicts = 5,
): Promise<BaselineState> {
  requirePermission(request.actor, PERMISSION_FOR[request.reason]);
  if (request.note.trim() === '') throw new Error('a re-baseline needs a reason in words (note)');
  for (let attempt = 1; attempt <= maxConflicts; attempt++) {
    const stored = await store.get(request.useCase, request.deviceId);
    const next: BaselineState = {
      useCase: request.useCase,
      deviceId: request.deviceId,
      ...stored,
      revision: (stored?.revision ?? 0) + 1,
      calibration: {
        since: request.since ?? null,
        reason: request.reason,
        note: request.note.trim(),
        requestedBy: request.actor,
        requestedAt: request.at,
        collected: 0,
      },
    };
    if (await store.save(next)) return next;
  }
  throw new Error(
    `device ${request.useCase}/${request.deviceId}: baseline state changed under ${maxConflicts} attempts in a row`,
  );
}
