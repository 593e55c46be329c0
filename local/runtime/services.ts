import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { digestOf } from '../../core/audit/audit-event.ts';
import { configurationChanges } from '../../core/audit/configuration.ts';
import type { BatchSummary } from '../../core/ingest/ingest-batch.ts';
import { systemClock } from '../../core/ingest/ports.ts';
import {
  replayQuarantine,
  type ReplayFilter,
  type ReplayReport,
} from '../../core/ingest/quarantine-replay.ts';
import type { TelemetryRecord } from '../../core/ingest/records.ts';
import { OperatorApi } from '../../core/operators/api.ts';
import { SYSTEM } from '../../core/operators/actor.ts';
import { UnknownUseCase } from '../../core/usecase/unknown-use-case.ts';
import { FileAuditLog } from '../files/audit-log.ts';
import { ingestDependencies } from '../ingest/ingest-dependencies.ts';
import { LocalIngestQueue } from '../ingest/ingest-queue.ts';
import { LocalDriftSchedule } from '../schedules/drift-schedule.ts';
import { LocalKpiSchedule } from '../schedules/kpi-schedule.ts';
import { LocalModelVersions } from '../scoring/model-versions.ts';
import { LocalFineTuner } from '../scoring/fine-tuner.ts';
import { startScoring, type LocalScoringSetups } from '../scoring/scoring-setup.ts';
import { DuckDbDriftStore } from '../store/drift-store.ts';
import { DuckDbAlertStore } from '../store/duckdb-alert-store.ts';
import { StoreKpiReads } from '../store/kpi-reads.ts';
import { DuckDbQuarantineLedger } from '../store/duckdb-quarantine-ledger.ts';
import type { DuckDbStore } from '../store/duckdb-store.ts';
import { DuckDbOperatorReads } from '../store/operator-reads.ts';
import { QUEUE_DIR } from './data-dir.ts';
import type { LocalRuntimeOptions, RuntimeCounters } from './options.ts';
import type { PortPlan } from './ports.ts';

/** What the runtime runs on its store: alerts and baselines, scoring, schedules, the operators' API. */
export interface RuntimeServices {
  readonly alertStore: DuckDbAlertStore;
  readonly scoring: LocalScoringSetups | undefined;
  readonly drift: LocalDriftSchedule;
  readonly kpis: LocalKpiSchedule;
  /** Alerts, devices, baselines and silences for people; none when the runtime does not score. */
  readonly operations: OperatorApi | undefined;
  /** Candidates trained by themselves after false positives; none when the runtime does not score. */
  readonly fineTuner: LocalFineTuner | undefined;
  readonly replay: (filter: ReplayFilter) => Promise<ReplayReport>;
}

/**
 * Opens the services on the store, records on the audit trail what the runtime applies (manifests,
 * contracts, a model trained now), and starts the model servers on their planned ports.
 */
