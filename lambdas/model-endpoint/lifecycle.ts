import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { type DescribeEndpointCommandOutput, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { z } from 'zod';
import type { AuditTrail } from '../../core/audit/audit-event.ts';
import { issuesText } from '../../core/contracts/reasons.ts';
import { systemClock, type Clock } from '../../core/ingest/ports.ts';
import { deploymentName } from '../../core/model/deployment.ts';
import {
  type EndpointChange,
  type EndpointSpec,
  endpointSpecSchema,
  planEndpointUpdate,
} from '../../core/model/endpoint-spec.ts';
import { SYSTEM } from '../../core/operators/actor.ts';
import { EventBridgeAuditTrail } from '../adapters/eventbridge-audit-trail.ts';
import {
  createEndpoint,
  createEndpointConfig,
  createModelFromArtifact,
  deleteEndpoint,
  describeEndpoint,
  endpointConfigExists,
  isBusy,
  liveModelOf,
  startBlueGreenUpdate,
} from '../adapters/sagemaker-endpoints.ts';
import { requireEnv } from '../shared/env.ts';
import { logger } from '../shared/powertools.ts';

/**
 * The SageMaker endpoint of a use case as a custom resource (the CDK's provider framework calls
 * `onEvent`, then `isComplete` until it answers true). The stack creates the endpoint with its
 * starting model; after that, which model runs is the registry's to say, and a stack update only
 * changes what it names (lib/constructs/model-endpoint.ts, core/model/endpoint-spec.ts).
 */
export interface ModelEndpointDependencies {
  readonly sagemaker: SageMakerClient;
  readonly audit: AuditTrail;
  readonly clock: Clock;
}

/** A stack-driven blue/green update bakes for 5 minutes and must end within CloudFormation's hour. */
const STACK_UPDATE_TIMING = { bakeSeconds: 300, maximumSeconds: 1800 };

const eventSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  ResourceProperties: z.unknown(),
  OldResourceProperties: z.unknown().optional(),
  PhysicalResourceId: z.string().optional(),
  Data: z.record(z.string(), z.string()).optional(),
});

type CustomResourceEvent = z.output<typeof eventSchema>;

function parseEvent(raw: unknown): CustomResourceEvent {
  const parsed = eventSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`not a custom resource event: ${issuesText(parsed.error.issues)}`);
  return parsed.data;
}

function parseSpec(properties: unknown, which: string): EndpointSpec {
  const parsed = endpointSpecSchema.safeParse(properties);
  if (!parsed.success) throw new Error(`${which} of the model endpoint: ${issuesText(parsed.error.issues)}`);
  return parsed.data;
}

