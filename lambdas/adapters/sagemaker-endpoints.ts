import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  type DescribeEndpointCommandOutput,
  DescribeEndpointConfigCommand,
  type DeploymentConfig,
  type ProductionVariantInstanceType,
  type SageMakerClient,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import type { EndpointSpec } from '../../core/model/endpoint-spec.ts';

/**
 * The SageMaker calls both ways of changing an endpoint share: the deploy function (an approval)
 * and the endpoint's custom resource (a stack update).
 */

/** Statuses in which SageMaker is still at work on an endpoint and refuses another change. */
const BUSY = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting']);

export function isBusy(endpoint: DescribeEndpointCommandOutput): boolean {
  return BUSY.has(endpoint.EndpointStatus ?? '');
}

/** SageMaker answers a missing endpoint or configuration with a ValidationException "Could not find ...". */
function isNotFound(error: unknown): boolean {
  return (
    error instanceof Error && error.name === 'ValidationException' && /could not find/i.test(error.message)
  );
}

/** The endpoint as SageMaker describes it, or undefined when there is none of that name. */
export async function describeEndpoint(
  sagemaker: SageMakerClient,
  name: string,
): Promise<DescribeEndpointCommandOutput | undefined> {
  try {
    return await sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function endpointConfigExists(sagemaker: SageMakerClient, name: string): Promise<boolean> {
  try {
    await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name }));
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** The model the endpoint runs now: its live configuration's variant. */
export async function liveModelOf(
  sagemaker: SageMakerClient,
  endpoint: DescribeEndpointCommandOutput,
): Promise<string> {
  const live = await sagemaker.send(
    new DescribeEndpointConfigCommand({ EndpointConfigName: endpoint.EndpointConfigName }),
  );
  const model = live.ProductionVariants?.[0]?.ModelName;
  if (!model) {
    throw new Error(`endpoint configuration ${endpoint.EndpointConfigName} names no model to keep`);
  }
  return model;
}

/** A network-isolated model from the stack's image and artifact. */
export async function createModelFromArtifact(
  sagemaker: SageMakerClient,
  spec: EndpointSpec,
  name: string,
): Promise<string> {
  await sagemaker.send(
    new CreateModelCommand({
      ModelName: name,
      ExecutionRoleArn: spec.ExecutionRoleArn,
      // The container needs no network: SageMaker hands it the model and the requests.
      EnableNetworkIsolation: true,
      PrimaryContainer: {
        Image: spec.Image,
        ModelDataUrl: spec.ModelDataUrl,
        Environment: { USE_CASE: spec.UseCase },
      },
    }),
  );
  return name;
}

/** An endpoint configuration with the stack's settings, running `modelName`, with data capture. */
export async function createEndpointConfig(
  sagemaker: SageMakerClient,
  spec: EndpointSpec,
  name: string,
  modelName: string,
): Promise<void> {
  await sagemaker.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: name,
      KmsKeyId: spec.KmsKeyId,
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          ModelName: modelName,
          InstanceType: spec.InstanceType as ProductionVariantInstanceType,
          InitialInstanceCount: spec.InitialInstanceCount,
          InitialVariantWeight: 1,
        },
      ],
      DataCaptureConfig: {
        EnableCapture: spec.CapturePercent > 0,
        InitialSamplingPercentage: spec.CapturePercent,
        DestinationS3Uri: spec.CaptureDestination,
        KmsKeyId: spec.CaptureKmsKeyId,
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
      },
    }),
  );
}

export async function createEndpoint(
  sagemaker: SageMakerClient,
  name: string,
  configName: string,
): Promise<void> {
  await sagemaker.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: configName }));
}

/** Deletes the endpoint; one that is already gone is fine. */
export async function deleteEndpoint(sagemaker: SageMakerClient, name: string): Promise<void> {
  try {
    await sagemaker.send(new DeleteEndpointCommand({ EndpointName: name }));
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** How long a blue/green update bakes, and the longest it may take, in seconds. */
export interface BlueGreenTiming {
  readonly bakeSeconds: number;
  readonly maximumSeconds: number;
}

/**
 * A blue/green update to `configName`: the new fleet takes all traffic, bakes next to the old one,
 * and SageMaker rolls back by itself when a rollback alarm fires meanwhile. It keeps the instance
 * count autoscaling has set.
 */
export async function startBlueGreenUpdate(
  sagemaker: SageMakerClient,
  endpointName: string,
  configName: string,
  rollbackAlarmNames: readonly string[],
  timing: BlueGreenTiming,
): Promise<void> {
  const deploymentConfig: DeploymentConfig = {
    BlueGreenUpdatePolicy: {
      TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: timing.bakeSeconds },
      TerminationWaitInSeconds: timing.bakeSeconds,
      MaximumExecutionTimeoutInSeconds: timing.maximumSeconds,
    },
    AutoRollbackConfiguration: { Alarms: rollbackAlarmNames.map((AlarmName) => ({ AlarmName })) },
  };
  await sagemaker.send(
    new UpdateEndpointCommand({
      EndpointName: endpointName,
      EndpointConfigName: configName,
      // Autoscaling set the instance count; the new configuration's initial count must not reset it.
      RetainAllVariantProperties: true,
      DeploymentConfig: deploymentConfig,
    }),
  );
}
