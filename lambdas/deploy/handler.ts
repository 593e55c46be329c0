import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelPackageCommand,
  type DescribeModelPackageCommandOutput,
  SageMakerClient,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { z } from 'zod';
import type { AuditTrail } from '../../core/audit/audit-event.ts';
import { issuesText } from '../../core/contracts/reasons.ts';
import { systemClock, type Clock } from '../../core/ingest/ports.ts';
import {
  deploymentName,
  fourEyesProblem,
  identityOf,
  modelPackageStateChangeSchema,
} from '../../core/model/deployment.ts';
import { SYSTEM } from '../../core/operators/actor.ts';
import { EventBridgeAuditTrail } from '../adapters/eventbridge-audit-trail.ts';
import { startBlueGreenUpdate } from '../adapters/sagemaker-endpoints.ts';
import { requireEnv } from '../shared/env.ts';
import { logger } from '../shared/powertools.ts';

/** Where a model package group's approved versions go. */
export interface DeployTarget {
  readonly useCase: string;
  readonly endpointName: string;
  readonly executionRoleArn: string;
  /** The alarms that roll a blue/green update back while it bakes. */
  readonly rollbackAlarmNames: readonly string[];
}

export const deployTargetsSchema = z.record(
  z.string(),
  z.strictObject({
    useCase: z.string(),
    endpointName: z.string(),
    executionRoleArn: z.string(),
    rollbackAlarmNames: z.array(z.string()).min(1),
  }),
);

export interface DeployDependencies {
  readonly sagemaker: SageMakerClient;
  readonly audit: AuditTrail;
  /** By model package group name. */
  readonly targets: ReadonlyMap<string, DeployTarget>;
  readonly clock: Clock;
}

export type DeployOutcome =
  | { readonly action: 'ignored'; readonly why: string }
  | { readonly action: 'refused'; readonly why: string }
  | { readonly action: 'deployed'; readonly endpointConfigName: string };

/** How long the new fleet takes traffic next to the old one before the old one goes. */
const BAKE_SECONDS = 600;

/**
 * Turns an approval in the SageMaker Model Registry into an endpoint update. An approval by the
 * package's own creator, or by nobody known, is set back to pending (four eyes). Otherwise: a
 * model from the package, an endpoint configuration like the live one with that model, and a
 * blue/green update that keeps the autoscaled instance count and rolls back by itself when the
 * rollback alarm fires while it bakes.
 */
export function createDeployHandler(deps: DeployDependencies) {
  return async (event: unknown): Promise<DeployOutcome> => {
    const parsed = modelPackageStateChangeSchema.safeParse(event);
    if (!parsed.success) {
      throw new Error(`not a model package state change: ${issuesText(parsed.error.issues)}`);
    }
    const {
      ModelPackageArn: arn,
      ModelPackageGroupName: group,
      ModelApprovalStatus: status,
    } = parsed.data.detail;
    const target = deps.targets.get(group);
    if (!target) return { action: 'ignored', why: `model package group ${group} has no endpoint here` };
    if (status !== 'Approved') return { action: 'ignored', why: `status ${status}` };

    const described = await deps.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
    const approval: Approval = {
      arn,
      target,
      described,
      now: deps.clock.now(),
      subject: `model ${target.useCase} package ${group}/${described.ModelPackageVersion ?? 0}`,
    };
    const problem = fourEyesProblem(described.CreatedBy, described.LastModifiedBy);
    if (problem) {
      await withdraw(deps, approval, problem);
      return { action: 'refused', why: problem };
    }
    const name = deploymentName(target.useCase, described.ModelPackageVersion ?? 0, approval.now);
    const previous = await rollOut(deps.sagemaker, approval, name);
    await recordDecision(
      deps,
      approval,
      'model-deployed',
      described.ApprovalDescription ?? 'approved in the model registry',
      {
        modelPackageArn: arn,
        createdBy: identityOf(described.CreatedBy) ?? null,
        approvedBy: identityOf(described.LastModifiedBy) ?? null,
        endpointConfig: name,
        previousEndpointConfig: previous ?? null,
      },
    );
    logger.info('blue/green update started', { endpoint: target.endpointName, endpointConfig: name });
    return { action: 'deployed', endpointConfigName: name };
  };
}

