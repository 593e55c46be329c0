import { digestOf } from '../audit/audit-event.ts';
import type { Decision } from '../alerts/lifecycle.ts';
import { requestCalibration } from '../baseline/rebaseline.ts';
import type { UseCaseManifest } from '../usecase/manifest.ts';
import { requirePermission } from './actor.ts';
import {
  changer,
  ok,
  parsed,
  type OperatorApiDeps,
  type OperatorReply,
  type OperatorRequest,
} from './protocol.ts';
import { recentOpportunities } from '../kpi/mv/opportunities.ts';
import {
  acceptRecommendationSchema,
  decisionRequestSchema,
  rebaselineRequestSchema,
  silenceRequestSchema,
} from './requests.ts';
import { deviceSummary } from './views.ts';

/*
 * The changes people make through the operators' API: each is typed, made in the name of who
 * asked (who must be signed in and allowed), and recorded on the audit trail with what it changed.
 */

/** `POST /alerts/<id>/decisions`: an operator's answer to an alert. */
export async function decideAlert(
  deps: OperatorApiDeps,
  id: string,
  request: OperatorRequest,
): Promise<OperatorReply> {
  const actor = changer(request);
  const { decision } = parsed(decisionRequestSchema, request.body);
  const before = await deps.alertStore.getAlert(id);
  const result = await deps.alerts.decide(id, decision, actor);
  await deps.audit.record({
    kind: 'alert-verdict',
    actor,
    at: deps.clock.now(),
    useCase: result.alert.useCase,
    subject: `alert ${id} (${result.alert.deviceId})`,
    before: digestOf(before),
    after: digestOf(result.alert),
    reason: decisionReason(decision),
    details: { action: decision.action, status: result.alert.status },
  });
  return ok(result);
}

/** `POST /devices/<use case>/<device>/rebaseline`: a new calibration, with the reason. */
export async function rebaselineDevice(
  deps: OperatorApiDeps,
  manifest: UseCaseManifest,
  deviceId: string,
  request: OperatorRequest,
): Promise<OperatorReply> {
  const actor = changer(request);
  const { note } = parsed(rebaselineRequestSchema, request.body);
  const before = await deps.baselines.get(manifest.id, deviceId);
  const state = await requestCalibration(deps.baselines, {
    useCase: manifest.id,
    deviceId,
    reason: 'requested',
    note,
    actor,
    at: deps.clock.now(),
  });
  await deps.audit.record({
    kind: 'device-rebaselined',
    actor,
    at: deps.clock.now(),
    useCase: manifest.id,
    subject: `device ${deviceId}`,
    before: digestOf(before),
    after: digestOf(state),
    reason: note,
    details: { revision: state.revision, calibrating: state.calibration !== undefined },
  });
  return ok(deviceSummary(state));
}

/** `POST /silences`: a silence or maintenance window of a device, group or use case. */
export async function setSilence(
  deps: OperatorApiDeps,
  request: OperatorRequest,
  manifestOf: (id: string) => UseCaseManifest,
): Promise<OperatorReply> {
  const actor = changer(request);
  const silence = parsed(silenceRequestSchema, request.body);
  requirePermission(actor, 'silence');
  manifestOf(silence.useCase);
  const created = await deps.alerts.addSilence(silence, actor, `sil-${deps.newId()}`);
  await deps.audit.record({
    kind: 'silence-set',
    actor,
    at: created.createdAt,
    useCase: created.useCase,
    subject: `${created.kind} ${created.id}`,
    before: null,
    after: digestOf(created),
    reason: created.reason,
    details: {
      scope: JSON.stringify(created.scope),
      from: new Date(created.from).toISOString(),
      to: new Date(created.to).toISOString(),
    },
  });
  return { status: 201, body: created };
}

/**
 * A supervisory recommendation accepted: it must be one the data supports now (the last two weeks),
 * and the audit trail keeps who accepted it with its estimate. Applying it is the plant's change;
 * the KPI's M&V measures what it saved.
 */
export async function acceptRecommendation(
  deps: OperatorApiDeps,
  request: OperatorRequest,
  manifestOf: (id: string) => UseCaseManifest,
): Promise<OperatorReply> {
  const actor = changer(request);
  const body = parsed(acceptRecommendationSchema, request.body);
  requirePermission(actor, 'accept-recommendations');
  const manifest = manifestOf(body.useCase);
  const spec = manifest.opportunities;
  if (!spec || !deps.kpiReads)
    return { status: 404, body: { error: `${manifest.id} has no recommendations to accept here` } };
  const at = deps.clock.now();
  const current = await recentOpportunities(manifest.id, spec, deps.kpiReads(manifest), at);
  const found = current.find((opportunity) => opportunity.id === body.id);
  if (!found)
    return {
      status: 404,
      body: {
        error: `no current recommendation "${body.id}" for ${manifest.id} (current: ${current.map((o) => o.id).join(', ') || 'none'})`,
      },
    };
  await deps.audit.record({
    kind: 'recommendation-accepted',
    actor,
    at,
    useCase: manifest.id,
    subject: `recommendation ${found.id}`,
    before: null,
    after: digestOf(found),
    reason: body.note || found.recommendation,
    details: {
      device: found.deviceId,
      rule: found.rule,
      finding: found.finding,
      kwhPerYear: found.kwhPerYear,
      costPerYear: found.costPerYear,
    },
  });
  return { status: 201, body: { accepted: found, by: actor, at } };
}

/** What an operator said of an alert, in words for the audit trail. */
function decisionReason(decision: Decision): string {
  switch (decision.action) {
    case 'false-positive':
      return `false positive: ${decision.reason}${decision.note ? ` (${decision.note})` : ''}`;
    case 'confirm':
      return `confirmed: ${decision.failureMode}${decision.workOrder ? `, work order ${decision.workOrder}` : ''}${decision.note ? ` (${decision.note})` : ''}`;
    case 'undo':
      return 'undone within the undo window';
    default:
      return decision.note || decision.action;
  }
}
