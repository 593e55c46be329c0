import { describe, expect, it } from 'vitest';
import { AlertService } from '../../core/alerts/alert-service.ts';
import { NotificationGrouper } from '../../core/alerts/grouping.ts';
import { InMemoryAlertStore } from '../../core/alerts/in-memory.ts';
import type { Alert } from '../../core/alerts/lifecycle.ts';
import type { AlertEventNotice, AlertNotifier } from '../../core/alerts/ports.ts';
import { InMemoryBaselineStore } from '../../core/baseline/in-memory.ts';
import type { Actor } from '../../core/operators/actor.ts';
import { OperatorApi, type OperatorRequest } from '../../core/operators/api.ts';
import type { Finding } from '../../core/drift/ports.ts';
import type { DeviceActivity, OperatorReads, Series, SeriesRequest } from '../../core/operators/ports.ts';
import type { FleetDevice, UseCaseSummary } from '../../core/operators/views.ts';
import { alertInferenceOf } from '../../core/usecase/manifest.ts';
import { repoUseCase } from '../support/catalog.ts';
import { repoContracts } from '../support/contracts.ts';
import { CollectingAuditTrail } from '../../core/audit/in-memory.ts';

const PUMPS = repoUseCase('pump-maintenance');
const NOW = Date.parse('2026-11-30T10:00:00Z');
const OPERATOR: Actor = { name: 'olu', role: 'operator' };
const ANALYST: Actor = { name: 'ana', role: 'analyst' };
const ENGINEER: Actor = { name: 'dana', role: 'reliability-engineer' };

class RecordingReads implements OperatorReads {
  readonly seriesRequests: SeriesRequest[] = [];
  constructor(readonly devices: DeviceActivity[] = []) {}
  activity(useCase?: string, deviceId?: string): Promise<DeviceActivity[]> {
    return Promise.resolve(
      this.devices.filter(
        (d) => (!useCase || d.useCase === useCase) && (!deviceId || d.deviceId === deviceId),
      ),
    );
  }
  findings(): Promise<Finding[]> {
    return Promise.resolve([]);
  }
  series(request: SeriesRequest): Promise<Series> {
    this.seriesRequests.push(request);
    return Promise.resolve({ times: [request.from], values: {}, scores: [1], thresholds: [2] });
  }
}

const silentNotifier: AlertNotifier = {
  publish: (_events: readonly AlertEventNotice[]) => Promise.resolve(),
  notify: () => Promise.resolve(),
};

function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: 'a-1',
    useCase: PUMPS.id,
    deviceId: 'pump-001',
    inference: 'pump-anomaly',
    group: 'line-1',
    status: 'open',
    severity: 'warning',
    delivery: 'notify',
    openedAt: NOW - 600_000,
    firstAnomalyAt: NOW - 660_000,
    lastAnomalyAt: NOW - 60_000,
    clearedAt: null,
    peakScore: 30,
    threshold: 10,
    contributors: [
      { sensor: 'flowRate', share: 0.3 },
      { sensor: 'vibrationRmsX', share: 0.66 },
      { sensor: 'supplyVoltage', share: 0.04 },
    ],
    baselineVersion: 1,
    modelVersion: 'm1',
    verdict: null,
    history: [
      {
        from: null,
        to: 'open',
        actor: { name: 'aiot-pipeline', role: 'system' },
        at: NOW - 600_000,
        note: '',
      },
    ],
    ...overrides,
  };
}

function setup(activity: DeviceActivity[] = []) {
  const store = new InMemoryAlertStore();
  const baselines = new InMemoryBaselineStore();
  const reads = new RecordingReads(activity);
  const manifest = PUMPS;
  const clock = { now: () => NOW };
  const alerts = new AlertService(
    store,
    baselines,
    silentNotifier,
    new NotificationGrouper(() => 0),
    clock,
    new Map([[manifest.id, { policy: manifest.alerts, inference: alertInferenceOf(manifest) }]]),
  );
  let ids = 0;
  const audit = new CollectingAuditTrail();
  const api = new OperatorApi({
    contracts: repoContracts,
    audit,
    alerts,
    alertStore: store,
    baselines,
    reads,
    useCases: [manifest],
    clock,
    newId: () => `id-${++ids}`,
  });
  const call = (method: string, path: string, options: Partial<OperatorRequest> = {}) =>
    api.handle({ method, path, query: {}, body: '', actor: undefined, ...options });
  return { api, store, baselines, reads, call, audit };
}

