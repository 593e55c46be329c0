import * as path from 'node:path';
import type { BaselineStore } from '../../core/baseline/ports.ts';
import type { ContractRegistry } from '../../core/contracts/registry.ts';
import { LocalCertificateAuthority } from '../broker/certs.ts';
import { LocalProvisioning } from '../broker/provisioning.ts';
import type { LocalIngestQueue } from '../ingest/ingest-queue.ts';
import type { LocalDriftSchedule } from '../schedules/drift-schedule.ts';
import type { LocalKpiSchedule } from '../schedules/kpi-schedule.ts';
import type { LocalFineTuner } from '../scoring/fine-tuner.ts';
import { closeScoring, type LocalScoringSetup, type LocalScoringSetups } from '../scoring/scoring-setup.ts';
import type { DuckDbAlertStore } from '../store/duckdb-alert-store.ts';
import { DuckDbStore } from '../store/duckdb-store.ts';
import { DATABASE_FILE, readRuntimeFile, removeRuntimeFile, writeRuntimeFile } from './data-dir.ts';
import { startListeners, type Listeners } from './listeners.ts';
import type { LocalRuntimeOptions, RuntimeCounters } from './options.ts';
import { assertPortsFree, planPorts, type PortPlan } from './ports.ts';
import { RefusalLog } from './refusal-log.ts';
import { createIngestQueue, openServices } from './services.ts';

export type { LocalRuntimeOptions, RuntimeCounters } from './options.ts';
export { localRuleName } from './listeners.ts';
export { DATABASE_FILE, QUEUE_DIR, RUNTIME_FILE, readRuntimeFile, type RuntimeFile } from './data-dir.ts';
export type { LocalScoringSetup, LocalScoringSetups } from '../scoring/scoring-setup.ts';

/** What the runtime is made of, once started. */
interface RuntimeParts {
  readonly counters: RuntimeCounters;
  readonly dataDir: string;
  readonly ca: LocalCertificateAuthority;
  readonly provisioning: LocalProvisioning;
  readonly store: DuckDbStore;
  readonly queue: LocalIngestQueue;
  readonly listeners: Listeners;
  readonly refusals: RefusalLog;
  readonly scoring: LocalScoringSetups | undefined;
  readonly alertStore: DuckDbAlertStore;
  readonly drift: LocalDriftSchedule;
  readonly kpis: LocalKpiSchedule;
  readonly fineTuner: LocalFineTuner | undefined;
  readonly contracts: ContractRegistry;
}

/**
 * The whole ingestion path on one machine: local CA, MQTT broker with the device policy, the
 * ingest rule, a batching queue and the same ingest logic as the Lambda, into DuckDB; scoring,
 * alerts, drift checks and KPIs around it; the query API and the operator console.
 */
export class LocalRuntime {
  private stopped = false;
  /** Live counts, updated by the broker and the queue as messages move. */
  readonly counters: Readonly<RuntimeCounters>;
  readonly dataDir: string;
  readonly ca: LocalCertificateAuthority;
  /** Fleet provisioning by claim: its allow-list and the certificates it attached. */
  readonly provisioning: LocalProvisioning;
  readonly store: DuckDbStore;
  readonly queue: LocalIngestQueue;
  /** The drift checks, on their schedule and on demand. */
  readonly drift: LocalDriftSchedule;
  /** The KPIs of every use case, computed into the `kpis` table every hour. */
  readonly kpis: LocalKpiSchedule;
  /** The contracts it validates against. */
  readonly contracts: ContractRegistry;

  private constructor(private readonly parts: RuntimeParts) {
    this.counters = parts.counters;
    this.dataDir = parts.dataDir;
    this.ca = parts.ca;
    this.provisioning = parts.provisioning;
    this.store = parts.store;
    this.queue = parts.queue;
    this.drift = parts.drift;
    this.kpis = parts.kpis;
    this.contracts = parts.contracts;
  }

  get mqttPort(): number {
    return this.parts.listeners.broker.port;
  }

  get apiPort(): number {
    return this.parts.listeners.api.port;
  }

  get mqttUrl(): string {
    return `mqtts://localhost:${this.mqttPort}`;
  }

  /** The operator console's address, when the runtime serves one. */
  get consoleUrl(): string | undefined {
    return this.parts.listeners.console?.url;
  }

  /** Scoring of each use case with a model, by use case (none when the runtime does not score). */
  get scorings(): ReadonlyMap<string, LocalScoringSetup> {
    return this.parts.scoring?.byUseCase ?? new Map();
  }

  /** The scoring of one use case, if it has a model and the runtime scores. */
  scoringOf(useCase: string): LocalScoringSetup | undefined {
    return this.parts.scoring?.byUseCase.get(useCase);
  }

