import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  SageMakerClient,
  SageMakerServiceException,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { CollectingAuditTrail } from '../../core/audit/in-memory.ts';
import { createIsComplete, createOnEvent } from '../../lambdas/model-endpoint/lifecycle.ts';
import { SPEC_PROPERTIES } from '../support/model-endpoint.ts';

/**
 * The endpoint's custom resource against SageMaker's answers (mocked at the network edge): what a
 * stack create, update and delete do to the endpoint, and above all what they leave alone.
 */
const sagemaker = mockClient(SageMakerClient);
const NOW = Date.parse('2026-12-06T10:00:00Z');
const TARGET = 'pump-maintenance-v0-20261206100000';
const APPROVED = 'pump-maintenance-v3-20261130100000';
const NAME = SPEC_PROPERTIES.EndpointName;
let audit: CollectingAuditTrail;

const deps = () => ({ sagemaker: new SageMakerClient({}), audit, clock: { now: () => NOW } });

function notFound(what: string) {
  return new SageMakerServiceException({
    name: 'ValidationException',
    $fault: 'client',
    $metadata: {},
    message: `Could not find ${what}.`,
  });
}

function update(after: Record<string, unknown>, data: Record<string, string> = {}) {
  const properties = {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:f',
    ...SPEC_PROPERTIES,
    ...after,
  };
  return {
    RequestType: 'Update',
    ResourceProperties: properties,
    OldResourceProperties: { ...SPEC_PROPERTIES, ServiceToken: properties.ServiceToken },
    PhysicalResourceId: properties.EndpointName,
    Data: data,
  };
}

/** The endpoint runs the approved version's configuration, as after an approval. */
function liveEndpoint(status: string, configName = APPROVED, failureReason?: string) {
  sagemaker.on(DescribeEndpointCommand, { EndpointName: NAME }).resolves({
    EndpointName: NAME,
    EndpointStatus: status as never,
    EndpointConfigName: configName,
    FailureReason: failureReason,
  });
  sagemaker
    .on(DescribeEndpointConfigCommand, { EndpointConfigName: APPROVED })
    .resolves({ ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: APPROVED }] });
}

beforeEach(() => {
  sagemaker.reset();
  audit = new CollectingAuditTrail();
  sagemaker.on(DescribeEndpointConfigCommand).rejects(notFound('endpoint configuration'));
});

afterAll(() => {
  sagemaker.restore();
});

