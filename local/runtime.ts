import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContractRegistry } from '../core/contracts/registry.ts';
import { acceptedContractRefs } from '../core/usecase/manifest.ts';
import { DeviceWindows } from '../core/inference/device-windows.ts';
import { ResilientScorer } from '../core/inference/resilient-scorer.ts';
import type { AnomalyModel } from '../core/model/anomaly-model.ts';
import type { BatchSummary, IngestDependencies } from '../core/ingest/ingest-batch.ts';
import { healthReportSchema } from '../core/edge/health-report.ts';
import { reasonsFromZod, type Reason } from '../core/contracts/reasons.ts';
import { bytesToBase64 } from '../core/ingest/base64.ts';
import { DEFAULT_TIME_BOUNDS, systemClock } from '../core/ingest/ports.ts';
import { parseHealthTopic } from '../core/ingest/topics.ts';
import { applyIngestRule } from '../core/ingest/rule.ts';
import type { TelemetryRecord } from '../core/ingest/records.ts';
import { alertInferenceOf, type UseCaseManifest } from '../core/usecase/manifest.ts';
import { startLocalBroker, type LocalBroker, type Refusal, type TelemetryArrival } from './broker.ts';
import { LocalCertificateAuthority } from './certs.ts';
import { LocalProvisioning } from './provisioning.ts';
import { DuckDbStore, type RefusalRow } from './duckdb-store.ts';
import { startModelServer, type ModelServer } from '../model/serve.ts';
import { HttpInferenceClient } from './http-inference-client.ts';
import { LocalIngestQueue } from './ingest-queue.ts';
import { LocalKpiSchedule } from './kpi-schedule.ts';
import { ensureLocalModel } from './model-bootstrap.ts';
import { LocalScoring } from './scoring.ts';
import { AlertService } from '../core/alerts/alert-service.ts';
import { NotificationGrouper } from '../core/alerts/grouping.ts';
import type { GroupNotification } from '../core/alerts/ports.ts';
import { DeviceScoring } from '../core/baseline/device-scoring.ts';
import { LocalAlertNotifier } from './alert-notifier.ts';
import { DuckDbAlertStore } from './duckdb-alert-store.ts';
import { startRuntimeApi } from './runtime-api.ts';
import { OperatorApi } from '../core/operators/api.ts';
import type { DriftReport } from '../core/drift/ports.ts';
import { LocalDriftSchedule, UnknownUseCase } from './drift-schedule.ts';
import { DuckDbQuarantineLedger } from './duckdb-quarantine-ledger.ts';
import { FileAuditLog } from './audit-log.ts';
import { FileModelRegistry } from './model-registry.ts';
import { configurationChanges } from '../core/audit/configuration.ts';
import { digestOf } from '../core/audit/audit-event.ts';
import { SYSTEM, type Actor } from '../core/operators/actor.ts';
import { replayQuarantine, type ReplayFilter, type ReplayReport } from '../core/ingest/quarantine-replay.ts';
import { DuckDbDriftStore } from './drift-store.ts';
import { DuckDbOperatorReads } from './operator-reads.ts';

export interface LocalRuntimeOptions {
  readonly useCases: readonly UseCaseManifest[];
  /** The contracts the use cases speak (`loadCatalog()` loads both). */
  readonly contracts: ContractRegistry;
  /** Folder for certificates, the DuckDB file and the runtime file. @default '.aiot' */
  readonly dataDir?: string;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** MQTT over TLS port; 0 picks a free one. @default 8883 */
  readonly mqttPort?: number;
  /** Query API port; 0 picks a free one. @default 8884 */
  readonly apiPort?: number;
  /** @default 100 */
  readonly batchSize?: number;
  /** @default 200 */
  readonly batchWindowMs?: number;
  /**
   * Port of the local model server (the container's code); 0 picks a free one; `false` runs
   * without scoring. @default 8885
   */
  readonly modelPort?: number | false;
  readonly onRefused?: (refusal: Refusal) => void;
  /** A grouped alert notification, what SNS would send to people. */
  readonly onNotification?: (notification: GroupNotification) => void;
  /** A drift run's report (every `drift.everyMinutes`), what the cloud publishes as events. */
  readonly onDrift?: (report: DriftReport) => void;
  readonly onError?: (error: unknown) => void;
  readonly onWarning?: (message: string) => void;
  /** The runtime scores with another model version now (approved or rolled back in the registry). */
  readonly onModelChange?: (useCase: string, modelVersion: string) => void;
  /**
   * Who starts the runtime: the audit trail records the manifests and contracts it applies (when
   * they differ from the last recorded) in their name. @default SYSTEM
   */
  readonly actor?: Actor;
}

