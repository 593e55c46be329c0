import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { AlertNotFound, ConcurrentChange, type AlertService } from '../core/alerts/alert-service.ts';
import { ALERT_STATUSES, InvalidTransition, type AlertStatus } from '../core/alerts/lifecycle.ts';
import type { AlertStore } from '../core/alerts/ports.ts';
import type { BaselineState, BaselineStore } from '../core/baseline/ports.ts';
import { requestCalibration } from '../core/baseline/rebaseline.ts';
import type { Clock } from '../core/ingest/ports.ts';
import { issuesText } from '../core/contracts/reasons.ts';
import { PermissionDenied, requirePermission } from '../core/operators/actor.ts';
import {
  decisionRequestSchema,
  rebaselineRequestSchema,
  silenceRequestSchema,
} from '../core/operators/requests.ts';

/** What the runtime's API needs to answer operators: the alert service and the stores behind it. */
export interface RuntimeOperations {
  readonly alerts: AlertService;
  readonly alertStore: AlertStore;
  readonly baselines: BaselineStore;
  readonly useCases: readonly string[];
  readonly clock: Clock;
}

export interface OperationReply {
  readonly status: number;
  readonly body: unknown;
}

const MAX_LIST = 1000;

function invalid(error: z.ZodError): OperationReply {
  return {
    status: 400,
    body: { error: issuesText(error.issues, '(body)') },
  };
}

/** Maps the domain's refusals onto HTTP: who may not (403), what does not exist (404), what changed (409). */
function failure(error: unknown): OperationReply {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof PermissionDenied) return { status: 403, body: { error: message } };
  if (error instanceof AlertNotFound) return { status: 404, body: { error: message } };
  if (error instanceof InvalidTransition || error instanceof ConcurrentChange)
    return { status: 409, body: { error: message } };
  return { status: 400, body: { error: message } };
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return Symbol.for('invalid-json');
  }
}

/** A device's baseline state as people read it. */
export function deviceSummary(state: BaselineState) {
  return {
    useCase: state.useCase,
    deviceId: state.deviceId,
    state: state.calibration ? 'calibrating' : 'monitoring',
    baselineVersion: state.active?.version ?? null,
    baselineReason: state.active?.reason ?? null,
    activatedAt: state.active ? new Date(state.active.activatedAt).toISOString() : null,
    calibration: state.calibration
      ? {
          reason: state.calibration.reason,
          since:
            state.calibration.since === null
              ? 'next reading'
              : new Date(state.calibration.since).toISOString(),
          collected: state.calibration.collected,
          requestedBy: state.calibration.requestedBy,
          note: state.calibration.note,
        }
      : null,
  };
}

/**
 * The operator routes of the runtime API. Reads: `GET /alerts`, `GET /alerts/<id>`,
 * `GET /devices`, `GET /silences`. Decisions (JSON bodies naming their actor):
 * `POST /alerts/<id>/decisions`, `POST /devices/<use case>/<device>/rebaseline`, `POST /silences`.
 * Answers undefined for a path that is not one of them.
 */
export async function handleOperation(
  ops: RuntimeOperations,
  method: string,
  url: URL,
  body: string,
): Promise<OperationReply | undefined> {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const query = url.searchParams;
  try {
    if (method === 'GET' && parts.length === 1 && parts[0] === 'alerts') {
      const statuses = query.get('status')?.split(',').filter(Boolean);
      const unknown = statuses?.filter((s) => !(ALERT_STATUSES as readonly string[]).includes(s)) ?? [];
      if (unknown.length > 0) {
        return {
          status: 400,
          body: { error: `unknown status ${unknown.join(', ')} (${ALERT_STATUSES.join(', ')})` },
        };
      }
      const delivery = query.get('delivery');
      if (delivery !== null && delivery !== 'notify' && delivery !== 'digest') {
        return { status: 400, body: { error: `delivery must be notify or digest, got "${delivery}"` } };
      }
      const limit = Math.min(Number(query.get('limit') ?? 200) || 200, MAX_LIST);
      const alerts = await ops.alertStore.listAlerts({
        ...(query.get('use-case') ? { useCase: query.get('use-case') ?? '' } : {}),
        ...(query.get('device') ? { deviceId: query.get('device') ?? '' } : {}),
        ...(statuses ? { statuses: statuses as AlertStatus[] } : {}),
        ...(delivery ? { delivery } : {}),
        limit,
      });
      return { status: 200, body: { alerts } };
    }
    if (method === 'GET' && parts.length === 2 && parts[0] === 'alerts') {
      const alert = await ops.alertStore.getAlert(parts[1] ?? '');
      return alert
        ? { status: 200, body: alert }
        : { status: 404, body: { error: `no alert ${parts[1] ?? ''}` } };
    }
    if (method === 'POST' && parts.length === 3 && parts[0] === 'alerts' && parts[2] === 'decisions') {
      const parsed = decisionRequestSchema.safeParse(parseJson(body));
      if (!parsed.success) return invalid(parsed.error);
      const result = await ops.alerts.decide(parts[1] ?? '', parsed.data.decision, parsed.data.actor);
      return { status: 200, body: result };
    }
    if (method === 'GET' && parts.length === 1 && parts[0] === 'devices') {
      const states = await ops.baselines.list(query.get('use-case') ?? undefined);
      return { status: 200, body: { devices: states.map(deviceSummary) } };
    }
    if (method === 'POST' && parts.length === 4 && parts[0] === 'devices' && parts[3] === 'rebaseline') {
      const parsed = rebaselineRequestSchema.safeParse(parseJson(body));
      if (!parsed.success) return invalid(parsed.error);
      const [, useCase = '', deviceId = ''] = parts;
      if (!ops.useCases.includes(useCase)) {
        return { status: 404, body: { error: `unknown use case "${useCase}" (${ops.useCases.join(', ')})` } };
      }
      const state = await requestCalibration(ops.baselines, {
        useCase,
        deviceId,
        reason: 'requested',
        note: parsed.data.note,
        actor: parsed.data.actor,
        at: ops.clock.now(),
      });
      return { status: 200, body: deviceSummary(state) };
    }
    if (method === 'GET' && parts.length === 1 && parts[0] === 'silences') {
      const useCases = query.get('use-case') ? [query.get('use-case') ?? ''] : ops.useCases;
      const silences = (
        await Promise.all(useCases.map((useCase) => ops.alertStore.silences(useCase)))
      ).flat();
      return { status: 200, body: { silences } };
    }
    if (method === 'POST' && parts.length === 1 && parts[0] === 'silences') {
      const parsed = silenceRequestSchema.safeParse(parseJson(body));
      if (!parsed.success) return invalid(parsed.error);
      const { actor, ...silence } = parsed.data;
      requirePermission(actor, 'silence');
      if (!ops.useCases.includes(silence.useCase)) {
        return {
          status: 404,
          body: { error: `unknown use case "${silence.useCase}" (${ops.useCases.join(', ')})` },
        };
      }
      const created = await ops.alerts.addSilence(silence, actor, `sil-${randomUUID()}`);
      return { status: 201, body: created };
    }
  } catch (error) {
    return failure(error);
  }
  return undefined;
}
