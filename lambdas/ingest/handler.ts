import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { TimestreamWriteClient } from '@aws-sdk/client-timestream-write';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { getContract } from '../../core/contracts/registry.ts';
import { formatReason } from '../../core/contracts/reasons.ts';
import { ingestBatch, type IngestDependencies } from '../../core/ingest/ingest-batch.ts';
import { systemClock } from '../../core/ingest/ports.ts';
import { S3QuarantineSink } from '../adapters/s3-quarantine-sink.ts';
import { TimestreamTelemetryStore } from '../adapters/timestream-telemetry-store.ts';
import { requireEnv } from '../shared/env.ts';
import { logger, metrics } from '../shared/powertools.ts';

/** Wires the ports to AWS from the environment the IngestPipeline construct sets. */
export function dependenciesFromEnv(env: NodeJS.ProcessEnv = process.env): IngestDependencies {
  return {
    useCases: new Map([[requireEnv('USE_CASE', env), getContract(requireEnv('CONTRACT', env))]]),
    store: new TimestreamTelemetryStore(new TimestreamWriteClient({}), {
      databaseName: requireEnv('TIMESTREAM_DATABASE', env),
      tableName: requireEnv('TIMESTREAM_TABLE', env),
    }),
    quarantine: new S3QuarantineSink(new S3Client({}), requireEnv('QUARANTINE_BUCKET', env)),
    clock: systemClock,
  };
}

/** Builds the SQS handler around its dependencies, so tests inject mocked clients. */
export function createHandler(deps: IngestDependencies) {
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

let handlerInstance: ReturnType<typeof createHandler> | undefined;

export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  // Built on first call so that a missing variable fails the invocation with its name, not the import.
  handlerInstance ??= createHandler(dependenciesFromEnv());
  return handlerInstance(event, context);
};
