import { unwatchFile, watchFile } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContractRegistry } from '../../core/contracts/registry.ts';
import { AlertService } from '../../core/alerts/alert-service.ts';
import { NotificationGrouper } from '../../core/alerts/grouping.ts';
import type { GroupNotification } from '../../core/alerts/ports.ts';
import { DeviceScoring } from '../../core/baseline/device-scoring.ts';
import type { TelemetryReader } from '../../core/baseline/ports.ts';
import { resolveEdgeSettings } from '../../core/edge/settings.ts';
import { DeviceWindows } from '../../core/inference/device-windows.ts';
import { BatchingInferenceClient } from '../../core/inference/batching-client.ts';
import type { InferenceRecord } from '../../core/inference/inference-records.ts';
import { ResilientScorer } from '../../core/inference/resilient-scorer.ts';
import { systemClock } from '../../core/ingest/ports.ts';
import { historyReadings, type AnomalyModel } from '../../core/model/anomaly-model.ts';
import { alertInferenceOf, type UseCaseManifest } from '../../core/usecase/manifest.ts';
import type { ModelServer } from '../../model/serve.ts';
import { listenError } from '../http/listen.ts';
import { LISTENERS } from '../runtime/ports.ts';
import type { DuckDbAlertStore } from '../store/duckdb-alert-store.ts';
import type { DuckDbStore } from '../store/duckdb-store.ts';
import { LocalAlertNotifier } from './alert-notifier.ts';
import { HttpInferenceClient } from './http-inference-client.ts';
import { ensureLocalModel } from './model-bootstrap.ts';
import { startModelServerThread, type ThreadedModelServer } from './model-server-thread.ts';
import { FileModelRegistry } from './model-registry.ts';
import { LocalScoring } from './scoring.ts';

export interface LocalScoringSetup {
  readonly useCase: string;
  readonly model: AnomalyModel;
  readonly trained: boolean;
  readonly scoring: LocalScoring;
  readonly server: ModelServer;
  /** Readings a device of this use case calibrates on before it may raise an alert. */
  readonly calibrationReadings: number;
  /** The use case's edge heartbeat: the longest its devices are quiet by design. */
  readonly heartbeatMs: number;
  /** Stops following the model registry. */
  readonly unwatch: () => void;
}

/** Scoring of every use case with a model, and the one alert service they share. */
export interface LocalScoringSetups {
  readonly byUseCase: ReadonlyMap<string, LocalScoringSetup>;
  readonly alerts: AlertService;
  readonly flushTimer: NodeJS.Timeout;
}

/** What scoring needs of the runtime around it. */
export interface ScoringContext {
  readonly useCases: readonly UseCaseManifest[];
  readonly contracts: ContractRegistry;
  readonly dataDir: string;
  readonly store: DuckDbStore;
  readonly alertStore: DuckDbAlertStore;
  readonly host: string;
  /** Each use case's model server port (0: a free one), from the runtime's port plan. */
  readonly ports: ReadonlyMap<string, number>;
  readonly onNotification?: (notification: GroupNotification) => void;
  readonly onModelChange?: (useCase: string, modelVersion: string) => void;
  readonly onScored?: (rows: readonly InferenceRecord[]) => void;
  readonly onWarning?: (message: string) => void;
  readonly onError?: (error: unknown) => void;
}

/**
 * Loads or trains the model of each use case that has one, serves each locally on its planned
 * port and scores through it, each device against its own baseline, with its use case's alert
 * policy.
 */
export async function startScoring(context: ScoringContext): Promise<LocalScoringSetups | undefined> {
  const manifests = context.useCases.filter((useCase) => context.ports.has(useCase.id));
  if (manifests.length === 0) return undefined;
  const notifier = new LocalAlertNotifier(context.alertStore, context.onNotification);
  const policies = new Map(
    context.useCases.map((useCase) => [
      useCase.id,
      { policy: useCase.alerts, inference: alertInferenceOf(useCase) },
    ]),
  );
  const alerts = new AlertService(
    context.alertStore,
    context.alertStore,
    notifier,
    new NotificationGrouper((useCase) => (policies.get(useCase)?.policy.groupWindowSeconds ?? 0) * 1000),
    systemClock,
    policies,
  );
  const byUseCase = new Map<string, LocalScoringSetup>();
  try {
    for (const manifest of manifests) {
      byUseCase.set(manifest.id, await scoreUseCase(manifest, context, alerts));
    }
  } catch (error) {
    for (const setup of byUseCase.values()) {
      setup.unwatch();
      await setup.server.close();
    }
    throw error;
  }
  const flushTimer = setInterval(() => {
    alerts.flushNotifications().catch((error: unknown) => context.onError?.(error));
  }, 1000);
  flushTimer.unref();
  return { byUseCase, alerts, flushTimer };
}

