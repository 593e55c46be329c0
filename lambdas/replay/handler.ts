import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { issuesText } from '../../core/contracts/reasons.ts';
import type { IngestDependencies } from '../../core/ingest/ingest-batch.ts';
import { replayQuarantine, type ReplayReport } from '../../core/ingest/quarantine-replay.ts';
import { S3QuarantineLedger } from '../adapters/s3-quarantine-ledger.ts';
import { ingestPathFromEnv } from '../shared/deployment.ts';
import { bundledEnv, requireEnv } from '../shared/env.ts';
import { logger, metrics } from '../shared/powertools.ts';

/** What an operator passes to `aws lambda invoke --payload`: the same filters as `aiot quarantine replay`. */
export const replayEventSchema = z.strictObject({
  /** Only messages quarantined at or after this time (ISO 8601). */
  since: z.iso.datetime({ offset: true }).optional(),
  /** Only messages with a reason whose code or message contains this text. */
  reason: z.string().min(1).max(200).optional(),
});

/** Time kept back from the Lambda timeout: a page of replay finishes well within it. */
const STOP_BEFORE_TIMEOUT_MS = 60_000;

export interface ReplayDependencies {
  readonly ledger: S3QuarantineLedger;
  readonly ingest: Omit<IngestDependencies, 'quarantine'>;
}

export function replayDependenciesFromEnv(env: NodeJS.ProcessEnv): ReplayDependencies {
  return {
    ledger: new S3QuarantineLedger(
      new S3Client({}),
      requireEnv('QUARANTINE_BUCKET', env),
      requireEnv('USE_CASE', env),
    ),
    ingest: ingestPathFromEnv(env),
  };
}

/**
 * Re-validates the use case's quarantined messages against the contracts the function was built
 * with and stores those that pass, through the ingest use case: run by hand after a contract fix
 * or a new version (docs/operations.md). A bad payload is refused before anything is read.
 */
export function createReplayHandler(deps: ReplayDependencies) {
  return async (
    event: unknown,
    context?: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<ReplayReport> => {
    const parsed = replayEventSchema.safeParse(event ?? {});
    if (!parsed.success) {
      throw new Error(
        `the replay takes {"since"?: ISO 8601 time, "reason"?: text}: ${issuesText(parsed.error.issues)}`,
      );
    }
    const { since, reason } = parsed.data;
    const report = await replayQuarantine(
      deps.ledger,
      deps.ingest,
      {
        ...(since === undefined ? {} : { since: Date.parse(since) }),
        ...(reason === undefined ? {} : { reason }),
      },
      {
        onProgress: (progress) => {
          logger.info('quarantine replay', { ...progress });
        },
        ...(context
          ? { shouldContinue: () => context.getRemainingTimeInMillis() > STOP_BEFORE_TIMEOUT_MS }
          : {}),
      },
    );
    metrics.addMetric('QuarantineReplayed', MetricUnit.Count, report.stored + report.alreadyStored);
    metrics.addMetric('QuarantineStillRefused', MetricUnit.Count, report.stillQuarantined);
    metrics.publishStoredMetrics();
    if (deps.ledger.unreadable > 0) {
      logger.warn('objects under quarantine/ that are no quarantine entry were left as they are', {
        unreadable: deps.ledger.unreadable,
      });
    }
    logger.info('quarantine replay done', { ...report });
    return report;
  };
}

let handlerInstance: ReturnType<typeof createReplayHandler> | undefined;

export const handler = async (event: unknown, context: Context): Promise<ReplayReport> => {
  logger.addContext(context);
  handlerInstance ??= createReplayHandler(replayDependenciesFromEnv(bundledEnv()));
  return handlerInstance(event, context);
};
