import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { FeedbackRecord } from '../../core/alerts/ports.ts';
import type { AuditTrail } from '../../core/audit/audit-event.ts';
import type { ContractRegistry } from '../../core/contracts/registry.ts';
import type { DriftReads } from '../../core/drift/ports.ts';
import { systemClock, type Clock } from '../../core/ingest/ports.ts';
import { fineTuneDue, fineTuneJobName, fineTuneJobPrefix } from '../../core/model/fine-tune.ts';
import {
  deviceFileName,
  FEEDBACK_INDEX_FILE,
  readingsCsv,
  type FeedbackIndex,
} from '../../core/model/fine-tune-data.ts';
import { SYSTEM } from '../../core/operators/actor.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { DynamoDbAlertStore } from '../adapters/dynamodb-alert-store.ts';
import { DynamoDbDeviceReports } from '../adapters/dynamodb-device-reports.ts';
import { EventBridgeAuditTrail } from '../adapters/eventbridge-audit-trail.ts';
import {
  lastCandidateAt,
  latestFineTuneJob,
  liveModelDataUrl,
  startFineTuneJob,
  type FineTuneTarget,
} from '../adapters/sagemaker-fine-tune.ts';
import { deploymentFromEnv } from '../shared/deployment.ts';
import { bundledEnv, requireEnv } from '../shared/env.ts';
import { logger } from '../shared/powertools.ts';
import { driftReadsFromEnv } from '../shared/telemetry-backend.ts';
import { fineTuneTargetsFromEnv } from './targets.ts';

/** A verdict's audit event from the application's bus, or the hourly schedule's `{useCase}`. */
const eventSchema = z.union([
  z
    .object({ detail: z.object({ kind: z.literal('alert-verdict'), useCase: z.string().min(1) }) })
    .transform((e) => e.detail.useCase),
  z.strictObject({ useCase: z.string().min(1) }).transform((e) => e.useCase),
]);

/** At most this many devices' readings go to a job (those with verdicts first): normal is fleet-wide. */
export const MAX_DEVICES = 50;
/** At most this many readings of one device, from the start of the window. */
export const MAX_READINGS_PER_DEVICE = 20_000;

export interface FineTuneStartDependencies {
  readonly sagemaker: SageMakerClient;
  readonly putObject: (bucket: string, key: string, body: string) => Promise<void>;
  readonly feedback: (useCase: string, since?: number) => Promise<FeedbackRecord[]>;
  readonly readsOf: (manifest: UseCaseManifest) => Pick<DriftReads, 'devices' | 'readings'>;
  readonly manifests: ReadonlyMap<string, UseCaseManifest>;
  readonly contracts: ContractRegistry;
  readonly targets: ReadonlyMap<string, FineTuneTarget>;
  readonly audit: AuditTrail;
  readonly clock: Clock;
}

export type FineTuneStartOutcome =
  | { readonly action: 'ignored'; readonly why: string }
  | { readonly action: 'started'; readonly job: string; readonly reason: string };

/**
 * Starts a fine-tuning job when false-positive verdicts call for one (core/model/fine-tune.ts:
 * after a few, or a day after the first, counted since the last candidate or job): exports the
 * recent readings and the standing verdicts to the use case's training data, and starts a
 * SageMaker training job on them and the live model. Nothing is deployed: the job's candidate is
 * registered pending approval (./register.ts).
 */
export function createFineTuneStartHandler(deps: FineTuneStartDependencies) {
  return async (event: unknown): Promise<FineTuneStartOutcome> => {
    const useCase = eventSchema.parse(event);
    const manifest = deps.manifests.get(useCase);
    const target = deps.targets.get(useCase);
    if (!manifest || !target)
      return { action: 'ignored', why: `${useCase} has no deployed model to fine-tune` };
    if (!manifest.model?.fineTune.enabled)
      return { action: 'ignored', why: `fine-tuning of ${useCase} is off` };
    const last = await latestFineTuneJob(deps.sagemaker, fineTuneJobPrefix(useCase));
    if (last?.status === 'InProgress' || last?.status === 'Stopping')
      return { action: 'ignored', why: `job ${last.name} is still running` };
    const since = Math.max(
      last?.createdAt ?? 0,
      await lastCandidateAt(deps.sagemaker, target.modelPackageGroupName),
    );
    const falsePositives = (await deps.feedback(useCase, since + 1)).filter((f) => f.label === 'normal');
    const now = deps.clock.now();
    const reason = fineTuneDue(
      falsePositives.map((f) => f.at),
      now,
      manifest.model.fineTune,
    );
    if (!reason)
      return {
        action: 'ignored',
        why: `${falsePositives.length} false positives since the last candidate: not due`,
      };
    const job = fineTuneJobName(useCase, now);
    const feedbackPrefix = await exportFeedback(deps, manifest, target, {
      job,
      reason,
      verdicts: falsePositives.length,
      now,
    });
    const liveModel = await liveModelDataUrl(deps.sagemaker, target.endpointName);
    await startFineTuneJob(deps.sagemaker, {
      name: job,
      target,
      feedbackPrefix,
      liveModel,
      hyperparameters: { model_version: useCase, reason },
    });
    await deps.audit.record({
      kind: 'fine-tune-started',
      actor: SYSTEM,
      at: now,
      useCase,
      subject: `training job ${job}`,
      before: null,
      after: null,
      reason,
      details: { job, liveModel, verdicts: falsePositives.length },
    });
    logger.info('fine-tuning started', { useCase, job, reason });
    return { action: 'started', job, reason };
  };
}

