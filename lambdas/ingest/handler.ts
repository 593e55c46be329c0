import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { TimestreamWriteClient } from '@aws-sdk/client-timestream-write';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { getContract } from '../../core/contracts/registry.ts';
import { formatReason } from '../../core/contracts/reasons.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { DeviceWindows } from '../../core/inference/device-windows.ts';
import { toInferenceRecords, type InferenceStore } from '../../core/inference/inference-records.ts';
import { ResilientScorer } from '../../core/inference/resilient-scorer.ts';
import { ingestBatch, type BatchSummary, type IngestDependencies } from '../../core/ingest/ingest-batch.ts';
import { DEFAULT_TIME_BOUNDS, systemClock } from '../../core/ingest/ports.ts';
import { S3QuarantineSink } from '../adapters/s3-quarantine-sink.ts';
import { SageMakerInferenceClient } from '../adapters/sagemaker-inference-client.ts';
import { TimestreamInferenceStore } from '../adapters/timestream-inference-store.ts';
import { TimestreamTelemetryStore } from '../adapters/timestream-telemetry-store.ts';
import { requireEnv } from '../shared/env.ts';
import { logger, metrics } from '../shared/powertools.ts';

/** Scoring after ingestion: the endpoint, the inferences table, and each device's recent history. */
export interface ScoringDependencies {
  readonly scorer: ResilientScorer;
  readonly windows: DeviceWindows;
  readonly inferences: InferenceStore;
}

/**
 * Scoring is on when the construct sets ENDPOINT_NAME. History lives in this execution
 * environment, so a cold start or a device spread over several environments scores with a shorter
 * history (the model treats it as a prefix).
 */
export function scoringFromEnv(env: NodeJS.ProcessEnv = process.env): ScoringDependencies | undefined {
  const endpointName = env.ENDPOINT_NAME;
  if (!endpointName) return undefined;
  const contract = getContract(requireEnv('CONTRACT', env));
  const sensors = requireEnv('MODEL_SENSORS', env).split(',');
  const columns = sensors.map((sensor) => {
    const column = contract.measures[sensor]?.column;
    if (!column) throw new Error(`MODEL_SENSORS names "${sensor}", which ${contract.ref} does not have`);
    return column;
  });
  return {
    scorer: new ResilientScorer(
      new SageMakerInferenceClient(new SageMakerRuntimeClient({ maxAttempts: 1 }), endpointName),
      systemClock,
      (ms, signal) => sleep(ms, undefined, { signal }),
      { timeoutMs: Number(env.INFERENCE_TIMEOUT_MS ?? 2000) },
    ),
    windows: new DeviceWindows(columns, sensors, Number(env.MODEL_HISTORY ?? 60)),
    inferences: new TimestreamInferenceStore(new TimestreamWriteClient({}), {
      databaseName: requireEnv('TIMESTREAM_DATABASE', env),
      tableName: requireEnv('TIMESTREAM_INFERENCES_TABLE', env),
    }),
  };
}

/** Wires the ports to AWS from the environment the IngestPipeline construct sets. */
export function dependenciesFromEnv(env: NodeJS.ProcessEnv = process.env): IngestDependencies {
  const useCase = requireEnv('USE_CASE', env);
  const maxAgeDays = Number(requireEnv('MAX_RECORD_AGE_DAYS', env));
  if (!(maxAgeDays > 0))
    throw new Error(
      `MAX_RECORD_AGE_DAYS must be a number of days above 0, got "${env.MAX_RECORD_AGE_DAYS ?? ''}"`,
    );
  return {
    useCases: new Map([[useCase, getContract(requireEnv('CONTRACT', env))]]),
    timeBounds: new Map([[useCase, { ...DEFAULT_TIME_BOUNDS, maxAgeMs: maxAgeDays * 24 * 3600 * 1000 }]]),
    store: new TimestreamTelemetryStore(new TimestreamWriteClient({}), {
      databaseName: requireEnv('TIMESTREAM_DATABASE', env),
      tableName: requireEnv('TIMESTREAM_TABLE', env),
    }),
    quarantine: new S3QuarantineSink(new S3Client({}), requireEnv('QUARANTINE_BUCKET', env)),
    clock: systemClock,
  };
}

/** Builds the SQS handler around its dependencies, so tests inject mocked clients. */
export function createHandler(deps: IngestDependencies, scoring?: ScoringDependencies) {
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    if (context) logger.addContext(context);
    const summary = await ingestBatch(
      event.Records.map((record) => ({ id: record.messageId, body: record.body })),
      deps,
    );
    for (const result of summary.results) {
      if (result.outcome === 'quarantined' || result.outcome === 'retry') {
        logger.warn(result.outcome === 'retry' ? 'message will be retried' : 'message quarantined', {
          messageId: result.id,
          thing: result.thing,
          reasons: result.reasons.map(formatReason),
        });
      }
    }
    if (scoring) await scoreStored(scoring, summary.storedRecords);
    metrics.addMetric('MessagesStored', MetricUnit.Count, summary.stored);
    metrics.addMetric('MessagesDuplicate', MetricUnit.Count, summary.duplicates);
    metrics.addMetric('MessagesQuarantined', MetricUnit.Count, summary.quarantined);
    metrics.addMetric('MessagesRetried', MetricUnit.Count, summary.retried);
    metrics.publishStoredMetrics();
    return {
      batchItemFailures: summary.results
        .filter((result) => result.outcome === 'retry')
        .map((result) => ({ itemIdentifier: result.id })),
    };
  };
}

/** Scores what was stored. Never fails the batch: storage already succeeded. */
async function scoreStored(
  scoring: ScoringDependencies,
  records: BatchSummary['storedRecords'],
): Promise<void> {
  await Promise.all(
    scoring.windows.add(records).map(async (device) => {
      const outcome = await scoring.scorer.score(device.window);
      const rows = toInferenceRecords(device.useCase, device.deviceId, device.records, outcome);
      try {
        await scoring.inferences.writeInferences(rows);
      } catch (error) {
        logger.error('inferences not written', { deviceId: device.deviceId, error: error as Error });
        metrics.addMetric('InferencesLost', MetricUnit.Count, rows.length);
        return;
      }
      if (outcome.status === 'skipped') {
        logger.warn('readings stored but not scored', { deviceId: device.deviceId, reason: outcome.reason });
        metrics.addMetric('ReadingsUnscored', MetricUnit.Count, rows.length);
      } else {
        metrics.addMetric('ReadingsScored', MetricUnit.Count, rows.length);
        metrics.addMetric('AnomalousReadings', MetricUnit.Count, rows.filter((r) => r.anomalous).length);
        metrics.addMetric('InferenceLatency', MetricUnit.Milliseconds, outcome.latencyMs);
      }
    }),
  );
}

let handlerInstance: ReturnType<typeof createHandler> | undefined;

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  // Built on first call so that a missing variable fails the invocation with its name, not the import.
  handlerInstance ??= createHandler(dependenciesFromEnv(), scoringFromEnv());
  return handlerInstance(event, context);
};