  /**
   * Looks at the operators' false-positive verdicts now and trains any candidate due
   * (`model.fineTune`); the runtime also does so on its own every `fineTuneCheckMs`.
   */
  fineTuneNow(): Promise<void> {
    return this.parts.fineTuner?.check() ?? Promise.resolve();
  }

  /** Each device's baseline and calibration, when the runtime scores. */
  get baselines(): BaselineStore | undefined {
    return this.parts.scoring ? this.parts.alertStore : undefined;
  }

  get connectedDevices(): number {
    return this.parts.listeners.broker.connectedClients();
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
    // Checked before anything is opened: a clash of two of our own ports is a message, not a crash.
    const ports = planPorts(
      {
        ...(options.mqttPort === undefined ? {} : { mqtt: options.mqttPort }),
        ...(options.apiPort === undefined ? {} : { api: options.apiPort }),
        ...(options.modelPort === undefined ? {} : { model: options.modelPort }),
        console: options.console ? (options.console.port ?? undefined) : false,
      } as const,
      options.useCases.filter((useCase) => useCase.model).map((useCase) => useCase.id),
    );
    await assertPortsFree(ports, options.host ?? '127.0.0.1');
    const ca = await LocalCertificateAuthority.openOrCreate(path.join(dataDir, 'certs'));
    const store = await DuckDbStore.open(path.join(dataDir, DATABASE_FILE), {
      measureColumns: options.contracts.measureColumns().map((m) => m.column),
      ...(options.checkpointThreshold === undefined
        ? {}
        : { checkpointThreshold: options.checkpointThreshold }),
    });
    try {
      return await LocalRuntime.assemble(options, dataDir, ports, ca, store);
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  private static async assemble(
    options: LocalRuntimeOptions,
    dataDir: string,
    ports: PortPlan,
    ca: LocalCertificateAuthority,
    store: DuckDbStore,
  ): Promise<LocalRuntime> {
    const services = await openServices(options, dataDir, ports, store);
    const counters: RuntimeCounters = {
      received: 0,
      stored: 0,
      duplicates: 0,
      quarantined: 0,
      refused: 0,
      retried: 0,
      batches: 0,
    };
    const refusals = new RefusalLog(store, options.onError);
    const provisioning = localProvisioning(dataDir, ca, options, refusals);
    // The queue is made once everything listens: a replay of the journal must not start before a
    // busy port has been reported.
    const ingest: { queue?: LocalIngestQueue } = {};
    let listeners: Listeners;
    try {
      listeners = await startListeners({
        options,
        ports,
        ca,
        store,
        provisioning,
        counters,
        refusals,
        drift: services.drift,
        operations: services.operations,
        enqueue: (message) => {
          if (!ingest.queue) throw new Error('the runtime is starting');
          ingest.queue.send(message);
        },
        replay: services.replay,
      });
    } catch (error) {
      await closeScoring(services.scoring);
      await refusals.close();
      throw error;
    }
    const queue = (ingest.queue = createIngestQueue(options, dataDir, store, counters, services.scoring));
    const runtime = new LocalRuntime({
      ...services,
      counters,
      dataDir,
      ca,
      provisioning,
      store,
      queue,
      listeners,
      refusals,
      contracts: options.contracts,
    });
    services.drift.start();
    services.kpis.start();
    services.fineTuner?.start();
    writeRuntimeFile(dataDir, {
      pid: process.pid,
      mqttPort: listeners.broker.port,
      apiPort: listeners.api.port,
      ...(listeners.console ? { consolePort: listeners.console.port } : {}),
      modelPorts: Object.fromEntries(
        [...runtime.scorings].map(([useCase, setup]) => [useCase, setup.server.port]),
      ),
      startedAt: new Date().toISOString(),
    });
    return runtime;
  }

  /** Stops accepting messages, ingests everything already accepted, then closes the store. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const { listeners, scoring } = this.parts;
    await listeners.console?.close();
    await listeners.broker.close();
    await this.drift.stop();
    await this.kpis.stop();
    await this.parts.fineTuner?.stop();
    await this.queue.drain();
    this.queue.close();
    for (const setup of this.scorings.values()) await setup.scoring.drain();
    await scoring?.alerts.flushNotifications(true);
    await closeScoring(scoring);
    await listeners.api.close();
    await this.parts.refusals.close();
    await this.store.close();
    removeRuntimeFile(this.dataDir);
  }
}

/** Devices with only a claim certificate provision themselves against provisioning/allow-list.json. */
function localProvisioning(
  dataDir: string,
  ca: LocalCertificateAuthority,
  options: LocalRuntimeOptions,
  refusals: RefusalLog,
): LocalProvisioning {
  return new LocalProvisioning(
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
}
