import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { formatReason, issuesText } from '../../core/contracts/reasons.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AlertService } from '../../core/alerts/alert-service.ts';
import { alertPolicySchema, type AlertPolicy } from '../../core/alerts/policy.ts';
import { DeviceScoring } from '../../core/baseline/device-scoring.ts';
import { DeviceWindows } from '../../core/inference/device-windows.ts';
import type { InferenceStore } from '../../core/inference/inference-records.ts';
import { BatchingInferenceClient } from '../../core/inference/batching-client.ts';
import { ResilientScorer } from '../../core/inference/resilient-scorer.ts';
import { ingestBatch, type BatchSummary, type IngestDependencies } from '../../core/ingest/ingest-batch.ts';
import { systemClock } from '../../core/ingest/ports.ts';
import { AwsAlertNotifier, NOTIFIED_BY_NOTIFY_FUNCTION } from '../adapters/aws-alert-notifier.ts';
import { DynamoDbAlertStore } from '../adapters/dynamodb-alert-store.ts';
import { DynamoDbNotificationBatcher } from '../adapters/dynamodb-notification-batcher.ts';
import { S3QuarantineSink } from '../adapters/s3-quarantine-sink.ts';
import { SageMakerInferenceClient } from '../adapters/sagemaker-inference-client.ts';
import { contractsFromEnv, ingestPathFromEnv } from '../shared/deployment.ts';
import { bundledEnv, requireEnv } from '../shared/env.ts';
import { scoringStoresFromEnv } from '../shared/telemetry-backend.ts';
import { logger, metrics } from '../shared/powertools.ts';

/** Scoring after ingestion: each device against its baseline, the inferences table, the alert policy. */
export interface ScoringDependencies {
  readonly scoring: DeviceScoring;
  readonly inferences: InferenceStore;
  readonly alerts: AlertService;
}

/**
 * Readings of history kept per device until the endpoint's first answer says what its model needs
 * (the deployed model, and so its smoothing window, can change with every retraining).
 */
const HISTORY_BEFORE_FIRST_ANSWER = 60;

/**
 * Scoring is on when the construct sets ENDPOINT_NAME. Smoothing history lives in this execution
 * environment, so after a cold start a device warms up for a window (no flags meanwhile); its
 * baseline and alert state live in the ALERT_TABLE, shared by every environment (conditional
 * writes), so several instances may score one device's batches.
 */
export function scoringFromEnv(env: NodeJS.ProcessEnv = process.env): ScoringDependencies | undefined {
  const endpointName = env.ENDPOINT_NAME;
  if (!endpointName) return undefined;
  const useCase = requireEnv('USE_CASE', env);
  // The model reads the current version's columns; older accepted versions share them (the manifest checks it).
  const contract = currentContract(env);
  const sensors = requireEnv('MODEL_SENSORS', env).split(',');
  const columns = sensors.map((sensor) => {
    const column = contract.measures[sensor]?.column;
    if (!column) throw new Error(`MODEL_SENSORS names "${sensor}", which ${contract.ref} does not have`);
    return column;
  });
  const policy = parsePolicy(requireEnv('ALERT_POLICY', env));
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  // Scoring reads a device's baseline, then its alert track: one query reads both.
  const store = new DynamoDbAlertStore(documents, requireEnv('ALERT_TABLE', env), {
    tracksWithBaseline: true,
  });
  // The windows of every device of a batch go to the endpoint in one call (split at 100 or 5 MB).
  const scorer = new ResilientScorer(
    new BatchingInferenceClient(
      new SageMakerInferenceClient(new SageMakerRuntimeClient({ maxAttempts: 1 }), endpointName),
      setImmediate,
    ),
    systemClock,
    (ms, signal) => sleep(ms, undefined, { signal }),
    { timeoutMs: Number(env.INFERENCE_TIMEOUT_MS ?? 2000) },
  );
  const stores = scoringStoresFromEnv(env, contract);
  return {
    scoring: new DeviceScoring(
      new DeviceWindows(columns, sensors, HISTORY_BEFORE_FIRST_ANSWER),
      scorer,
      store,
      stores.telemetry,
      systemClock,
      { calibrationReadings: new Map([[useCase, policy.calibrationReadings]]) },
    ),
    inferences: stores.inferences,
    alerts: new AlertService(
      store,
      store,
      new AwsAlertNotifier(
        new EventBridgeClient({}),
        requireEnv('EVENT_BUS_NAME', env),
        NOTIFIED_BY_NOTIFY_FUNCTION,
      ),
      // Grouped across invocations: the alert table holds each group's window, the notify function sends it.
      new DynamoDbNotificationBatcher(
        documents,
        requireEnv('ALERT_TABLE', env),
        new SQSClient({}),
        requireEnv('NOTIFY_QUEUE_URL', env),
        () => policy.groupWindowSeconds,
      ),
      systemClock,
      new Map([[useCase, { policy, inference: requireEnv('INFERENCE_ID', env) }]]),
    ),
  };
}