export interface OnEventResult {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

export function createOnEvent(deps: ModelEndpointDependencies) {
  return async (raw: unknown): Promise<OnEventResult> => {
    const event = parseEvent(raw);
    if (event.RequestType === 'Delete') {
      const name = event.PhysicalResourceId ?? '';
      await deleteEndpoint(deps.sagemaker, name);
      logger.info('endpoint deleted', { endpoint: name });
      return { PhysicalResourceId: name };
    }
    const spec = parseSpec(event.ResourceProperties, 'the properties');
    const target = deploymentName(spec.UseCase, 0, deps.clock.now());
    if (event.RequestType === 'Create') {
      await createModelFromArtifact(deps.sagemaker, spec, target);
      await createEndpointConfig(deps.sagemaker, spec, target, target);
      await createEndpoint(deps.sagemaker, spec.EndpointName, target);
      await recordStackModel(deps, spec, target, 'the stack deploys its first model (modelArtifact)');
      return { PhysicalResourceId: spec.EndpointName, Data: { EndpointName: spec.EndpointName } };
    }
    const change = planEndpointUpdate(parseSpec(event.OldResourceProperties, 'the old properties'), spec);
    logger.info('stack update of the endpoint', { endpointName: spec.EndpointName, ...change });
    // The work waits for isComplete: the endpoint may still be busy with a model deployment.
    return {
      PhysicalResourceId: spec.EndpointName,
      Data: { EndpointName: spec.EndpointName, ...(change.changes ? { Target: target } : {}) },
    };
  };
}

export interface IsCompleteResult {
  readonly IsComplete: boolean;
}

export function createIsComplete(deps: ModelEndpointDependencies) {
  return async (raw: unknown): Promise<IsCompleteResult> => {
    const event = parseEvent(raw);
    const name = event.PhysicalResourceId ?? '';
    if (event.RequestType === 'Delete') {
      return { IsComplete: (await describeEndpoint(deps.sagemaker, name)) === undefined };
    }
    if (event.RequestType === 'Create') return inService(await describeEndpoint(deps.sagemaker, name), name);
    const target = event.Data?.Target;
    if (!target) return { IsComplete: true };
    const before = parseSpec(event.OldResourceProperties, 'the old properties');
    const spec = parseSpec(event.ResourceProperties, 'the properties');
    const change = planEndpointUpdate(before, spec);
    return change.endpoint === 'new'
      ? replaceStep(deps, before, spec, change, target)
      : reconfigureStep(deps, spec, change, target);
  };
}

/** Done when SageMaker has the endpoint in service; a failed one fails the stack with SageMaker's reason. */
function inService(endpoint: DescribeEndpointCommandOutput | undefined, name: string): IsCompleteResult {
  if (!endpoint) throw new Error(`endpoint ${name} does not exist`);
  if (isBusy(endpoint)) return { IsComplete: false };
  if (endpoint.EndpointStatus !== 'InService') {
    throw new Error(
      `endpoint ${name} is ${endpoint.EndpointStatus}: ${endpoint.FailureReason ?? 'no reason given'}`,
    );
  }
  return { IsComplete: true };
}

/**
 * The same endpoint with new settings, or the model the stack now names: once it is not busy (a
 * model deployment may be baking), a configuration like the stack's with the live model (or the
 * new one), rolled out blue/green with the rollback alarms; done when it is live.
 */
async function reconfigureStep(
  deps: ModelEndpointDependencies,
  spec: EndpointSpec,
  change: EndpointChange,
  target: string,
): Promise<IsCompleteResult> {
  const endpoint = await describeEndpoint(deps.sagemaker, spec.EndpointName);
  const ready = inService(endpoint, spec.EndpointName);
  if (!ready.IsComplete || !endpoint) return ready;
  if (endpoint.EndpointConfigName === target) return { IsComplete: true };
  if (await endpointConfigExists(deps.sagemaker, target)) {
    throw new Error(
      `the update of endpoint ${spec.EndpointName} to ${target} did not take: SageMaker rolled it back` +
        ` (${endpoint.FailureReason ?? 'a rollback alarm fired while it baked'}); it still runs ${endpoint.EndpointConfigName}`,
    );
  }
  const model =
    change.model === 'artifact'
      ? await createModelFromArtifact(deps.sagemaker, spec, target)
      : await liveModelOf(deps.sagemaker, endpoint);
  await createEndpointConfig(deps.sagemaker, spec, target, model);
  await startBlueGreenUpdate(
    deps.sagemaker,
    spec.EndpointName,
    target,
    spec.RollbackAlarmNames,
    STACK_UPDATE_TIMING,
  );
  if (change.model === 'artifact') await recordStackModel(deps, spec, target, change.why);
  logger.info('blue/green update started', { endpoint: spec.EndpointName, endpointConfig: target, model });
  return { IsComplete: false };
}

/**
 * A new endpoint for a new instance type, running the model the old one runs (or the one the
 * stack now names); CloudFormation deletes the old one once the update has succeeded.
 */
async function replaceStep(
  deps: ModelEndpointDependencies,
  before: EndpointSpec,
  spec: EndpointSpec,
  change: EndpointChange,
  target: string,
): Promise<IsCompleteResult> {
  const created = await describeEndpoint(deps.sagemaker, spec.EndpointName);
  if (created) return inService(created, spec.EndpointName);
  const old = await describeEndpoint(deps.sagemaker, before.EndpointName);
  if (old && isBusy(old)) return { IsComplete: false };
  const model =
    change.model === 'artifact' || !old
      ? await createModelFromArtifact(deps.sagemaker, spec, target)
      : await liveModelOf(deps.sagemaker, old);
  await createEndpointConfig(deps.sagemaker, spec, target, model);
  await createEndpoint(deps.sagemaker, spec.EndpointName, target);
  if (change.model === 'artifact' || !old) await recordStackModel(deps, spec, target, change.why);
  logger.info('new endpoint for a new instance type', {
    endpoint: spec.EndpointName,
    replaces: before.EndpointName,
    model,
  });
  return { IsComplete: false };
}

/** The audit event of a model the stack itself put on the endpoint. */
function recordStackModel(
  deps: ModelEndpointDependencies,
  spec: EndpointSpec,
  endpointConfig: string,
  reason: string,
): Promise<void> {
  return deps.audit.record({
    kind: 'model-deployed',
    actor: SYSTEM,
    at: deps.clock.now(),
    useCase: spec.UseCase,
    subject: `model ${spec.UseCase} from the stack`,
    before: null,
    after: null,
    reason,
    details: { modelDataUrl: spec.ModelDataUrl, endpoint: spec.EndpointName, endpointConfig },
  });
}

export function modelEndpointDependenciesFromEnv(env: NodeJS.ProcessEnv): ModelEndpointDependencies {
  return {
    sagemaker: new SageMakerClient({}),
    audit: new EventBridgeAuditTrail(new EventBridgeClient({}), requireEnv('EVENT_BUS_NAME', env)),
    clock: systemClock,
  };
}
