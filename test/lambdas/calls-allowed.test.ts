import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelPackageCommand,
  SageMakerClient,
  SageMakerServiceException,
  UpdateEndpointCommand,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DeleteCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createNotifyHandler, notifyDependenciesFromEnv } from '../../lambdas/notify/handler.ts';
import { openAlert } from '../support/alerts.ts';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createDeployHandler, deployDependenciesFromEnv } from '../../lambdas/deploy/handler.ts';
import {
  createIsComplete,
  createOnEvent,
  modelEndpointDependenciesFromEnv,
} from '../../lambdas/model-endpoint/lifecycle.ts';
import { deployedFunction, deployedTemplate, type DeployedFunction } from '../support/deployed-functions.ts';
import { deniedRequests, iamRequestsOf, unusedGrants, type IamRequest } from '../support/iam-check.ts';
import { resolveDeep } from '../support/template-env.ts';

/**
 * The model functions as deployed: environment and role from the synthesized template, a
 * representative event each, and every AWS call they make decided as IAM would by their own
 * role's policies (AWS answers mocked at the network edge).
 */
const DEPLOYMENT = 'InfluxDB, trained models';
const sagemaker = mockClient(SageMakerClient);
const events = mockClient(EventBridgeClient);
const documents = mockClient(DynamoDBDocumentClient);
const sns = mockClient(SNSClient);
const ROSA = { IamIdentity: { Arn: 'arn:aws:sts::123456789012:assumed-role/MlEngineer/rosa' } };
const DANA = { IamIdentity: { Arn: 'arn:aws:sts::123456789012:assumed-role/MlEngineer/dana' } };

/**
 * The IAM requests each function made in the cases of this file, by construct path: the last
 * describe checks that its role holds nothing beyond them (run the whole file for it).
 */
const made = new Map<string, IamRequest[]>();
function record(deployed: DeployedFunction, requests: readonly IamRequest[]): IamRequest[] {
  made.set(deployed.path, [...(made.get(deployed.path) ?? []), ...requests]);
  return [...requests];
}

/** The deploy function as deployed, and the approval of version 3 of the pumps' model package. */
function deployFunction() {
  const deployed = deployedFunction(DEPLOYMENT, 'ModelDeployment/Function');
  const dependencies = deployDependenciesFromEnv(deployed.env);
  const [group = ''] = [...dependencies.targets.keys()].filter((g) => g.endsWith('pump-maintenance'));
  const approval = {
    'detail-type': 'SageMaker Model Package State Change',
    detail: {
      ModelPackageArn: `arn:aws:sagemaker:us-east-1:123456789012:model-package/${group.toLowerCase()}/3`,
      ModelPackageGroupName: group,
      ModelApprovalStatus: 'Approved',
    },
  };
  return { deployed, dependencies, group, approval };
}

/** The configuration a stack update of the endpoint rolls out (`Data.Target` from onEvent). */
const TARGET = 'pump-maintenance-v0-20261206100000';

/** The deployed isComplete, polled once for a stack update of endpoint `name` from `before` to `after`. */
async function pollIsComplete(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  name: string,
): Promise<DeployedFunction> {
  const isComplete = deployedFunction(DEPLOYMENT, 'ModelEndpointProvider/IsCompleteFunction');
  await createIsComplete(modelEndpointDependenciesFromEnv(isComplete.env))({
    RequestType: 'Update',
    ResourceProperties: after,
    OldResourceProperties: before,
    PhysicalResourceId: name,
    Data: { EndpointName: name, Target: TARGET },
  });
  return isComplete;
}

/** The calls `deployed` made since the mocks were reset, kept for the closing check, that its role denies. */
const deniedOfRecorded = (deployed: DeployedFunction) =>
  deniedRequests(deployed.policies, record(deployed, iamRequestsOf([sagemaker, events])));

/** The endpoint resource's properties as CloudFormation hands them to its functions. */
function endpointProperties(): Record<string, unknown> {
  const template = deployedTemplate(DEPLOYMENT);
  const [resource] = Object.values(template.Resources).filter(
    (r) =>
      r.Type === 'Custom::AiotModelEndpoint' && JSON.stringify(r.Properties).includes('pump-maintenance'),
  );
  return resolveDeep(template, resource?.Properties) as Record<string, unknown>;
}

function notFound() {
  return new SageMakerServiceException({
    name: 'ValidationException',
    $fault: 'client',
    $metadata: {},
    message: 'Could not find endpoint.',
  });
}