describe('model endpoint custom resource', () => {
  it('GIVEN a create THEN it starts the endpoint with the stack model, network isolated, with capture and the key, and audits it', async () => {
    const result = await createOnEvent(deps())({
      RequestType: 'Create',
      ResourceProperties: SPEC_PROPERTIES,
    });

    expect(result).toEqual({ PhysicalResourceId: NAME, Data: { EndpointName: NAME } });
    expect(sagemaker.commandCalls(CreateModelCommand)[0]?.args[0].input).toEqual({
      ModelName: TARGET,
      ExecutionRoleArn: SPEC_PROPERTIES.ExecutionRoleArn,
      EnableNetworkIsolation: true,
      PrimaryContainer: {
        Image: SPEC_PROPERTIES.Image,
        ModelDataUrl: SPEC_PROPERTIES.ModelDataUrl,
        Environment: { USE_CASE: 'pump-maintenance' },
      },
    });
    expect(sagemaker.commandCalls(CreateEndpointConfigCommand)[0]?.args[0].input).toMatchObject({
      EndpointConfigName: TARGET,
      KmsKeyId: SPEC_PROPERTIES.KmsKeyId,
      ProductionVariants: [{ ModelName: TARGET, InstanceType: 'ml.c5.large', InitialInstanceCount: 1 }],
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: 20,
        KmsKeyId: SPEC_PROPERTIES.CaptureKmsKeyId,
      },
    });
    expect(sagemaker.commandCalls(CreateEndpointCommand)[0]?.args[0].input).toEqual({
      EndpointName: NAME,
      EndpointConfigName: TARGET,
    });
    expect(audit.events.map((e) => [e.kind, e.details.modelDataUrl])).toEqual([
      ['model-deployed', SPEC_PROPERTIES.ModelDataUrl],
    ]);
  });

  it('GIVEN a create THEN it is complete once SageMaker has the endpoint in service, and fails with its reason', async () => {
    const isComplete = createIsComplete(deps());
    const event = { RequestType: 'Create', ResourceProperties: SPEC_PROPERTIES, PhysicalResourceId: NAME };
    liveEndpoint('Creating');
    expect(await isComplete(event)).toEqual({ IsComplete: false });
    liveEndpoint('InService');
    expect(await isComplete(event)).toEqual({ IsComplete: true });
    liveEndpoint('Failed', APPROVED, 'The primary container did not pass the ping health check.');
    await expect(isComplete(event)).rejects.toThrow(
      `endpoint ${NAME} is Failed: The primary container did not pass the ping health check.`,
    );
  });

  it('GIVEN a code change (a new image only) THEN the update touches nothing in SageMaker: the approved model keeps running', async () => {
    const event = update({ Image: SPEC_PROPERTIES.Image.replace(/a+$/, 'b'.repeat(64)) });
    const result = await createOnEvent(deps())(event);
    expect(result).toEqual({ PhysicalResourceId: NAME, Data: { EndpointName: NAME } });

    expect(await createIsComplete(deps())({ ...event, ...result })).toEqual({ IsComplete: true });
    expect(sagemaker.calls()).toHaveLength(0);
    expect(audit.events).toEqual([]);
  });

  it('GIVEN new capture settings while an approved version bakes THEN it waits, then rolls the live model out blue/green with the new settings', async () => {
    const event = update({ CapturePercent: '5' });
    const result = await createOnEvent(deps())(event);
    expect(result.Data).toEqual({ EndpointName: NAME, Target: TARGET });
    const isComplete = createIsComplete(deps());

    liveEndpoint('Updating');
    expect(await isComplete({ ...event, ...result })).toEqual({ IsComplete: false });
    expect(sagemaker.commandCalls(CreateEndpointConfigCommand)).toHaveLength(0);

    liveEndpoint('InService');
    expect(await isComplete({ ...event, ...result })).toEqual({ IsComplete: false });
    expect(sagemaker.commandCalls(CreateModelCommand)).toHaveLength(0);
    expect(sagemaker.commandCalls(CreateEndpointConfigCommand)[0]?.args[0].input).toMatchObject({
      EndpointConfigName: TARGET,
      ProductionVariants: [{ ModelName: APPROVED }],
      DataCaptureConfig: { InitialSamplingPercentage: 5 },
    });
    expect(sagemaker.commandCalls(UpdateEndpointCommand)[0]?.args[0].input).toMatchObject({
      EndpointName: NAME,
      EndpointConfigName: TARGET,
      RetainAllVariantProperties: true,
      DeploymentConfig: {
        BlueGreenUpdatePolicy: { MaximumExecutionTimeoutInSeconds: 1800 },
        AutoRollbackConfiguration: { Alarms: [{ AlarmName: 'errors' }, { AlarmName: 'latency' }] },
      },
    });

    liveEndpoint('InService', TARGET);
    expect(await isComplete({ ...event, ...result })).toEqual({ IsComplete: true });
    expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(1);
  });

  it('GIVEN the update was rolled back by an alarm THEN the stack update fails, saying so, and does not try again', async () => {
    const event = update({ CapturePercent: '5' }, { EndpointName: NAME, Target: TARGET });
    liveEndpoint('InService');
    sagemaker.on(DescribeEndpointConfigCommand, { EndpointConfigName: TARGET }).resolves({});

    await expect(createIsComplete(deps())(event)).rejects.toThrow(
      `the update of endpoint ${NAME} to ${TARGET} did not take: SageMaker rolled it back`,
    );
    expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);
  });

  it('GIVEN a new instance type THEN a new endpoint starts with the model the old one runs', async () => {
    const newName = NAME.replace(/c5-large$/, 'c5-xlarge');
    const event = update({ EndpointName: newName, InstanceType: 'ml.c5.xlarge' });
    const result = await createOnEvent(deps())(event);
    expect(result.PhysicalResourceId).toBe(newName);
    liveEndpoint('InService');
    sagemaker.on(DescribeEndpointCommand, { EndpointName: newName }).rejectsOnce(notFound('endpoint'));

    expect(await createIsComplete(deps())({ ...event, ...result })).toEqual({ IsComplete: false });
    expect(sagemaker.commandCalls(CreateModelCommand)).toHaveLength(0);
    expect(sagemaker.commandCalls(CreateEndpointConfigCommand)[0]?.args[0].input).toMatchObject({
      ProductionVariants: [{ ModelName: APPROVED, InstanceType: 'ml.c5.xlarge' }],
    });
    expect(sagemaker.commandCalls(CreateEndpointCommand)[0]?.args[0].input).toEqual({
      EndpointName: newName,
      EndpointConfigName: TARGET,
    });

    sagemaker
      .on(DescribeEndpointCommand, { EndpointName: newName })
      .resolves({ EndpointStatus: 'InService' });
    expect(await createIsComplete(deps())({ ...event, ...result })).toEqual({ IsComplete: true });
    expect(audit.events).toEqual([]);
  });

  it('GIVEN another artifact in the stack THEN that model is deployed blue/green and audited', async () => {
    const artifact = 's3://artifacts/models/pump-maintenance/job-2/output/model.tar.gz';
    const event = update({ ModelDataUrl: artifact }, { EndpointName: NAME, Target: TARGET });
    liveEndpoint('InService');

    expect(await createIsComplete(deps())(event)).toEqual({ IsComplete: false });
    expect(sagemaker.commandCalls(CreateModelCommand)[0]?.args[0].input.PrimaryContainer?.ModelDataUrl).toBe(
      artifact,
    );
    expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(1);
    expect(audit.events.map((e) => [e.kind, e.reason])).toEqual([
      ['model-deployed', `the stack names another model: ${artifact}`],
    ]);
  });

  it('GIVEN a delete THEN it deletes the endpoint, accepts one already gone, and is complete when SageMaker has none', async () => {
    const event = { RequestType: 'Delete', ResourceProperties: SPEC_PROPERTIES, PhysicalResourceId: NAME };
    sagemaker.on(DeleteEndpointCommand).rejects(notFound('endpoint'));
    expect(await createOnEvent(deps())(event)).toEqual({ PhysicalResourceId: NAME });
    expect(sagemaker.commandCalls(DeleteEndpointCommand)[0]?.args[0].input).toEqual({ EndpointName: NAME });

    liveEndpoint('Deleting');
    expect(await createIsComplete(deps())(event)).toEqual({ IsComplete: false });
    sagemaker.on(DescribeEndpointCommand).rejects(notFound('endpoint'));
    expect(await createIsComplete(deps())(event)).toEqual({ IsComplete: true });
  });

  it('GIVEN hostile properties THEN it refuses them, naming the field, before calling SageMaker', async () => {
    await expect(
      createOnEvent(deps())({
        RequestType: 'Create',
        ResourceProperties: { ...SPEC_PROPERTIES, EndpointName: 'x'.repeat(64), InitialInstanceCount: '-1' },
      }),
    ).rejects.toThrow(/the properties of the model endpoint: EndpointName.*InitialInstanceCount/s);
    await expect(createOnEvent(deps())({ RequestType: 'Replace' })).rejects.toThrow(
      'not a custom resource event',
    );
    expect(sagemaker.calls()).toHaveLength(0);
  });
});
