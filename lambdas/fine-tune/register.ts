import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { z } from 'zod';
import type { AuditTrail } from '../../core/audit/audit-event.ts';
import { issuesText } from '../../core/contracts/reasons.ts';
import { systemClock, type Clock } from '../../core/ingest/ports.ts';
import { fineTuneJobPrefix } from '../../core/model/fine-tune.ts';
import { FINE_TUNE_METRIC_NAMES } from '../../core/model/fine-tune-data.ts';
import { SYSTEM } from '../../core/operators/actor.ts';
import { EventBridgeAuditTrail } from '../adapters/eventbridge-audit-trail.ts';
import {
  describeTrainingJob,
  registerPendingPackage,
  type FineTuneTarget,
} from '../adapters/sagemaker-fine-tune.ts';
import { bundledEnv, requireEnv } from '../shared/env.ts';
import { logger } from '../shared/powertools.ts';
import { fineTuneTargetsFromEnv } from './targets.ts';

/** SageMaker's event when a training job changes status (the rule passes only ended fine-tuning jobs). */
const jobStateChangeSchema = z.object({
  'detail-type': z.literal('SageMaker Training Job State Change'),
  detail: z.object({ TrainingJobName: z.string().min(1), TrainingJobStatus: z.string() }),
});

export interface FineTuneRegisterDependencies {
  readonly sagemaker: SageMakerClient;
  readonly targets: ReadonlyMap<string, FineTuneTarget>;
  readonly audit: AuditTrail;
  readonly clock: Clock;
}

export type FineTuneRegisterOutcome =
  | { readonly action: 'ignored'; readonly why: string }
  | { readonly action: 'registered'; readonly modelPackageArn: string }
  | { readonly action: 'failed'; readonly why: string };

/**
 * Registers what a fine-tuning job trained as a pending version of the use case's model package
 * group, with the job's comparison with the live model (its final metrics) as the version's
 * properties: a second person reads it and approves, and the approval deploys (four eyes,
 * lambdas/deploy/handler.ts). A job that failed is recorded as such.
 */
export function createFineTuneRegisterHandler(deps: FineTuneRegisterDependencies) {
  return async (event: unknown): Promise<FineTuneRegisterOutcome> => {
    const parsed = jobStateChangeSchema.safeParse(event);
    if (!parsed.success)
      throw new Error(`not a training job state change: ${issuesText(parsed.error.issues)}`);
    const name = parsed.data.detail.TrainingJobName;
    const [useCase, target] = [...deps.targets].find(([id]) => name.startsWith(fineTuneJobPrefix(id))) ?? [];
    if (!useCase || !target) return { action: 'ignored', why: `${name} is no fine-tuning job of this stack` };
    const job = await describeTrainingJob(deps.sagemaker, name);
    const reason = job.HyperParameters?.reason ?? 'fine-tuned after false-positive verdicts';
    if (job.TrainingJobStatus !== 'Completed') {
      const why = `${name} ${job.TrainingJobStatus ?? 'ended'}: ${job.FailureReason ?? 'no reason given'}`;
      await record(deps, {
        kind: 'fine-tune-failed',
        useCase,
        subject: `training job ${name}`,
        reason: why,
        details: { job: name },
      });
      logger.error('fine-tuning job did not complete', { useCase, job: name, why });
      return { action: 'failed', why };
    }
    const metrics = Object.fromEntries(
      (job.FinalMetricDataList ?? [])
        .filter((m) => (FINE_TUNE_METRIC_NAMES as readonly string[]).includes(m.MetricName ?? ''))
        .map((m) => [m.MetricName ?? '', m.Value ?? Number.NaN]),
    );
    const modelDataUrl = job.ModelArtifacts?.S3ModelArtifacts;
    if (!modelDataUrl) throw new Error(`${name} completed without a model artifact`);
    const modelPackageArn = await registerPendingPackage(deps.sagemaker, {
      group: target.modelPackageGroupName,
      image: target.image,
      modelDataUrl,
      description: `${reason} (training job ${name}); compared with the live model on held-out verdicts`,
      properties: { trainingJob: name, trainedBy: 'aiot-pipeline fine-tuning', ...stringValues(metrics) },
      clientToken: name,
    });
    await record(deps, {
      kind: 'model-trained',
      useCase,
      subject: `model package ${modelPackageArn}`,
      reason,
      details: { job: name, status: 'pending', ...metrics },
    });
    logger.info('fine-tuned candidate registered', { useCase, job: name, modelPackageArn, metrics });
    return { action: 'registered', modelPackageArn };
  };
}

const stringValues = (metrics: Record<string, number>) =>
  Object.fromEntries(Object.entries(metrics).map(([key, value]) => [key, String(value)]));

function record(
  deps: FineTuneRegisterDependencies,
  event: {
    kind: 'model-trained' | 'fine-tune-failed';
    useCase: string;
    subject: string;
    reason: string;
    details: Record<string, string | number>;
  },
): Promise<void> {
  return deps.audit.record({
    ...event,
    actor: SYSTEM,
    at: deps.clock.now(),
    subject: event.subject.slice(0, 200),
    reason: event.reason.slice(0, 1000),
    before: null,
    after: null,
  });
}

/** Wires the register function from the environment ModelFineTuning sets. */
export function fineTuneRegisterDependenciesFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): FineTuneRegisterDependencies {
  return {
    sagemaker: new SageMakerClient({}),
    targets: fineTuneTargetsFromEnv(env),
    audit: new EventBridgeAuditTrail(new EventBridgeClient({}), requireEnv('EVENT_BUS_NAME', env)),
    clock: systemClock,
  };
}

let handlerInstance: ReturnType<typeof createFineTuneRegisterHandler> | undefined;

export const handler = async (event: unknown): Promise<FineTuneRegisterOutcome> => {
  handlerInstance ??= createFineTuneRegisterHandler(fineTuneRegisterDependenciesFromEnv(bundledEnv()));
  return handlerInstance(event);
};
