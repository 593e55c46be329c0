import { ALERT_STATUSES, FALSE_POSITIVE_REASONS, type Alert, type AlertStatus } from '../alerts/lifecycle.ts';
import { fixSavings } from '../kpi/mv/fix-savings.ts';
import type { AlertFilter } from '../alerts/ports.ts';
import type { BaselineState } from '../baseline/ports.ts';
import type { UseCaseManifest } from '../usecase/manifest.ts';
import { requirePermission } from './actor.ts';
import { acceptRecommendation, decideAlert, rebaselineDevice, setSilence } from './changes.ts';
import type { SensorColumn } from './ports.ts';
import {
  changer,
  failure,
  integerParam,
  NotFound,
  BadRequest,
  ok,
  sessionOf,
  type OperatorApiDeps,
  type OperatorReply,
  type OperatorRequest,
} from './protocol.ts';
import { topContributors } from '../alerts/contributors.ts';
import { useCaseSavings } from './savings-view.ts';
import { bucketFor, deviceSummary, fleetView, silenceCovers, useCaseSummary } from './views.ts';

export {
  OPERATOR_ROUTES,
  sessionOf,
  type OperatorApiDeps,
  type OperatorReply,
  type OperatorRequest,
} from './protocol.ts';

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
/** The newest model versions the use-case page lists. */
const MODEL_VERSIONS_SHOWN = 5;
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
    const [head, id, tail] = parts;
    const get = request.method === 'GET';
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
    if (get && head === 'use-cases' && id !== undefined && tail === 'savings' && parts.length === 3)
      return this.useCaseSavings(this.manifest(id));
    if (get && head === 'fleet' && id === undefined) return ok({ devices: await this.fleet(q) });
    if (head === 'alerts') return this.routeAlerts(request, parts);
    if (head === 'devices') return this.routeDevices(request, parts);
    if (head === 'silences' && id === undefined) return this.routeSilences(request);
    if (head === 'recommendations' && id === undefined && request.method === 'POST')
      return acceptRecommendation(this.deps, request, (useCase) => this.manifest(useCase));
    return undefined;
  }

  private async routeAlerts(request: OperatorRequest, parts: string[]): Promise<OperatorReply | undefined> {
    const [, id, tail, extra] = parts;
    const get = request.method === 'GET';
    if (get && id === undefined) return ok({ alerts: await this.listAlerts(request.query) });
    if (id === undefined || extra !== undefined) return undefined;
    if (get && tail === undefined) {
      const alert = await this.deps.alertStore.getAlert(id);
      return alert ? ok(alert) : { status: 404, body: { error: `no alert ${id}` } };
    }
    if (get && tail === 'series') return this.alertSeries(id);
    if (get && tail === 'savings') return this.alertSavings(id);
    if (request.method === 'POST' && tail === 'decisions') return decideAlert(this.deps, id, request);
    return undefined;
  }

  private async routeDevices(request: OperatorRequest, parts: string[]): Promise<OperatorReply | undefined> {
    const [, id, deviceId, action, more] = parts;
    const get = request.method === 'GET';
    const q = request.query;
    if (get && id === undefined) {
      const useCase = q['use-case'] ? this.manifest(q['use-case']).id : undefined;
      const states = await this.baselinesOf(useCase);
      return ok({ devices: states.map(deviceSummary) });
    }
    if (id === undefined || deviceId === undefined || more !== undefined) return undefined;
    const manifest = this.manifest(id);
    if (get && action === undefined) return ok(await this.device(manifest, deviceId));
    if (get && action === 'series') {
      const minutes = integerParam(q, 'minutes', 60, MAX_DEVICE_MINUTES);
      const to = this.deps.clock.now();
      const sensors = manifest.sensors.map((s) => s.field.replace(/^measures\./, ''));
      return ok(await this.series(manifest, deviceId, sensors, to - minutes * MINUTE_MS, to));
    }
    if (request.method === 'POST' && action === 'rebaseline')
      return rebaselineDevice(this.deps, manifest, deviceId, request);
    return undefined;
  }

  private async routeSilences(request: OperatorRequest): Promise<OperatorReply | undefined> {
    if (request.method === 'GET') {
      const q = request.query;
      const useCases = q['use-case'] ? [this.manifest(q['use-case']).id] : [...this.manifests.keys()];
      const silences = await Promise.all(useCases.map((u) => this.deps.alertStore.silences(u)));
      return ok({ silences: silences.flat() });
    }
    if (request.method === 'POST') return setSilence(this.deps, request, (id) => this.manifest(id));
    return undefined;
  }

  /** Every use case's when none is named: the cloud's stores list per use case. */
  private async baselinesOf(useCase: string | undefined): Promise<BaselineState[]> {
    const ids = useCase === undefined ? [...this.manifests.keys()] : [useCase];
    return (await Promise.all(ids.map((id) => this.deps.baselines.list(id)))).flat();
  }

  /** What the use case's KPIs saved against their baselines (M&V), and what the data recommends. */
  private async useCaseSavings(manifest: UseCaseManifest): Promise<OperatorReply> {
    const kpiReads = this.deps.kpiReads;
    if (!kpiReads) return { status: 404, body: { error: 'savings are not measured by this deployment yet' } };
    return ok(await useCaseSavings(manifest, kpiReads(manifest), this.deps.clock.now()));
  }

  /** What fixing the alert's fault saved, against the device's own faulted baseline (M&V). */
  private async alertSavings(id: string): Promise<OperatorReply> {
    const alert = await this.deps.alertStore.getAlert(id);
    if (!alert) return { status: 404, body: { error: `no alert ${id}` } };
    const kpiReads = this.deps.kpiReads;
    if (!kpiReads)
      return { status: 404, body: { error: 'savings per fix are not measured by this deployment yet' } };
    const manifest = this.manifest(alert.useCase);
    return ok(await fixSavings(manifest, alert, kpiReads(manifest), this.deps.clock.now()));
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
    const [alerts, baselines, activity, kept, models] = await Promise.all([
      this.deps.alertStore.listAlerts({
        useCase: manifest.id,
        since: now - days * 24 * 3600_000,
        limit: 10 * MAX_LIST,
      }),
      this.deps.baselines.list(manifest.id),
      this.deps.reads.activity(manifest.id),
      this.deps.kpis?.since(manifest.id, now - (days + 1) * 24 * 3600_000) ?? [],
      this.deps.models?.list(manifest.id, MODEL_VERSIONS_SHOWN) ?? null,
    ]);
    const devices = new Set([...baselines.map((b) => b.deviceId), ...activity.map((a) => a.deviceId)]);
    return { ...useCaseSummary(manifest, alerts, devices.size, now, days, kept), models };
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