describe('OperatorApi', () => {
  it('GIVEN a verdict, a silence and a re-baseline THEN each is an audit event with its actor, role, states and reason; a refused one is none', async () => {
    const { store, call, audit } = setup();
    store.alerts.set('a-1', alert());
    await call('POST', '/alerts/a-1/decisions', {
      actor: OPERATOR,
      body: JSON.stringify({
        decision: { action: 'false-positive', reason: 'sensor-fault', note: 'loose cable' },
      }),
    });
    await call('POST', '/silences', {
      actor: ENGINEER,
      body: JSON.stringify({
        useCase: 'pump-maintenance',
        scope: { kind: 'device', deviceId: 'pump-001' },
        from: NOW,
        to: NOW + 3600_000,
        reason: 'valve work',
      }),
    });
    await call('POST', '/devices/pump-maintenance/pump-001/rebaseline', {
      actor: ENGINEER,
      body: JSON.stringify({ note: 'new impeller' }),
    });
    // Refused: an operator may not re-baseline.
    await call('POST', '/devices/pump-maintenance/pump-001/rebaseline', {
      actor: OPERATOR,
      body: JSON.stringify({ note: 'me too' }),
    });

    expect(audit.events.map((e) => [e.kind, e.actor.name, e.actor.role, e.subject, e.reason])).toEqual([
      [
        'alert-verdict',
        'olu',
        'operator',
        'alert a-1 (pump-001)',
        'false positive: sensor-fault (loose cable)',
      ],
      ['silence-set', 'dana', 'reliability-engineer', 'silence sil-id-1', 'valve work'],
      ['device-rebaselined', 'dana', 'reliability-engineer', 'device pump-001', 'new impeller'],
    ]);
    const [verdict, silence, rebaseline] = audit.events;
    // Before and after are digests of the states, so the log holds no copy of the data.
    expect(verdict?.before).toMatch(/^[0-9a-f]{64}$/);
    expect(verdict?.after).not.toBe(verdict?.before);
    expect(silence?.before).toBeNull();
    expect(rebaseline?.details).toMatchObject({ calibrating: true });
  });

  it('GIVEN an operator WHEN they call an alert a false positive THEN the verdict records them, and the body cannot name someone else', async () => {
    const { store, call } = setup();
    store.alerts.set('a-1', alert());
    const body = JSON.stringify({ decision: { action: 'false-positive', reason: 'sensor-fault' } });

    const reply = await call('POST', '/alerts/a-1/decisions', { body, actor: OPERATOR });

    expect(reply?.status).toBe(200);
    expect(store.alerts.get('a-1')).toMatchObject({
      status: 'false-positive',
      verdict: { reason: 'sensor-fault' },
      history: [{}, { actor: OPERATOR }],
    });
    const spoofed = await call('POST', '/alerts/a-1/decisions', {
      body: JSON.stringify({ actor: ENGINEER, decision: { action: 'undo' } }),
      actor: OPERATOR,
    });
    expect(spoofed).toEqual({ status: 400, body: { error: expect.stringMatching(/actor/) as unknown } });
  });

  it('GIVEN no actor or a reading role WHEN a change is asked THEN 401 and 403 name why, and nothing changes', async () => {
    const { store, call } = setup();
    store.alerts.set('a-1', alert());
    const body = JSON.stringify({ decision: { action: 'acknowledge' } });

    expect((await call('POST', '/alerts/a-1/decisions', { body }))?.status).toBe(401);
    const denied = await call('POST', '/alerts/a-1/decisions', { body, actor: ANALYST });
    expect(denied).toEqual({
      status: 403,
      body: { error: expect.stringContaining('ana (analyst) may not answer alerts') as unknown },
    });
    const silence = await call('POST', '/silences', {
      actor: OPERATOR,
      body: JSON.stringify({
        useCase: 'pump-maintenance',
        scope: { kind: 'device', deviceId: 'pump-001' },
        from: NOW,
        to: NOW + 3600_000,
        reason: 'valve work',
      }),
    });
    expect(silence?.status).toBe(403);
    expect(store.alerts.get('a-1')?.status).toBe('open');
    expect(store.silenceList).toEqual([]);
  });

  it('GIVEN an engineer WHEN they set a silence THEN it is kept with them, and one that ends before it starts is a 400', async () => {
    const { store, call } = setup();
    const silence = (from: number, to: number) =>
      call('POST', '/silences', {
        actor: ENGINEER,
        body: JSON.stringify({
          useCase: 'pump-maintenance',
          scope: { kind: 'group', group: 'line-1' },
          kind: 'maintenance',
          from,
          to,
          reason: 'seal change on line 1',
        }),
      });

    expect(await silence(NOW, NOW - 1)).toEqual({
      status: 400,
      body: { error: 'a silence must end after it starts' },
    });
    const created = await silence(NOW, NOW + 3600_000);
    expect(created).toMatchObject({
      status: 201,
      body: { id: expect.stringMatching(/^sil-id-/) as unknown, createdBy: ENGINEER },
    });
    expect(store.silenceList).toHaveLength(1);
  });

  it('GIVEN a signed-in person WHEN the console asks for the session THEN it gets their role and what it may do', async () => {
    const { call } = setup();
    expect(await call('GET', '/session', { actor: ANALYST })).toEqual({
      status: 200,
      body: { actor: ANALYST, permissions: ['read'] },
    });
    expect((await call('GET', '/session'))?.status).toBe(401);
  });

  it('GIVEN devices known from readings, health reports and baselines WHEN the fleet is read THEN each appears once, with its group, liveness, backlog and open alerts', async () => {
    const { store, baselines, call } = setup([
      {
        useCase: 'pump-maintenance',
        deviceId: 'pump-001',
        lastReadingAt: NOW - 5_000,
        modelVersion: 'm1',
        health: { receivedAt: NOW - 30_000, connected: true, queueDepth: 12, oldestAgeSeconds: 40 },
      },
      {
        useCase: 'pump-maintenance',
        deviceId: 'pump-009',
        lastReadingAt: NOW - 3600_000,
        modelVersion: null,
        health: null,
      },
    ]);
    await baselines.save({
      useCase: 'pump-maintenance',
      deviceId: 'pump-001',
      revision: 1,
      calibration: {
        since: null,
        reason: 'commissioning',
        note: '',
        requestedBy: OPERATOR,
        requestedAt: NOW,
        collected: 450,
      },
    });
    store.alerts.set('a-1', alert());

    const reply = await call('GET', '/fleet');
    const devices = (reply?.body as { devices: FleetDevice[] }).devices;

    expect(devices).toEqual([
      expect.objectContaining({
        deviceId: 'pump-001',
        group: 'line-1',
        online: true,
        backlog: 12,
        oldestBufferedSeconds: 40,
        state: 'calibrating',
        calibration: { collected: 450, needed: PUMPS.alerts.calibrationReadings },
        openAlerts: 1,
      }),
      expect.objectContaining({
        deviceId: 'pump-009',
        group: 'pump-maintenance',
        online: false,
        state: 'not scored',
      }),
    ]);
    const lineOne = await call('GET', '/fleet', { query: { group: 'line-1' } });
    expect((lineOne?.body as { devices: FleetDevice[] }).devices.map((d) => d.deviceId)).toEqual([
      'pump-001',
    ]);
  });

  it('GIVEN answered alerts WHEN the use case page is read THEN it shows the KPI targets, the daily load per device and the false-positive share', async () => {
    const { store, call } = setup([
      {
        useCase: 'pump-maintenance',
        deviceId: 'pump-001',
        lastReadingAt: NOW,
        modelVersion: null,
        health: null,
      },
      {
        useCase: 'pump-maintenance',
        deviceId: 'pump-002',
        lastReadingAt: NOW,
        modelVersion: null,
        health: null,
      },
    ]);
    const fp = { kind: 'false-positive', reason: 'sensor-fault', note: '' } as const;
    store.alerts.set('a-1', alert({ id: 'a-1', status: 'false-positive', verdict: fp }));
    store.alerts.set('a-2', alert({ id: 'a-2', status: 'false-positive', verdict: fp }));
    store.alerts.set(
      'a-3',
      alert({
        id: 'a-3',
        openedAt: NOW - 26 * 3600_000,
        status: 'confirmed',
        verdict: { kind: 'confirmed', failureMode: 'bearing wear', workOrder: null, note: '' },
      }),
    );

    const summary = (await call('GET', '/use-cases/pump-maintenance', { query: { days: '7' } }))
      ?.body as UseCaseSummary;

    expect(summary.kpis[0]).toMatchObject({
      id: 'unplanned-downtime',
      target: '-30%',
      targetValue: { low: 29.4, high: 29.4 },
    });
    expect(summary.devices).toBe(2);
    expect(summary.alertLoad).toHaveLength(7);
    expect(summary.alertLoad.slice(-2)).toEqual([
      { day: '2026-11-29', alerts: 1, perDevice: 0.5 },
      { day: '2026-11-30', alerts: 2, perDevice: 1 },
    ]);
    expect(summary.verdicts).toEqual({
      falsePositives: 2,
      confirmed: 1,
      falsePositiveShare: 0.667,
      byReason: { 'sensor-fault': 2 },
    });
  });

  it('GIVEN an alert WHEN its plot is asked for THEN the reads get its top contributors as columns around the alert, in plot-sized buckets', async () => {
    const { store, reads, call } = setup();
    store.alerts.set('a-1', alert());

    const reply = await call('GET', '/alerts/a-1/series');

    expect(reply?.status).toBe(200);
    const [request] = reads.seriesRequests;
    expect(request?.sensors).toEqual([
      { sensor: 'vibrationRmsX', column: 'vibration_rms_x' },
      { sensor: 'flowRate', column: 'flow_rate' },
    ]);
    expect(request?.from).toBe(NOW - 660_000 - 15 * 60_000);
    expect(request?.to).toBe(NOW);
    expect(((request?.to ?? 0) - (request?.from ?? 0)) / (request?.bucketMs ?? 1)).toBeLessThanOrEqual(600);
    expect(reply?.body).toMatchObject({
      threshold: 10,
      sensors: [{ sensor: 'vibrationRmsX', unit: 'g' }, {}],
    });
  });

  it.each([
    ['GET', '/use-cases/nope', {}, 404, 'unknown use case "nope"'],
    ['GET', '/alerts', { limit: 'lots' }, 400, 'limit must be a whole number'],
    ['GET', '/alerts', { status: 'gone' }, 400, 'unknown status gone'],
    ['GET', '/devices/pump-maintenance/pump-001/series', { minutes: '0' }, 400, 'minutes must be'],
    ['GET', '/alerts/%E0%A4%A', {}, 400, 'percent-encoding'],
    ['GET', '/alerts/none', {}, 404, 'no alert none'],
  ] as const)('GIVEN %s %s with %j THEN %i: %s', async (method, path, query, status, error) => {
    const { call } = setup();
    const reply = await call(method, path, { query });
    expect(reply?.status).toBe(status);
    expect((reply?.body as { error: string }).error).toContain(error);
  });

  it('GIVEN a route it does not serve THEN it answers nothing, for the adapter to say 404', async () => {
    const { call } = setup();
    expect(await call('DELETE', '/alerts/a-1')).toBeUndefined();
    expect(await call('GET', '/query')).toBeUndefined();
  });
});