beforeEach(() => {
  sagemaker.reset();
  events.reset();
  documents.reset();
  sns.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
});

afterAll(() => {
  sagemaker.restore();
  events.restore();
  documents.restore();
  sns.restore();
});

describe("notifications: every AWS call is one the function's role in the template allows", () => {
  it('GIVEN a group whose window has ended THEN the notify function takes it and publishes to the use case topic within its role, and puts back a group it could not send', async () => {
    const deployed = deployedFunction(DEPLOYMENT, 'Alerting/NotifyFunction');
    const held = openAlert(
      { useCase: 'pump-maintenance', deviceId: 'pump-001', inference: 'anomaly', group: 'line-1' },
      1000,
    );
    documents.on(DeleteCommand).callsFake((input: { Key: { sk: string } }) => ({
      Attributes: {
        pk: 'USECASE#pump-maintenance',
        sk: input.Key.sk,
        firstAt: 1000,
        'alert#pump-001': JSON.stringify(held),
      },
    }));
    documents.on(UpdateCommand).resolves({});
    // The second group's publish fails: its alerts go back to the table for the retry.
    sns.on(PublishCommand).resolvesOnce({ MessageId: 'm-1' }).rejects(new Error('SNS throttled'));

    const result = await createNotifyHandler(notifyDependenciesFromEnv(deployed.env))({
      Records: [
        { messageId: 'm1', body: '{"useCase":"pump-maintenance","group":"line-1"}' },
        { messageId: 'm2', body: '{"useCase":"pump-maintenance","group":"line-2"}' },
      ] as SQSRecord[],
    });

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm2' }]);
    const requests = record(deployed, iamRequestsOf([documents, sns]));
    expect(requests.map((r) => r.action)).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:DeleteItem',
      'dynamodb:UpdateItem',
      'sns:Publish',
      'sns:Publish',
    ]);
    expect(await deniedRequests(deployed.policies, requests)).toEqual([]);
  });
});