export interface RuntimeCounters {
  /** Telemetry messages the broker acknowledged; a packed one holds several readings. */
  received: number;
  /** Readings, as ingestion finished with them. */
  stored: number;
  duplicates: number;
  quarantined: number;
  refused: number;
  retried: number;
}

/** What `aiot query` and the fleet read to find a running runtime. */
export interface RuntimeFile {
  readonly pid: number;
  readonly mqttPort: number;
  readonly apiPort: number;
  readonly startedAt: string;
}

export const RUNTIME_FILE = 'runtime.json';
export const DATABASE_FILE = 'local.duckdb';
/** The ingest queue's journal: what the broker acknowledged and ingestion has not finished. */
export const QUEUE_DIR = 'queue';
const DAY_MS = 24 * 3600 * 1000;

/** The name the local runtime gives a use case's ingest rule, for the Basic Ingest topic form. */
export function localRuleName(useCase: string): string {
  return `${useCase.replace(/-/g, '_')}_ingest`;
}

export function readRuntimeFile(dataDir: string): RuntimeFile | undefined {
  const file = path.join(dataDir, RUNTIME_FILE);
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as RuntimeFile;
  try {
    process.kill(parsed.pid, 0);
    return parsed;
  } catch {
    return undefined; // left behind by a runtime that did not stop cleanly
  }
}

/**
 * The whole ingestion path on one machine: local CA, MQTT broker with the device policy, the
 * ingest rule, a batching queue and the same ingest logic as the Lambda, into DuckDB.
 */
export class LocalRuntime {
  private stopped = false;

  private constructor(
    /** Live counts, updated by the broker and the queue as messages move. */
    readonly counters: Readonly<RuntimeCounters>,
    readonly dataDir: string,
    readonly ca: LocalCertificateAuthority,
    /** Fleet provisioning by claim: its allow-list and the certificates it attached. */
    readonly provisioning: LocalProvisioning,
    readonly store: DuckDbStore,
    readonly queue: LocalIngestQueue,
    private readonly broker: LocalBroker,
    private readonly api: { port: number; close(): Promise<void> },
    private readonly refusals: RefusalLog,
    /** Scoring of the use cases with a model, when the runtime scores. */
    private readonly scoringSetups: LocalScoringSetups | undefined,
    /** The drift checks, on their schedule and on demand. */
    readonly drift: LocalDriftSchedule,
    /** The KPIs of every use case, computed into the `kpis` table every hour. */
    readonly kpis: LocalKpiSchedule,
    /** The contracts it validates against. */
    readonly contracts: ContractRegistry,
  ) {}

  get mqttPort(): number {
    return this.broker.port;
  }

  get apiPort(): number {
    return this.api.port;
  }

  get mqttUrl(): string {
    return `mqtts://localhost:${this.broker.port}`;
  }

  /** Scoring of each use case with a model, by use case (none when the runtime does not score). */
  get scorings(): ReadonlyMap<string, LocalScoringSetup> {
    return this.scoringSetups?.byUseCase ?? new Map();
  }

  /** The scoring of one use case, if it has a model and the runtime scores. */
  scoringOf(useCase: string): LocalScoringSetup | undefined {
    return this.scoringSetups?.byUseCase.get(useCase);
  }

  get connectedDevices(): number {
    return this.broker.connectedClients();
  }

