import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getContract } from '../core/contracts/registry.ts';
import { DeviceWindows } from '../core/inference/device-windows.ts';
import { ResilientScorer } from '../core/inference/resilient-scorer.ts';
import type { AnomalyModel } from '../core/model/anomaly-model.ts';
import type { BatchSummary } from '../core/ingest/ingest-batch.ts';
import { systemClock } from '../core/ingest/ports.ts';
import { parseHealthTopic } from '../core/ingest/topics.ts';
import { applyIngestRule } from '../core/ingest/rule.ts';
import type { UseCaseManifest } from '../core/usecase/manifest.ts';
import { startLocalBroker, type LocalBroker, type Refusal } from './broker.ts';
import { LocalCertificateAuthority } from './certs.ts';
import { DuckDbStore } from './duckdb-store.ts';
import { startModelServer, type ModelServer } from '../model/serve.ts';
import { HttpInferenceClient } from './http-inference-client.ts';
import { LocalIngestQueue } from './ingest-queue.ts';
import { ensureLocalModel } from './model-bootstrap.ts';
import { LocalScoring } from './scoring.ts';
import { startQueryApi } from './query-api.ts';

export interface LocalRuntimeOptions {
  readonly useCases: readonly UseCaseManifest[];
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
  readonly onError?: (error: unknown) => void;
}

export interface RuntimeCounters {
  received: number;
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
    readonly store: DuckDbStore,
    readonly queue: LocalIngestQueue,
    private readonly broker: LocalBroker,
    private readonly api: { port: number; close(): Promise<void> },
    /** Scoring of the use case with a model, when the runtime scores. */
    readonly scoring:
      | { useCase: string; model: AnomalyModel; trained: boolean; scoring: LocalScoring; server: ModelServer }
      | undefined,
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
    const store = await DuckDbStore.open(path.join(dataDir, DATABASE_FILE));
    const scoring =
      options.modelPort === false
        ? undefined
        : await startScoring(
            options.useCases,
            dataDir,
            store,
            host,
            options.modelPort ?? 8885,
            options.onError,
          );
    const counters: RuntimeCounters = {
      received: 0,
      stored: 0,
      duplicates: 0,
      quarantined: 0,
      refused: 0,
      retried: 0,
    };
    const queue = new LocalIngestQueue({
      deps: {
        useCases: new Map(options.useCases.map((useCase) => [useCase.id, getContract(useCase.contract)])),
        store,
        quarantine: store,
        clock: systemClock,
      },
      deadLetter: (message) => store.deadLetter(message),
      batchSize: options.batchSize,
      batchWindowMs: options.batchWindowMs,
      onBatch: (summary: BatchSummary) => {
        counters.stored += summary.stored;
        counters.duplicates += summary.duplicates;
        counters.quarantined += summary.quarantined;
        counters.retried += summary.retried;
        scoring?.scoring.submit(summary.storedRecords);
      },
      onError: options.onError,
    });
    let broker: LocalBroker | undefined;
    let api: { port: number; close(): Promise<void> } | undefined;
    try {
      broker = await startLocalBroker({
        host,
        port: options.mqttPort ?? 8883,
        ca: ca.caPem,
        cert: brokerPair.cert,
        key: brokerPair.key,
        ruleNames: new Map(options.useCases.map((useCase) => [useCase.id, localRuleName(useCase.id)])),
        onTelemetry: (arrival) => {
          const health = parseHealthTopic(arrival.topic);
          if (health) {
            store
              .recordHealth(health.useCase, health.thing, arrival.receivedAt, arrival.payload)
              .catch((error: unknown) => options.onError?.(error));
            return;
          }
          counters.received += 1;
          queue.send(JSON.stringify(applyIngestRule(arrival)));
        },
        onRefused: (refusal) => {
          counters.refused += 1;
          options.onRefused?.(refusal);
        },
      });
      api = await startQueryApi(store, host, options.apiPort ?? 8884);
    } catch (error) {
      await broker?.close();
      await scoring?.server.close();
      await store.close();
      throw error;
    }
    const runtime = new LocalRuntime(counters, dataDir, ca, store, queue, broker, api, scoring);
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
    await this.queue.drain();
    await this.scoring?.scoring.drain();
    await this.scoring?.server.close();
    await this.api.close();
    await this.store.close();
    rmSync(path.join(this.dataDir, RUNTIME_FILE), { force: true });
  }
}

/** Loads or trains the model of the first use case that has one, serves it locally and scores through it. */
async function startScoring(
  useCases: readonly UseCaseManifest[],
  dataDir: string,
  store: DuckDbStore,
  host: string,
  port: number,
  onError: ((error: unknown) => void) | undefined,
): Promise<LocalRuntime['scoring']> {
  const manifest = useCases.find((useCase) => useCase.model);
  if (!manifest) return undefined;
  const { model, trained } = ensureLocalModel(manifest, path.join(dataDir, 'models', manifest.id));
  const contract = getContract(manifest.contract);
  const sensors = model.tracked.map((t) => t.sensor);
  const columns = sensors.map((sensor) => contract.measures[sensor]?.column ?? sensor);
  const server = await startModelServer(model, { port, host });
  const scorer = new ResilientScorer(
    new HttpInferenceClient(`http://${host}:${server.port}`),
    systemClock,
    (ms, signal) => sleep(ms, undefined, { signal }),
  );
  const windows = new DeviceWindows(columns, sensors, model.params.smoothingWindow);
  return {
    useCase: manifest.id,
    model,
    trained,
    server,
    scoring: new LocalScoring(windows, scorer, store, onError),
  };
}