/** Writes each device's recent readings and the standing verdicts under the job's feedback prefix. */
async function exportFeedback(
  deps: FineTuneStartDependencies,
  manifest: UseCaseManifest,
  target: FineTuneTarget,
  job: { readonly job: string; readonly reason: string; readonly verdicts: number; readonly now: number },
): Promise<string> {
  const days = manifest.model?.fineTune.days ?? 7;
  const window = { from: job.now - days * 24 * 3600_000, to: job.now };
  const labels = (await deps.feedback(manifest.id))
    .filter((f) => (f.label === 'normal' || f.label === 'anomaly') && f.to >= window.from)
    .map((f) => ({ deviceId: f.deviceId, label: f.label as 'normal' | 'anomaly', from: f.from, to: f.to }));
  const reads = deps.readsOf(manifest);
  const judged = new Set(labels.map((l) => l.deviceId));
  const devices = (await reads.devices(manifest.id, window))
    .sort((a, b) => Number(judged.has(b)) - Number(judged.has(a)) || a.localeCompare(b))
    .slice(0, MAX_DEVICES);
  if (devices.length === 0)
    throw new Error(`no readings of ${manifest.id} in the last ${days} days to fine-tune on`);
  const contract = deps.contracts.get(manifest.contract);
  const measures = Object.entries(contract.measures).map(([name, spec]) => ({ name, column: spec.column }));
  const prefix = `${target.trainingDataPrefix}fine-tune/${job.job}/`;
  const files: FeedbackIndex['devices'] = [];
  for (const [index, deviceId] of devices.entries()) {
    const readings = await reads.readings(manifest.id, deviceId, window, MAX_READINGS_PER_DEVICE);
    if (readings.length === 0) continue;
    const file = deviceFileName(index, deviceId);
    await deps.putObject(target.bucket, `${prefix}${file}`, readingsCsv(measures, readings));
    files.push({ deviceId, file });
  }
  const feedbackIndex: FeedbackIndex = {
    useCase: manifest.id,
    reason: job.reason,
    verdicts: job.verdicts,
    days,
    devices: files,
    labels: labels.filter((l) => files.some((f) => f.deviceId === l.deviceId)),
  };
  await deps.putObject(target.bucket, `${prefix}${FEEDBACK_INDEX_FILE}`, JSON.stringify(feedbackIndex));
  return prefix;
}

/** Wires the start function from the environment ModelFineTuning sets. */
export function fineTuneStartDependenciesFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): FineTuneStartDependencies {
  const { contracts, manifests } = deploymentFromEnv(env);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const tableName = requireEnv('ALERT_TABLE', env);
  const alerts = new DynamoDbAlertStore(documents, tableName);
  const readsOf = driftReadsFromEnv(env, contracts, new DynamoDbDeviceReports(documents, tableName));
  const s3 = new S3Client({});
  return {
    sagemaker: new SageMakerClient({}),
    putObject: async (bucket, key, body) => {
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'text/plain' }),
      );
    },
    feedback: (useCase, since) => alerts.feedback(useCase, since),
    readsOf,
    manifests: new Map(manifests.map((m) => [m.id, m])),
    contracts,
    targets: fineTuneTargetsFromEnv(env),
    audit: new EventBridgeAuditTrail(new EventBridgeClient({}), requireEnv('EVENT_BUS_NAME', env)),
    clock: systemClock,
  };
}

let handlerInstance: ReturnType<typeof createFineTuneStartHandler> | undefined;

export const handler = async (event: unknown): Promise<FineTuneStartOutcome> => {
  handlerInstance ??= createFineTuneStartHandler(fineTuneStartDependenciesFromEnv(bundledEnv()));
  return handlerInstance(event);
};