  static async start(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    if (options.useCases.length === 0) throw new Error('the local runtime needs at least one use case');
    const dataDir = path.resolve(options.dataDir ?? '.aiot');
    const running = readRuntimeFile(dataDir);
    if (running) {
      throw new Error(
        `a local runtime (pid ${running.pid}) already uses ${dataDir}; stop it or pass another --data-dir`,
      );
    }
    const host = options.host ?? '127.0.0.1';
    const ca = await LocalCertificateAuthority.openOrCreate(path.join(dataDir, 'certs'));
    const brokerPair = await ca.brokerPair();
    const store = await DuckDbStore.open(path.join(dataDir, DATABASE_FILE), {
      measureColumns: options.contracts.measureColumns().map((m) => m.column),
    });
    const audit = FileAuditLog.inDataDir(dataDir);
    for (const change of configurationChanges(
      audit.entries(),
      { useCases: options.useCases, contracts: options.contracts.all() },
      options.actor ?? SYSTEM,
      Date.now(),
      'applied at start by the local runtime',
    )) {
      await audit.record(change);
    }
    const alertStore = await DuckDbAlertStore.open(store);
    const driftStore = await DuckDbDriftStore.open(store);
    const ledger = await DuckDbQuarantineLedger.open(store);
    const kpis = await LocalKpiSchedule.open(
      store,
      options.useCases,
      options.contracts,
      systemClock,
      (error) => options.onError?.(error),
    );
    const replay = {
      replay: (filter: ReplayFilter): Promise<ReplayReport> => {
        if (filter.useCase !== undefined && !options.useCases.some((u) => u.id === filter.useCase)) {
          return Promise.reject(
            new UnknownUseCase(
              `unknown use case "${filter.useCase}" (${options.useCases.map((u) => u.id).join(', ')})`,
            ),
          );
        }
        return replayQuarantine(ledger, ingestDependencies(options, store), filter);
      },
    };
    const scoring =
      options.modelPort === false
        ? undefined
        : await startScoring(options, dataDir, store, alertStore, host, options.modelPort ?? 8885);
    for (const setup of scoring?.byUseCase.values() ?? []) {
      if (!setup.trained) continue;
      await audit.record({
        kind: 'model-trained',
        actor: SYSTEM,
        at: Date.now(),
        useCase: setup.useCase,
        subject: `model ${setup.useCase} ${setup.model.modelVersion}`,
        before: null,
        after: digestOf(setup.model),
        reason: 'the data folder had no model: trained on simulated normal operation',
        details: { modelVersion: setup.model.modelVersion, sensors: setup.model.sensors.join(',') },
      });
    }
    const counters: RuntimeCounters = {
      received: 0,
      stored: 0,
      duplicates: 0,
      quarantined: 0,
      refused: 0,
      retried: 0,
    };
    const refusals = new RefusalLog(store, options.onError);
    const drift = new LocalDriftSchedule(
      options.useCases,
      options.contracts,
      driftStore,
      alertStore,
      (useCase) => scoring?.byUseCase.get(useCase)?.model,
      systemClock,
      (report) => options.onDrift?.(report),
      (error) => options.onError?.(error),
    );
    // Devices with only a claim certificate provision themselves against provisioning/allow-list.json.
    const provisioning = new LocalProvisioning(
      path.join(dataDir, 'provisioning'),
      ca,
      options.useCases.map((useCase) => useCase.id),
      (message) => {
        if (!message.startsWith('provisioning refused')) return;
        const refusal = { clientId: '', thing: '', action: 'accept' as const, reason: message };
        refusals.add(refusal);
        options.onRefused?.(refusal);
      },
    );
    // Made once the broker and the API listen: a replay of the journal must not start before a
    // busy port has been reported.
    const ingest: { queue?: LocalIngestQueue } = {};
    let broker: LocalBroker | undefined;
    let api: { port: number; close(): Promise<void> } | undefined;
    try {
      broker = await startLocalBroker({
        host,
        port: options.mqttPort ?? 8883,
        ca: ca.caPem,
        provisioning,
        cert: brokerPair.cert,
        key: brokerPair.key,
        ruleNames: new Map(options.useCases.map((useCase) => [useCase.id, localRuleName(useCase.id)])),
        accept: (arrival) => {
          const health = parseHealthTopic(arrival.topic);
          if (health) {
            recordHealth(store, health, arrival, counters).catch((error: unknown) =>
              options.onError?.(error),
            );
            return;
          }
          if (!ingest.queue) throw new Error('the runtime is starting');
          ingest.queue.send(JSON.stringify(applyIngestRule(arrival)));
          counters.received += 1;
        },
        onRefused: (refusal) => {
          counters.refused += 1;
          refusals.add(refusal);
          options.onRefused?.(refusal);
        },
      });
      api = await startRuntimeApi(store, host, options.apiPort ?? 8884, {
        drift,
        quarantine: replay,
        ...(scoring
          ? {
              operations: new OperatorApi({
                alerts: scoring.alerts,
                alertStore,
                baselines: alertStore,
                reads: new DuckDbOperatorReads(store),
                useCases: options.useCases,
                contracts: options.contracts,
                clock: systemClock,
                newId: randomUUID,
                audit,
              }),
            }
          : {}),
        ...(options.onError ? { onError: options.onError } : {}),
      });
    } catch (error) {
      await broker?.close();
      await closeScoring(scoring);
      await refusals.close();
      await store.close();
      throw error;
    }
    const queue = (ingest.queue = createIngestQueue(options, dataDir, store, counters, scoring));
    const runtime = new LocalRuntime(
      counters,
      dataDir,
      ca,
      provisioning,
      store,
      queue,
      broker,
      api,
      refusals,
      scoring,
      drift,
      kpis,
      options.contracts,
    );
    drift.start();
    kpis.start();
    const runtimeFile: RuntimeFile = {
      pid: process.pid,
      mqttPort: broker.port,
      apiPort: api.port,
      startedAt: new Date().toISOString(),
    };
    writeFileSync(path.join(dataDir, RUNTIME_FILE), JSON.stringify(runtimeFile, null, 2));
    return runtime;
  }

