import type { GroupNotification } from '../../core/alerts/ports.ts';
import type { ContractRegistry } from '../../core/contracts/registry.ts';
import type { DriftReport } from '../../core/drift/ports.ts';
import type { InferenceRecord } from '../../core/inference/inference-records.ts';
import type { Actor } from '../../core/operators/actor.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import type { Refusal } from '../broker/broker.ts';

/** The operator console the runtime serves beside its API. */
export interface ConsoleOptions {
  /** The console's built files by URL path (`buildConsole()`). */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** Who the console acts as: every decision made through it is recorded with this name and role. */
  readonly actor: Actor;
  /** 0 picks a free port. @default 8886 */
  readonly port?: number;
}

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
  /**
   * How long an accepted message may wait for its ingest batch to fill (the event source mapping's
   * batching window): a batch goes when full or when its oldest message has waited this long.
   * @default 200
   */
  readonly batchWindowMs?: number;
  /**
   * Write-ahead log size at which the store checkpoints (DuckDB's `checkpoint_threshold`). A
   * checkpoint holds the store's one writer up while it writes what the log holds
   * (docs/benchmarks.md); a larger threshold makes them rarer and longer, and a restart after a
   * crash replays more. @default "16MiB", DuckDB's own
   */
  readonly checkpointThreshold?: string;
  /**
   * Port of the first use case's model server (the container's code), the next use case's the one
   * after; 0 picks free ones; `false` runs without scoring. @default 0
   */
  readonly modelPort?: number | false;
  /** The operator console, served beside the runtime. @default none */
  readonly console?: ConsoleOptions;
  readonly onRefused?: (refusal: Refusal) => void;
  /** A grouped alert notification, what SNS would send to people. */
  readonly onNotification?: (notification: GroupNotification) => void;
  /** A scoring pass's inference rows, once written (what the cloud writes to Timestream). */
  readonly onScored?: (rows: readonly InferenceRecord[]) => void;
  /** A drift run's report (every `drift.everyMinutes`), what the cloud publishes as events. */
  readonly onDrift?: (report: DriftReport) => void;
  readonly onError?: (error: unknown) => void;
  readonly onWarning?: (message: string) => void;
  /** The runtime scores with another model version now (approved or rolled back in the registry). */
  readonly onModelChange?: (useCase: string, modelVersion: string) => void;
  /** A candidate model trained by itself after false positives, pending a person's approval. */
  readonly onCandidate?: (useCase: string, modelVersion: string, reason: string) => void;
  /** How often false-positive verdicts are looked at for fine-tuning (`model.fineTune`). @default 60 000 */
  readonly fineTuneCheckMs?: number;
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
  /** Ingest batches run (as Lambda invocations of the ingest function would be). */
  batches: number;
}