async function scoreUseCase(
  manifest: UseCaseManifest,
  context: ScoringContext,
  alerts: AlertService,
): Promise<LocalScoringSetup> {
  const contract = context.contracts.get(manifest.contract);
  const { model, trained } = ensureLocalModel(
    manifest,
    contract,
    path.join(context.dataDir, 'models', manifest.id),
  );
  // Every sensor the model knows: a device's baseline may track one the fleet model leaves out.
  const sensors = model.sensors;
  const columns = sensors.map((sensor) => contract.measures[sensor]?.column ?? sensor);
  const live = { model };
  const port = context.ports.get(manifest.id) ?? 0;
  // On a thread of its own, as the container has CPU of its own.
  const server = await startModelServerThread(model, {
    port,
    host: context.host,
    ...(context.onError ? { onError: context.onError } : {}),
  }).catch((error: unknown) => {
    throw listenError(error, port, context.host, LISTENERS.model.flag);
  });
  const registry = FileModelRegistry.inDataDir(context.dataDir, manifest.id);
  const follow = followRegistry(registry, live, manifest.id, context, server);
  watchFile(registry.file, { interval: 500, persistent: false }, follow);
  // The windows of every device of a scoring pass go to the model server in one call.
  const scorer = new ResilientScorer(
    new BatchingInferenceClient(
      new HttpInferenceClient(`http://${context.host}:${server.port}`),
      setImmediate,
    ),
    systemClock,
    (ms, signal) => sleep(ms, undefined, { signal }),
  );
  const windows = new DeviceWindows(columns, sensors, historyReadings(model.params));
  // Calibration readings come from the reader connection: they were committed before their pass
  // began, and a read of a device's 1,800 readings would hold ingestion's writes up behind it.
  const reader: TelemetryReader = {
    readings: (useCase, deviceId, range, limit) =>
      context.store.readings(useCase, deviceId, range, limit, 'reader'),
  };
  const deviceScoring = new DeviceScoring(windows, scorer, context.alertStore, reader, systemClock, {
    calibrationReadings: new Map([[manifest.id, manifest.alerts.calibrationReadings]]),
    // One thread serves the broker, ingestion and scoring here: a fleet commissioned at once
    // completes one calibration a pass, so no pass stops for long (a Lambda has its own CPU).
    maxCalibrationsPerBatch: 1,
  });
  return {
    useCase: manifest.id,
    get model() {
      return live.model;
    },
    trained,
    calibrationReadings: manifest.alerts.calibrationReadings,
    heartbeatMs: resolveEdgeSettings(manifest.edge, '').heartbeatMs,
    unwatch: () => {
      unwatchFile(registry.file, follow);
    },
    server,
    scoring: new LocalScoring(deviceScoring, context.store, alerts, context.onError, context.onScored),
  };
}

/**
 * An approved version (aiot model approve, rollback) is live in the registry: score with it now,
 * unless it takes other inputs than the scoring was built for.
 */
function followRegistry(
  registry: FileModelRegistry,
  live: { model: AnomalyModel },
  useCase: string,
  context: ScoringContext,
  server: ThreadedModelServer,
): () => void {
  return () => {
    try {
      const next = registry.liveModel();
      if (next.modelVersion === live.model.modelVersion) return;
      if (
        next.sensors.join() !== live.model.sensors.join() ||
        next.params.smoothingWindow !== live.model.params.smoothingWindow
      ) {
        context.onWarning?.(
          `model ${next.modelVersion} is live in the registry but scores other inputs than ${live.model.modelVersion}: restart the runtime to score with it`,
        );
        return;
      }
      live.model = next;
      // Reported once the server scores with it.
      server.setModel(next).then(
        () => context.onModelChange?.(useCase, next.modelVersion),
        (error: unknown) => context.onError?.(error),
      );
    } catch (error) {
      context.onError?.(error);
    }
  };
}

export async function closeScoring(scoring: LocalScoringSetups | undefined): Promise<void> {
  if (!scoring) return;
  clearInterval(scoring.flushTimer);
  for (const setup of scoring.byUseCase.values()) {
    setup.unwatch();
    await setup.server.close();
  }
}