function currentContract(env: NodeJS.ProcessEnv) {
  const [current] = contractsFromEnv(env);
  if (!current)
    throw new Error("AIOT_CONTRACTS names no contract: the ingest function is built with its use case's");
  return current;
}

function parsePolicy(text: string): AlertPolicy {
  const parsed = alertPolicySchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error(`ALERT_POLICY is not an alert policy: ${issuesText(parsed.error.issues)}`);
  }
  return parsed.data;
}

/** Wires the ports to AWS from the environment the IngestPipeline construct sets. */
export function dependenciesFromEnv(env: NodeJS.ProcessEnv = process.env): IngestDependencies {
  return {
    ...ingestPathFromEnv(env),
    quarantine: new S3QuarantineSink(new S3Client({}), requireEnv('QUARANTINE_BUCKET', env)),
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
        logger.warn(result.outcome === 'retry' ? 'reading will be retried' : 'reading quarantined', {
          messageId: result.messageId,
          readingId: result.id,
          thing: result.thing,
          reasons: result.reasons.map(formatReason),
        });
      }
    }
    if (scoring) await scoreStored(scoring, summary.storedRecords);
    metrics.addMetric('ReadingsStored', MetricUnit.Count, summary.stored);
    metrics.addMetric('ReadingsDuplicate', MetricUnit.Count, summary.duplicates);
    metrics.addMetric('ReadingsQuarantined', MetricUnit.Count, summary.quarantined);
    metrics.addMetric('MessagesRetried', MetricUnit.Count, summary.retryMessageIds.length);
    metrics.publishStoredMetrics();
    return {
      batchItemFailures: summary.retryMessageIds.map((id) => ({ itemIdentifier: id })),
    };
  };
}

/**
 * Scores what was stored and runs the alert policy. Never fails the batch: storage already
 * succeeded, and a redelivery would store nothing new to score.
 */
async function scoreStored(
  scoring: ScoringDependencies,
  records: BatchSummary['storedRecords'],
): Promise<void> {
  if (records.length === 0) return;
  let devices;
  try {
    devices = await scoring.scoring.score(records);
  } catch (error) {
    logger.error('readings stored but not scored: device state unavailable', { error: error as Error });
    metrics.addMetric('ReadingsUnscored', MetricUnit.Count, records.length);
    return;
  }
  const rows = devices.flatMap((device) => device.inferences);
  try {
    await scoring.inferences.writeInferences(rows);
  } catch (error) {
    logger.error('inferences not written', { error: error as Error });
    metrics.addMetric('InferencesLost', MetricUnit.Count, rows.length);
  }
  const skipped = rows.filter((r) => r.status === 'skipped');
  // One line per batch: the reason is the same for the windows a failing endpoint skipped.
  if (skipped[0]) {
    logger.warn('readings stored but not scored', {
      deviceId: skipped[0].deviceId,
      reason: skipped[0].skipReason,
    });
  }
  metrics.addMetric('ReadingsUnscored', MetricUnit.Count, skipped.length);
  metrics.addMetric('ReadingsScored', MetricUnit.Count, rows.filter((r) => r.status === 'scored').length);
  metrics.addMetric(
    'ReadingsCalibrating',
    MetricUnit.Count,
    rows.filter((r) => r.deviceState === 'calibrating').length,
  );
  metrics.addMetric('AnomalousReadings', MetricUnit.Count, rows.filter((r) => r.anomalous).length);
  const latency = rows.find((r) => r.latencyMs !== null)?.latencyMs;
  if (latency !== undefined && latency !== null)
    metrics.addMetric('InferenceLatency', MetricUnit.Milliseconds, latency);
  try {
    await scoring.alerts.process(devices);
    await scoring.alerts.flushNotifications(true);
  } catch (error) {
    // The device's track keeps its outbox: the next batch of the device applies it.
    logger.error('alert policy not applied to this batch', { error: error as Error });
    metrics.addMetric('AlertEvaluationsFailed', MetricUnit.Count, 1);
  }
}

let handlerInstance: ReturnType<typeof createHandler> | undefined;

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  // Built on first call so that a missing variable fails the invocation with its name, not the import.
  const env = bundledEnv();
  handlerInstance ??= createHandler(dependenciesFromEnv(env), scoringFromEnv(env));
  return handlerInstance(event, context);
};
