import type { z } from 'zod';
import {
  AlertNotFound,
  ConcurrentChange,
  InvalidSilence,
  type AlertService,
} from '../alerts/alert-service.ts';
import {
  ALERT_STATUSES,
  FALSE_POSITIVE_REASONS,
  InvalidTransition,
  type Alert,
  type AlertStatus,
} from '../alerts/lifecycle.ts';
import type { AlertFilter, AlertStore } from '../alerts/ports.ts';
import type { BaselineState, BaselineStore } from '../baseline/ports.ts';
import { requestCalibration } from '../baseline/rebaseline.ts';
import { issuesText } from '../contracts/reasons.ts';
import type { ContractRegistry } from '../contracts/registry.ts';
import { digestOf, type AuditTrail } from '../audit/audit-event.ts';
import type { Decision } from '../alerts/lifecycle.ts';
import type { Clock } from '../ingest/ports.ts';
import type { UseCaseManifest } from '../usecase/manifest.ts';
import { PermissionDenied, permissionsOf, requirePermission, type Actor } from './actor.ts';
import type { OperatorReads, SensorColumn } from './ports.ts';
import { decisionRequestSchema, rebaselineRequestSchema, silenceRequestSchema } from './requests.ts';
import { topContributors } from '../alerts/contributors.ts';
import { bucketFor, deviceSummary, fleetView, silenceCovers, useCaseSummary } from './views.ts';
import type { KeptKpiDays } from '../kpi/schedule.ts';

/** What the operators' API needs: the alert service, the stores behind it and the reads for people. */
export interface OperatorApiDeps {
  readonly alerts: AlertService;
  readonly alertStore: AlertStore;
  readonly baselines: BaselineStore;
  readonly reads: OperatorReads;
  readonly useCases: readonly UseCaseManifest[];
  /** The contracts the use cases speak, to find each sensor's store column. */
  readonly contracts: ContractRegistry;
  readonly clock: Clock;
  /** Ids of new silences. */
  readonly newId: () => string;
  /** Where every change people make here is recorded: verdicts, silences, re-baselines. */
  readonly audit: AuditTrail;
  /** The KPI days the schedule kept, for the use-case page. @default none: no KPI values shown */
  readonly kpis?: KeptKpiDays;
}

export interface OperatorRequest {
  readonly method: string;
  /** The route without any prefix the adapter serves it under, such as `/alerts/a-1/decisions`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string | undefined>>;
  /** The request body as sent: JSON for changes, empty for reads. */
  readonly body: string;
  /**
   * Who asks, as the adapter established it (the token's user and group in the cloud, the local
   * user of the CLI or console). Only local programs on loopback may read without one; every
   * change needs one.
   */
  readonly actor: Actor | undefined;
}

export interface OperatorReply {
  readonly status: number;
  readonly body: unknown;
}

export const OPERATOR_ROUTES = [
  'GET /session',
  'GET /use-cases',
  'GET /use-cases/<use case>',
  'GET /fleet',
  'GET /alerts',
  'GET /alerts/<id>',
  'GET /alerts/<id>/series',
  'POST /alerts/<id>/decisions',
  'GET /devices',
  'GET /devices/<use case>/<device>',
  'GET /devices/<use case>/<device>/series',
  'POST /devices/<use case>/<device>/rebaseline',
  'GET /silences',
  'POST /silences',
] as const;

const MAX_LIST = 1000;
const DEFAULT_LIST = 200;
const MINUTE_MS = 60_000;
/** How much of the readings before an alert its plot shows: enough to see the normal it left. */
const ALERT_LEAD_MS = 15 * MINUTE_MS;
const ALERT_TAIL_MS = 5 * MINUTE_MS;
const MAX_DEVICE_MINUTES = 7 * 24 * 60;
const MAX_SUMMARY_DAYS = 90;
/** How far back the device page lists the drift checks' findings. */
const FINDINGS_DAYS = 7;
/** Who the console acts as and what they may do: it shows only the actions the role may take. */
export function sessionOf(actor: Actor) {
  return { actor, permissions: permissionsOf(actor.role) };
}

class BadRequest extends Error {
  override readonly name = 'BadRequest';
}

class NotFound extends Error {
  override readonly name = 'NotFound';
}

class Unauthenticated extends Error {
  override readonly name = 'Unauthenticated';
}