/** An approval of a package for a target, as the registry describes the package. */
interface Approval {
  readonly arn: string;
  readonly target: DeployTarget;
  readonly described: DescribeModelPackageCommandOutput;
  readonly now: number;
  readonly subject: string;
}

/** The audit event of what the deploy function did with an approval: the system acted, on no stored state. */
function recordDecision(
  deps: DeployDependencies,
  approval: Approval,
  kind: 'model-deployed' | 'model-rejected',
  reason: string,
  details: Record<string, string | null>,
): Promise<void> {
  return deps.audit.record({
    kind,
    actor: SYSTEM,
    at: approval.now,
    useCase: approval.target.useCase,
    subject: approval.subject,
    before: null,
    after: null,
    reason,
    details,
  });
}

/** Sets the package back to pending and records why. */
async function withdraw(deps: DeployDependencies, approval: Approval, problem: string): Promise<void> {
  const { arn, described } = approval;
  await deps.sagemaker.send(
    new UpdateModelPackageCommand({
      ModelPackageArn: arn,
      ModelApprovalStatus: 'PendingManualApproval',
      ApprovalDescription: `approval withdrawn: ${problem}`,
    }),
  );
  await recordDecision(deps, approval, 'model-rejected', `approval withdrawn, back to pending: ${problem}`, {
    modelPackageArn: arn,
    approvedBy: identityOf(described.LastModifiedBy) ?? null,
  });
  logger.warn('approval withdrawn', { modelPackageArn: arn, problem });
}

/**
 * A model from the package, an endpoint configuration like the live one with that model, and the
 * blue/green update to it. Answers the configuration it replaces.
 */
async function rollOut(
  sagemaker: SageMakerClient,
  approval: Approval,
  name: string,
): Promise<string | undefined> {
  const { arn, target } = approval;
  await sagemaker.send(
    new CreateModelCommand({
      ModelName: name,
      ExecutionRoleArn: target.executionRoleArn,
      EnableNetworkIsolation: true,
      PrimaryContainer: { ModelPackageName: arn, Environment: { USE_CASE: target.useCase } },
    }),
  );
  const endpoint = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: target.endpointName }));
  const live = await sagemaker.send(
    new DescribeEndpointConfigCommand({ EndpointConfigName: endpoint.EndpointConfigName }),
  );
  await sagemaker.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: name,
      KmsKeyId: live.KmsKeyId,
      DataCaptureConfig: live.DataCaptureConfig,
      ProductionVariants: (live.ProductionVariants ?? []).map((variant) => ({ ...variant, ModelName: name })),
    }),
  );
  await startBlueGreenUpdate(sagemaker, target.endpointName, name, target.rollbackAlarmNames, {
    bakeSeconds: BAKE_SECONDS,
    maximumSeconds: 3600,
  });
  return endpoint.EndpointConfigName;
}

export function deployDependenciesFromEnv(env: NodeJS.ProcessEnv): DeployDependencies {
  const targets = deployTargetsSchema.parse(JSON.parse(requireEnv('DEPLOY_TARGETS', env)));
  return {
    sagemaker: new SageMakerClient({}),
    audit: new EventBridgeAuditTrail(new EventBridgeClient({}), requireEnv('EVENT_BUS_NAME', env)),
    targets: new Map(Object.entries(targets)),
    clock: systemClock,
  };
}

let handlerInstance: ReturnType<typeof createDeployHandler> | undefined;

export const handler = async (event: unknown): Promise<DeployOutcome> => {
  handlerInstance ??= createDeployHandler(deployDependenciesFromEnv(process.env));
  return handlerInstance(event);
};