describe('model functions: every AWS call is one their role in the template allows', () => {
  it('GIVEN an approval by a second person THEN the deploy function rolls the version out within its role', async () => {
    const { deployed, dependencies, group, approval } = deployFunction();
    const endpointName = dependencies.targets.get(group)?.endpointName ?? '';
    sagemaker
      .on(DescribeModelPackageCommand)
      .resolves({ ModelPackageVersion: 3, CreatedBy: ROSA, LastModifiedBy: DANA });
    sagemaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointName: endpointName, EndpointConfigName: 'pump-maintenance-v2-20261130100000' });
    sagemaker.on(DescribeEndpointConfigCommand).resolves({
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'pump-maintenance-v2-20261130100000' }],
    });

    const outcome = await createDeployHandler(dependencies)(approval);

    expect(outcome.action).toBe('deployed');
    const requests = record(deployed, iamRequestsOf([sagemaker, events]));
    expect(new Set(requests.map((r) => r.action))).toEqual(
      new Set([
        'sagemaker:DescribeModelPackage',
        'sagemaker:CreateModel',
        'iam:PassRole',
        'sagemaker:DescribeEndpoint',
        'sagemaker:DescribeEndpointConfig',
        'sagemaker:CreateEndpointConfig',
        'sagemaker:UpdateEndpoint',
        'events:PutEvents',
      ]),
    );
    expect(await deniedRequests(deployed.policies, requests)).toEqual([]);
  });

  it('GIVEN the stack creates the endpoint THEN onEvent creates model, configuration and endpoint within its role', async () => {
    const deployed = deployedFunction(DEPLOYMENT, 'ModelEndpointProvider/OnEventFunction');
    await createOnEvent(modelEndpointDependenciesFromEnv(deployed.env))({
      RequestType: 'Create',
      ResourceProperties: endpointProperties(),
    });

    const requests = record(deployed, iamRequestsOf([sagemaker, events]));
    expect(requests.map((r) => r.action)).toContain('sagemaker:CreateEndpoint');
    expect(await deniedRequests(deployed.policies, requests)).toEqual([]);
  });

  it('GIVEN a new instance type THEN isComplete starts the new endpoint and onEvent deletes the old one, each within its role', async () => {
    const after = endpointProperties();
    const newName = String(after.EndpointName);
    const oldName = newName.replace(/-c5-large$/, '-c5-2xlarge');
    const before = { ...after, EndpointName: oldName, InstanceType: 'ml.c5.2xlarge' };
    sagemaker.on(DescribeEndpointCommand, { EndpointName: newName }).rejects(notFound());
    sagemaker
      .on(DescribeEndpointCommand, { EndpointName: oldName })
      .resolves({ EndpointStatus: 'InService', EndpointConfigName: 'pump-maintenance-v3-20261130100000' });
    sagemaker.on(DescribeEndpointConfigCommand).resolves({
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'pump-maintenance-v3-20261130100000' }],
    });
    sagemaker.on(DeleteEndpointCommand).resolves({});
    const onEvent = deployedFunction(DEPLOYMENT, 'ModelEndpointProvider/OnEventFunction');

    const isComplete = await pollIsComplete(before, after, newName);
    expect(sagemaker.commandCalls(CreateEndpointCommand)).toHaveLength(1);
    expect(await deniedOfRecorded(isComplete)).toEqual([]);

    sagemaker.resetHistory();
    // CloudFormation then deletes the old endpoint, whose name the template no longer holds.
    await createOnEvent(modelEndpointDependenciesFromEnv(onEvent.env))({
      RequestType: 'Delete',
      ResourceProperties: before,
      PhysicalResourceId: oldName,
    });
    const deletes = record(onEvent, iamRequestsOf([sagemaker]));
    expect(deletes.map((r) => r.action)).toEqual(['sagemaker:DeleteEndpoint']);
    expect(await deniedRequests(onEvent.policies, deletes)).toEqual([]);
    // (and the check can fail: isComplete may not delete endpoints)
    expect(await deniedRequests(isComplete.policies, deletes)).toEqual([
      expect.stringContaining('ImplicitlyDenied'),
    ]);
  });

  it('GIVEN new capture settings THEN isComplete rolls the live model out blue/green within its role', async () => {
    const after = endpointProperties();
    const name = String(after.EndpointName);
    sagemaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointStatus: 'InService', EndpointConfigName: 'pump-maintenance-v3-20261130100000' });
    sagemaker.on(DescribeEndpointConfigCommand, { EndpointConfigName: TARGET }).rejects(notFound());
    sagemaker
      .on(DescribeEndpointConfigCommand, { EndpointConfigName: 'pump-maintenance-v3-20261130100000' })
      .resolves({
        ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'pump-maintenance-v3-20261130100000' }],
      });

    const isComplete = await pollIsComplete(after, { ...after, CapturePercent: '5' }, name);

    expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(1);
    expect(sagemaker.commandCalls(CreateModelCommand)).toHaveLength(0);
    expect(sagemaker.commandCalls(CreateEndpointConfigCommand)).toHaveLength(1);
    expect(await deniedOfRecorded(isComplete)).toEqual([]);
  });

  it('GIVEN another model artifact in the stack THEN isComplete rolls that model out and records it within its role', async () => {
    const before = endpointProperties();
    const name = String(before.EndpointName);
    sagemaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointStatus: 'InService', EndpointConfigName: 'pump-maintenance-v3-20261130100000' });
    sagemaker.on(DescribeEndpointConfigCommand).rejects(notFound());

    const isComplete = await pollIsComplete(
      before,
      { ...before, ModelDataUrl: 's3://models/pump-maintenance/retrained/model.tar.gz' },
      name,
    );

    expect(sagemaker.commandCalls(CreateModelCommand)).toHaveLength(1);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(1);
    expect(await deniedOfRecorded(isComplete)).toEqual([]);
  });

  it('GIVEN a package approved by its own creator THEN the deploy function withdraws the approval within its role', async () => {
    const { deployed, dependencies, approval } = deployFunction();
    sagemaker
      .on(DescribeModelPackageCommand)
      .resolves({ ModelPackageVersion: 3, CreatedBy: ROSA, LastModifiedBy: ROSA });
    sagemaker.on(UpdateModelPackageCommand).resolves({});

    const outcome = await createDeployHandler(dependencies)(approval);

    expect(outcome.action).toBe('refused');
    expect(await deniedOfRecorded(deployed)).toEqual([]);
  });
});

describe('least privilege: each role holds only what its handler called in the cases above', () => {
  it.each([
    'Alerting/NotifyFunction',
    'ModelDeployment/Function',
    'ModelEndpointProvider/OnEventFunction',
    'ModelEndpointProvider/IsCompleteFunction',
  ])('GIVEN %s THEN its role allows no action the cases did not use', (path) => {
    const deployed = deployedFunction(DEPLOYMENT, path);
    expect(made.get(deployed.path), 'run the whole file: this sums the calls of its cases').toBeDefined();
    expect(unusedGrants(deployed.policies, made.get(deployed.path) ?? [])).toEqual([]);
  });
});