export async function openServices(
  options: LocalRuntimeOptions,
  dataDir: string,
  ports: PortPlan,
  store: DuckDbStore,
): Promise<RuntimeServices> {
  const audit = FileAuditLog.inDataDir(dataDir);
  await recordConfiguration(audit, options);
  const alertStore = await DuckDbAlertStore.open(store);
  const onError = (error: unknown) => options.onError?.(error);
  const kpis = await LocalKpiSchedule.open(store, options.useCases, options.contracts, systemClock, onError);
  const scoring = await startScoring({
    useCases: options.useCases,
    contracts: options.contracts,
    dataDir,
    store,
    alertStore,
    host: options.host ?? '127.0.0.1',
    ports: ports.models,
    onError,
    ...(options.onNotification ? { onNotification: options.onNotification } : {}),
    ...(options.onModelChange ? { onModelChange: options.onModelChange } : {}),
    ...(options.onScored ? { onScored: options.onScored } : {}),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
  await recordTrainedModels(audit, scoring);
  const drift = new LocalDriftSchedule(
    options.useCases,
    options.contracts,
    await DuckDbDriftStore.open(store),
    alertStore,
    (useCase) => scoring?.byUseCase.get(useCase)?.model,
    systemClock,
    (report) => options.onDrift?.(report),
    onError,
  );
  const ledger = await DuckDbQuarantineLedger.open(store);
  const operations = scoring
    ? new OperatorApi({
        alerts: scoring.alerts,
        alertStore,
        baselines: alertStore,
        reads: new DuckDbOperatorReads(store),
        useCases: options.useCases,
        contracts: options.contracts,
        clock: systemClock,
        newId: randomUUID,
        audit,
        kpis,
        models: new LocalModelVersions(dataDir),
        kpiReads: (manifest) =>
          new StoreKpiReads((sql) => store.query(sql), options.contracts.get(manifest.contract)),
      })
    : undefined;
  const replay = (filter: ReplayFilter) => replayOf(options, store, ledger, filter);
  const fineTuner = scoring
    ? new LocalFineTuner({
        dataDir,
        manifests: options.useCases.filter((useCase) => scoring.byUseCase.has(useCase.id)),
        contracts: options.contracts,
        alertStore,
        query: (sql) => store.query(sql),
        clock: systemClock,
        ...(options.fineTuneCheckMs === undefined ? {} : { checkEveryMs: options.fineTuneCheckMs }),
        ...(options.onCandidate ? { onCandidate: options.onCandidate } : {}),
        onError,
      })
    : undefined;
  return { alertStore, scoring, drift, kpis, operations, replay, fineTuner };
}

/** The manifests and contracts the runtime applies, on the audit trail when they changed. */
async function recordConfiguration(audit: FileAuditLog, options: LocalRuntimeOptions): Promise<void> {
  for (const change of configurationChanges(
    audit.entries(),
    { useCases: options.useCases, contracts: options.contracts.all() },
    options.actor ?? SYSTEM,
    Date.now(),
    'applied at start by the local runtime',
  )) {
    await audit.record(change);
  }
}

async function recordTrainedModels(
  audit: FileAuditLog,
  scoring: LocalScoringSetups | undefined,
): Promise<void> {
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
}

function replayOf(
  options: LocalRuntimeOptions,
  store: DuckDbStore,
  ledger: DuckDbQuarantineLedger,
  filter: ReplayFilter,
): Promise<ReplayReport> {
  if (filter.useCase !== undefined && !options.useCases.some((u) => u.id === filter.useCase)) {
    return Promise.reject(
      new UnknownUseCase(
        filter.useCase,
        options.useCases.map((u) => u.id),
      ),
    );
  }
  return replayQuarantine(ledger, ingestDependencies(options.useCases, options.contracts, store), filter);
}

/** The SQS stand-in: the same ingest dependencies as the Lambda, a journal in the data folder, counters updated per batch. */
export function createIngestQueue(
  options: LocalRuntimeOptions,
  dataDir: string,
  store: DuckDbStore,
  counters: RuntimeCounters,
  scoring: LocalScoringSetups | undefined,
): LocalIngestQueue {
  return new LocalIngestQueue({
    deps: { ...ingestDependencies(options.useCases, options.contracts, store), quarantine: store },
    journalDir: path.join(dataDir, QUEUE_DIR),
    deadLetter: (message) => store.deadLetter(message),
    batchSize: options.batchSize,
    batchWindowMs: options.batchWindowMs,
    onBatch: (summary: BatchSummary) => {
      counters.batches += 1;
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

function groupByUseCase(records: readonly TelemetryRecord[]): Map<string, TelemetryRecord[]> {
  const groups = new Map<string, TelemetryRecord[]>();
  for (const record of records) {
    const group = groups.get(record.dimensions.use_case);
    if (group) group.push(record);
    else groups.set(record.dimensions.use_case, [record]);
  }
  return groups;
}