  /** Stops accepting messages, ingests everything already accepted, then closes the store. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.broker.close();
    await this.drift.stop();
    await this.kpis.stop();
    await this.queue.drain();
    this.queue.close();
    for (const setup of this.scorings.values()) await setup.scoring.drain();
    await this.scoringSetups?.alerts.flushNotifications(true);
    await closeScoring(this.scoringSetups);
    await this.api.close();
    await this.refusals.close();
    await this.store.close();
    rmSync(path.join(this.dataDir, RUNTIME_FILE), { force: true });
  }
}

/** What ingestion checks against and writes to, as the Lambda has it: live traffic and replays alike. */
function ingestDependencies(
  options: LocalRuntimeOptions,
  store: DuckDbStore,
): Omit<IngestDependencies, 'quarantine'> {
  return {
    useCases: new Map(
      options.useCases.map((useCase) => [
        useCase.id,
        options.contracts.getAll(acceptedContractRefs(useCase)),
      ]),
    ),
    store,
    clock: systemClock,
    // What Timestream would take: up to the magnetic retention back, 15 minutes ahead.
    timeBounds: new Map(
      options.useCases.map((useCase) => [
        useCase.id,
        { ...DEFAULT_TIME_BOUNDS, maxAgeMs: useCase.storage.magneticRetentionDays * DAY_MS },
      ]),
    ),
  };
}

/** The SQS stand-in: the same ingest dependencies as the Lambda, a journal in the data folder, counters updated per batch. */
function createIngestQueue(
  options: LocalRuntimeOptions,
  dataDir: string,
  store: DuckDbStore,
  counters: RuntimeCounters,
  scoring: LocalScoringSetups | undefined,
): LocalIngestQueue {
  return new LocalIngestQueue({
    deps: { ...ingestDependencies(options, store), quarantine: store },
    journalDir: path.join(dataDir, QUEUE_DIR),
    deadLetter: (message) => store.deadLetter(message),
    batchSize: options.batchSize,
    batchWindowMs: options.batchWindowMs,
    onBatch: (summary: BatchSummary) => {
      counters.stored += summary.stored;
      counters.duplicates += summary.duplicates;
      counters.quarantined += summary.quarantined;
      counters.retried += summary.retried;
      for (const [useCase, records] of groupByUseCase(summary.storedRecords))
        scoring?.byUseCase.get(useCase)?.scoring.submit(records);
    },
    onError: options.onError,
    onWarning: options.onWarning,
  });
}

export interface LocalScoringSetup {
  readonly useCase: string;
  readonly model: AnomalyModel;
  readonly trained: boolean;
  readonly scoring: LocalScoring;
  readonly server: ModelServer;
  /** Stops following the model registry. */
  readonly unwatch: () => void;
}

/** Scoring of every use case with a model, and the one alert service they share. */
export interface LocalScoringSetups {
  readonly byUseCase: ReadonlyMap<string, LocalScoringSetup>;
  readonly alerts: AlertService;
  readonly flushTimer: NodeJS.Timeout;
}

/**
 * Loads or trains the model of each use case that has one, serves each locally (on `port`, the
 * next on `port + 1`…, or each on a free port with 0) and scores through it, each device against
 * its own baseline, with its use case's alert policy.
 */
async function startScoring(
  options: LocalRuntimeOptions,
  dataDir: string,
  store: DuckDbStore,
  alertStore: DuckDbAlertStore,
  host: string,
  port: number,
): Promise<LocalScoringSetups | undefined> {
  const manifests = options.useCases.filter((useCase) => useCase.model);
  if (manifests.length === 0) return undefined;
  const notifier = new LocalAlertNotifier(alertStore, options.onNotification);
  const policies = new Map(
    options.useCases.map((useCase) => [
      useCase.id,
      { policy: useCase.alerts, inference: alertInferenceOf(useCase) },
    ]),
  );
  const alerts = new AlertService(
    alertStore,
    alertStore,
    notifier,
    new NotificationGrouper((useCase) => (policies.get(useCase)?.policy.groupWindowSeconds ?? 0) * 1000),
    systemClock,
    policies,
  );
  const byUseCase = new Map<string, LocalScoringSetup>();
  try {
    for (const [index, manifest] of manifests.entries()) {
      byUseCase.set(
        manifest.id,
        await scoreUseCase(
          manifest,
          options,
          dataDir,
          store,
          alertStore,
          alerts,
          host,
          port === 0 ? 0 : port + index,
        ),
      );
    }
  } catch (error) {
    for (const setup of byUseCase.values()) {
      setup.unwatch();
      await setup.server.close();
    }
    throw error;
  }
  const flushTimer = setInterval(() => {
    alerts.flushNotifications().catch((error: unknown) => options.onError?.(error));
  }, 1000);
  flushTimer.unref();
  return { byUseCase, alerts, flushTimer };
}

async function scoreUseCase(
  manifest: UseCaseManifest,
  options: LocalRuntimeOptions,
  dataDir: string,
  store: DuckDbStore,
  alertStore: DuckDbAlertStore,
  alerts: AlertService,
  host: string,
  port: number,
): Promise<LocalScoringSetup> {
  const contract = options.contracts.get(manifest.contract);
  const { model, trained } = ensureLocalModel(manifest, contract, path.join(dataDir, 'models', manifest.id));
  // Every sensor the model knows: a device's baseline may track one the fleet model leaves out.
  const sensors = model.sensors;
  const columns = sensors.map((sensor) => contract.measures[sensor]?.column ?? sensor);
  let live = model;
  const server = await startModelServer(() => live, { port, host });
  // An approved version (aiot model approve, rollback) is live in the registry: score with it now.
  const registry = FileModelRegistry.inDataDir(dataDir, manifest.id);
  const follow = () => {
    try {
      const next = registry.liveModel();
      if (next.modelVersion === live.modelVersion) return;
      if (
        next.sensors.join() !== live.sensors.join() ||
        next.params.smoothingWindow !== live.params.smoothingWindow
      ) {
        options.onWarning?.(
          `model ${next.modelVersion} is live in the registry but scores other inputs than ${live.modelVersion}: restart the runtime to score with it`,
        );
        return;
      }
      live = next;
      options.onModelChange?.(manifest.id, next.modelVersion);
    } catch (error) {
      options.onError?.(error);
    }
  };
  watchFile(registry.file, { interval: 500, persistent: false }, follow);
  const scorer = new ResilientScorer(
    new HttpInferenceClient(`http://${host}:${server.port}`),
    systemClock,
    (ms, signal) => sleep(ms, undefined, { signal }),
  );
  const windows = new DeviceWindows(columns, sensors, model.params.smoothingWindow);
  const deviceScoring = new DeviceScoring(windows, scorer, alertStore, store, systemClock, {
    calibrationReadings: new Map([[manifest.id, manifest.alerts.calibrationReadings]]),
  });
  return {
    useCase: manifest.id,
    get model() {
      return live;
    },
    trained,
    unwatch: () => {
      unwatchFile(registry.file, follow);
    },
    server,
    scoring: new LocalScoring(deviceScoring, store, alerts, options.onError),
  };
}

async function closeScoring(scoring: LocalScoringSetups | undefined): Promise<void> {
  if (!scoring) return;
  clearInterval(scoring.flushTimer);
  for (const setup of scoring.byUseCase.values()) {
    setup.unwatch();
    await setup.server.close();
  }
}

function groupByUseCase(records: readonly TelemetryRecord[]): Map<string, TelemetryRecord[]> {
  const groups = new Map<string, TelemetryRecord[]>();
  for (const record of records) {
    const group = groups.get(record.dimensions.use_case);
    if (group) group.push(record);
    else groups.set(record.dimensions.use_case, [record]);
  }
  return groups;
}

/**
 * Checks an edge health report and keeps it; a malformed one goes to the quarantine with its
 * reasons, like a malformed reading, instead of vanishing.
 */
async function recordHealth(
  store: DuckDbStore,
  { useCase, thing }: { useCase: string; thing: string },
  arrival: TelemetryArrival,
  counters: RuntimeCounters,
): Promise<void> {
  let reasons: Reason[];
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(arrival.payload));
    const parsed = healthReportSchema.safeParse(raw, { reportInput: true });
    if (parsed.success && parsed.data.deviceId === thing) {
      await store.recordHealth(useCase, arrival.receivedAt, parsed.data, raw);
      return;
    }
    reasons = parsed.success
      ? [
          {
            path: 'deviceId',
            code: 'identity_mismatch',
            message: `"${parsed.data.deviceId}" is not the publishing thing "${thing}"`,
          },
        ]
      : reasonsFromZod(parsed.error.issues);
  } catch (error) {
    reasons = [
      {
        path: '',
        code: 'invalid_json',
        message: `health report is not UTF-8 JSON: ${error instanceof Error ? error.message : String(error)}`,
      },
    ];
  }
  const outcome = await store.put({
    id: randomUUID(),
    stage: 'health',
    useCase,
    deviceId: thing,
    topic: arrival.topic,
    clientId: arrival.clientId,
    receivedAt: arrival.receivedAt,
    quarantinedAt: Date.now(),
    reasons,
    payloadBase64: bytesToBase64(arrival.payload),
  });
  if (outcome === 'kept') counters.quarantined += 1;
}

/** The broker's refusals, written to the `refusals` table in batches (a flood of them is four writes a second). */
class RefusalLog {
  private pending: RefusalRow[] = [];
  private readonly timer: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: DuckDbStore,
    private readonly onError: ((error: unknown) => void) | undefined,
  ) {
    // Often enough that a crash loses little of the log, rarely enough that a flood is a few writes.
    this.timer = setInterval(() => {
      void this.flush();
    }, 250);
    this.timer.unref();
  }

  add(refusal: Refusal): void {
    this.pending.push({ at: Date.now(), ...refusal });
  }

  private flush(): Promise<void> {
    const rows = this.pending;
    this.pending = [];
    this.writing = this.writing
      .then(() => this.store.recordRefusals(rows))
      .catch((error: unknown) => this.onError?.(error));
    return this.writing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