/** Maps the domain's refusals onto HTTP: who may not (401/403), what does not exist (404), what changed (409). */
function failure(error: unknown): OperatorReply {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Unauthenticated) return { status: 401, body: { error: message } };
  if (error instanceof PermissionDenied) return { status: 403, body: { error: message } };
  if (error instanceof AlertNotFound || error instanceof NotFound)
    return { status: 404, body: { error: message } };
  if (error instanceof InvalidTransition || error instanceof ConcurrentChange)
    return { status: 409, body: { error: message } };
  if (error instanceof BadRequest || error instanceof InvalidSilence)
    return { status: 400, body: { error: message } };
  throw error;
}

function parsed<T extends z.ZodType>(schema: T, body: string): z.output<T> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new BadRequest('the body must be JSON');
  }
  const result = schema.safeParse(json);
  if (!result.success) throw new BadRequest(issuesText(result.error.issues, '(body)'));
  return result.data;
}

function changer(request: OperatorRequest): Actor {
  if (!request.actor) throw new Unauthenticated('this needs to know who asks, and nobody is signed in');
  return request.actor;
}

function integerParam(query: OperatorRequest['query'], name: string, fallback: number, max: number): number {
  const text = query[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new BadRequest(`${name} must be a whole number from 1 to ${max}, got "${text}"`);
  return value;
}

/**
 * The operators' API, the same behind the local runtime and the cloud's HTTP API: reads for the
 * console and the CLI, and typed decisions each recorded with who made them. Answers undefined for
 * a route it does not serve. Unexpected failures throw, for the adapter to log and answer 500.
 */
export class OperatorApi {
  private readonly manifests: ReadonlyMap<string, UseCaseManifest>;

  constructor(private readonly deps: OperatorApiDeps) {
    this.manifests = new Map(deps.useCases.map((manifest) => [manifest.id, manifest]));
  }

  async handle(request: OperatorRequest): Promise<OperatorReply | undefined> {
    const parts = request.path.split('/').filter(Boolean);
    let decoded: string[];
    try {
      decoded = parts.map(decodeURIComponent);
    } catch {
      return { status: 400, body: { error: `the path ${request.path} is not valid percent-encoding` } };
    }
    try {
      if (request.actor) requirePermission(request.actor, 'read');
      return await this.route(request, decoded);
    } catch (error) {
      return failure(error);
    }
  }

  private async route(request: OperatorRequest, parts: string[]): Promise<OperatorReply | undefined> {
    const [head, id, tail, extra] = parts;
    const get = request.method === 'GET';
    const post = request.method === 'POST';
    const q = request.query;
    if (get && head === 'session' && id === undefined) return ok(sessionOf(changer(request)));
    if (get && head === 'use-cases' && id === undefined) {
      return ok({
        useCases: this.deps.useCases.map((m) => ({
          id: m.id,
          name: m.name,
          groups: [...Object.keys(m.alerts.groups), m.id],
        })),
        falsePositiveReasons: FALSE_POSITIVE_REASONS,
      });
    }
    if (get && head === 'use-cases' && id !== undefined && tail === undefined) {
      return ok(await this.useCase(this.manifest(id), integerParam(q, 'days', 14, MAX_SUMMARY_DAYS)));
    }
    if (get && head === 'fleet' && id === undefined) return ok({ devices: await this.fleet(q) });
    if (head === 'alerts') {
      if (get && id === undefined) return ok({ alerts: await this.listAlerts(q) });
      if (get && id !== undefined && tail === undefined) {
        const alert = await this.deps.alertStore.getAlert(id);
        return alert ? ok(alert) : { status: 404, body: { error: `no alert ${id}` } };
      }
      if (get && id !== undefined && tail === 'series' && extra === undefined) return this.alertSeries(id);
      if (post && id !== undefined && tail === 'decisions' && extra === undefined) {
        const actor = changer(request);
        const { decision } = parsed(decisionRequestSchema, request.body);
        const before = await this.deps.alertStore.getAlert(id);
        const result = await this.deps.alerts.decide(id, decision, actor);
        await this.deps.audit.record({
          kind: 'alert-verdict',
          actor,
          at: this.deps.clock.now(),
          useCase: result.alert.useCase,
          subject: `alert ${id} (${result.alert.deviceId})`,
          before: digestOf(before),
          after: digestOf(result.alert),
          reason: decisionReason(decision),
          details: { action: decision.action, status: result.alert.status },
        });
        return ok(result);
      }
    }
    if (head === 'devices') {
      if (get && id === undefined) {
        const useCase = q['use-case'] ? this.manifest(q['use-case']).id : undefined;
        const states = await this.baselinesOf(useCase);
        return ok({ devices: states.map(deviceSummary) });
      }
      if (id !== undefined && tail !== undefined) {
        const manifest = this.manifest(id);
        const [, , , action, more] = parts;
        if (more !== undefined) return undefined;
        if (get && action === undefined) return ok(await this.device(manifest, tail));
        if (get && action === 'series') {
          const minutes = integerParam(q, 'minutes', 60, MAX_DEVICE_MINUTES);
          const to = this.deps.clock.now();
          const sensors = manifest.sensors.map((s) => s.field.replace(/^measures\./, ''));
          return ok(await this.series(manifest, tail, sensors, to - minutes * MINUTE_MS, to));
        }
        if (post && action === 'rebaseline') {
          const actor = changer(request);
          const { note } = parsed(rebaselineRequestSchema, request.body);
          const before = await this.deps.baselines.get(manifest.id, tail);
          const state = await requestCalibration(this.deps.baselines, {
            useCase: manifest.id,
            deviceId: tail,
            reason: 'requested',
            note,
            actor,
            at: this.deps.clock.now(),
          });
          await this.deps.audit.record({
            kind: 'device-rebaselined',
            actor,
            at: this.deps.clock.now(),
            useCase: manifest.id,
            subject: `device ${tail}`,
            before: digestOf(before),
            after: digestOf(state),
            reason: note,
            details: { revision: state.revision, calibrating: state.calibration !== undefined },
          });
          return ok(deviceSummary(state));
        }
      }
    }
    if (head === 'silences' && id === undefined) {
      if (get) {
        const useCases = q['use-case'] ? [this.manifest(q['use-case']).id] : [...this.manifests.keys()];
        const silences = await Promise.all(useCases.map((u) => this.deps.alertStore.silences(u)));
        return ok({ silences: silences.flat() });
      }
      if (post) {
        const actor = changer(request);
        const silence = parsed(silenceRequestSchema, request.body);
        requirePermission(actor, 'silence');
        this.manifest(silence.useCase);
        const created = await this.deps.alerts.addSilence(silence, actor, `sil-${this.deps.newId()}`);
        await this.deps.audit.record({
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
    }
    return undefined;
  }

  /** Every use case's when none is named: the cloud's stores list per use case. */
  private async baselinesOf(useCase: string | undefined): Promise<BaselineState[]> {
    const ids = useCase === undefined ? [...this.manifests.keys()] : [useCase];
    return (await Promise.all(ids.map((id) => this.deps.baselines.list(id)))).flat();
  }

  private async alertsOf(filter: AlertFilter): Promise<Alert[]> {
    if (filter.useCase !== undefined) return this.deps.alertStore.listAlerts(filter);
    const all = await Promise.all(
      [...this.manifests.keys()].map((useCase) => this.deps.alertStore.listAlerts({ ...filter, useCase })),
    );
    return all
      .flat()
      .sort((a, b) => b.openedAt - a.openedAt)
      .slice(0, filter.limit ?? MAX_LIST);
  }

  private manifest(id: string): UseCaseManifest {
    const manifest = this.manifests.get(id);
    if (!manifest) {
      throw new NotFound(`unknown use case "${id}" (${[...this.manifests.keys()].join(', ')})`);
    }
    return manifest;
  }

  private async listAlerts(q: OperatorRequest['query']): Promise<Alert[]> {
    const statuses = q.status?.split(',').filter(Boolean);
    const unknown = statuses?.filter((s) => !(ALERT_STATUSES as readonly string[]).includes(s)) ?? [];
    if (unknown.length > 0)
      throw new BadRequest(`unknown status ${unknown.join(', ')} (${ALERT_STATUSES.join(', ')})`);
    const delivery = q.delivery;
    if (delivery !== undefined && delivery !== 'notify' && delivery !== 'digest')
      throw new BadRequest(`delivery must be notify or digest, got "${delivery}"`);
    return this.alertsOf({
      ...(q['use-case'] ? { useCase: this.manifest(q['use-case']).id } : {}),
      ...(q.device ? { deviceId: q.device } : {}),
      ...(statuses ? { statuses: statuses as AlertStatus[] } : {}),
      ...(delivery ? { delivery } : {}),
      limit: integerParam(q, 'limit', DEFAULT_LIST, MAX_LIST),
    });
  }

  private async fleet(q: OperatorRequest['query']) {
    const useCase = q['use-case'] ? this.manifest(q['use-case']).id : undefined;
    const [baselines, activity, open] = await Promise.all([
      this.baselinesOf(useCase),
      this.deps.reads.activity(useCase),
      this.alertsOf({
        ...(useCase ? { useCase } : {}),
        statuses: ['open', 'acknowledged'],
        limit: MAX_LIST,
      }),
    ]);
    const devices = fleetView(this.deps.useCases, baselines, activity, open, this.deps.clock.now());
    return q.group ? devices.filter((d) => d.group === q.group) : devices;
  }

  private async useCase(manifest: UseCaseManifest, days: number) {
    const now = this.deps.clock.now();
    const [alerts, baselines, activity, kept] = await Promise.all([
      this.deps.alertStore.listAlerts({
        useCase: manifest.id,
        since: now - days * 24 * 3600_000,
        limit: 10 * MAX_LIST,
      }),
      this.deps.baselines.list(manifest.id),
      this.deps.reads.activity(manifest.id),
      this.deps.kpis?.since(manifest.id, now - (days + 1) * 24 * 3600_000) ?? [],
    ]);
    const devices = new Set([...baselines.map((b) => b.deviceId), ...activity.map((a) => a.deviceId)]);
    return useCaseSummary(manifest, alerts, devices.size, now, days, kept);
  }

  private async device(manifest: UseCaseManifest, deviceId: string) {
    const [baseline, activity, alerts, feedback, silences, findings] = await Promise.all([
      this.deps.baselines.get(manifest.id, deviceId),
      this.deps.reads.activity(manifest.id, deviceId),
      this.deps.alertStore.listAlerts({ useCase: manifest.id, deviceId, limit: 50 }),
      this.deps.alertStore.feedback(manifest.id),
      this.deps.alertStore.silences(manifest.id),
      this.deps.reads.findings(manifest.id, deviceId, this.deps.clock.now() - FINDINGS_DAYS * 24 * 3600_000),
    ]);
    const open = alerts.filter((a) => a.status === 'open' || a.status === 'acknowledged');
    const [row] = fleetView([manifest], baseline ? [baseline] : [], activity, open, this.deps.clock.now());
    if (!row) throw new NotFound(`no device "${deviceId}" in ${manifest.id}: it has sent nothing yet`);
    return {
      device: row,
      baseline: baseline ? deviceSummary(baseline) : null,
      alerts,
      feedback: feedback.filter((f) => f.deviceId === deviceId).slice(-50),
      silences: silences.filter((s) => silenceCovers(s, manifest, deviceId)),
      findings,
    };
  }

  private async alertSeries(id: string): Promise<OperatorReply> {
    const alert = await this.deps.alertStore.getAlert(id);
    if (!alert) return { status: 404, body: { error: `no alert ${id}` } };
    const manifest = this.manifest(alert.useCase);
    const now = this.deps.clock.now();
    const from = alert.firstAnomalyAt - ALERT_LEAD_MS;
    const to = Math.min(now, (alert.clearedAt ?? Math.max(alert.lastAnomalyAt, now)) + ALERT_TAIL_MS);
    const sensors = topContributors(alert).map((c) => c.sensor);
    return ok({
      alertId: alert.id,
      threshold: alert.threshold,
      ...(await this.series(manifest, alert.deviceId, sensors, from, Math.max(to, from + MINUTE_MS))),
    });
  }

  /** Readings of `sensors` with the device's calibration baseline for each, and its scores. */
  private async series(
    manifest: UseCaseManifest,
    deviceId: string,
    sensors: readonly string[],
    from: number,
    to: number,
  ) {
    const contract = this.deps.contracts.get(manifest.contract);
    const columns: SensorColumn[] = sensors.flatMap((sensor) => {
      const spec = contract.measures[sensor];
      return spec ? [{ sensor, column: spec.column }] : [];
    });
    const bucketMs = bucketFor(from, to);
    const [series, state] = await Promise.all([
      this.deps.reads.series({ useCase: manifest.id, deviceId, from, to, sensors: columns, bucketMs }),
      this.deps.baselines.get(manifest.id, deviceId),
    ]);
    const tracked = new Map(state?.active?.baseline.tracked.map((t) => [t.sensor, t]) ?? []);
    return {
      deviceId,
      from,
      to,
      bucketMs,
      baselineVersion: state?.active?.version ?? null,
      sensors: columns.map(({ sensor }) => {
        const baseline = tracked.get(sensor);
        return {
          sensor,
          unit: manifest.sensors.find((s) => s.field === `measures.${sensor}`)?.unit ?? '',
          baseline: baseline ? { mean: baseline.mean, scale: baseline.scale } : null,
        };
      }),
      series,
    };
  }
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

function ok(body: unknown): OperatorReply {
  return { status: 200, body };
}
