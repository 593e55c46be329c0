import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelPackageCommand,
  SageMakerClient,
  UpdateEndpointCommand,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { CollectingAuditTrail } from '../../core/audit/in-memory.ts';
import { createDeployHandler } from '../../lambdas/deploy/handler.ts';

const sagemaker = mockClient(SageMakerClient);
const ARN = 'arn:aws:sagemaker:eu-west-1:111122223333:model-package/pumps-group/3';
const ROSA = { IamIdentity: { Arn: 'arn:aws:sts::111122223333:assumed-role/MlEngineer/rosa' } };
const DANA = { IamIdentity: { Arn: 'arn:aws:sts::111122223333:assumed-role/MlEngineer/dana' } };
const NOW = Date.parse('2026-11-30T10:00:00Z');
let audit: CollectingAuditTrail;

function approval(status = 'Approved', group = 'pumps-group') {
  return {
    'detail-type': 'SageMaker Model Package State Change',
    source: 'aws.sagemaker',
    detail: { ModelPackageArn: ARN, ModelPackageGroupName: group, ModelApprovalStatus: status },
  };
}

function handler() {
  return createDeployHandler({
    sagemaker: new SageMakerClient({}),
    audit,
    clock: { now: () => NOW },
    targets: new Map([
      [
        'pumps-group',
        {
          useCase: 'pump-maintenance',
          endpointName: 'pumps-endpoint',
          executionRoleArn: 'arn:aws:iam::111122223333:role/exec',
          rollbackAlarmNames: ['pumps-errors', 'pumps-latency'],
        },
      ],
    ]),
  });
}

beforeEach(() => {
  sagemaker.reset();
  audit = new CollectingAuditTrail();
  sagemaker.on(DescribeModelPackageCommand).resolves({
    ModelPackageVersion: 3,
    CreatedBy: ROSA,
    LastModifiedBy: DANA,
    ApprovalDescription: 'fewer false alarms on line 1',
  });
  sagemaker.on(DescribeEndpointCommand).resolves({ EndpointConfigName: 'pumps-config-1' });
  sagemaker.on(DescribeEndpointConfigCommand).resolves({
    KmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k',
    DataCaptureConfig: {
      InitialSamplingPercentage: 20,
      DestinationS3Uri: 's3://b/data-capture/',
      CaptureOptions: [{ CaptureMode: 'Input' }],
    },
    ProductionVariants: [
      {
        VariantName: 'AllTraffic',
        ModelName: 'old-model',
        InstanceType: 'ml.c5.large',
        InitialInstanceCount: 1,
      },
    ],
  });
  sagemaker.on(CreateModelCommand).resolves({});
  sagemaker.on(CreateEndpointConfigCommand).resolves({});
  sagemaker.on(UpdateEndpointCommand).resolves({});
  sagemaker.on(UpdateModelPackageCommand).resolves({});
});

afterAll(() => {
  sagemaker.restore();
});

describe('the model deploy function', () => {
  it('GIVEN a package approved by someone other than its creator THEN a model from it goes out blue/green, keeping the instance count and rolling back on the alarm', async () => {
    const outcome = await handler()(approval());
    expect(outcome).toEqual({ action: 'deployed', endpointConfigName: 'pump-maintenance-v3-20261130100000' });
    expect(sagemaker.commandCalls(CreateModelCommand)[0]?.args[0].input).toMatchObject({
      ModelName: 'pump-maintenance-v3-20261130100000',
      EnableNetworkIsolation: true,
      PrimaryContainer: { ModelPackageName: ARN },
    });
    expect(sagemaker.commandCalls(CreateEndpointConfigCommand)[0]?.args[0].input).toMatchObject({
      KmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k',
      DataCaptureConfig: { InitialSamplingPercentage: 20 },
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          ModelName: 'pump-maintenance-v3-20261130100000',
          InstanceType: 'ml.c5.large',
        },
      ],
    });
    expect(sagemaker.commandCalls(UpdateEndpointCommand)[0]?.args[0].input).toEqual({
      EndpointName: 'pumps-endpoint',
      EndpointConfigName: 'pump-maintenance-v3-20261130100000',
      RetainAllVariantProperties: true,
      DeploymentConfig: {
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 600 },
          TerminationWaitInSeconds: 600,
          MaximumExecutionTimeoutInSeconds: 3600,
        },
        AutoRollbackConfiguration: {
          Alarms: [{ AlarmName: 'pumps-errors' }, { AlarmName: 'pumps-latency' }],
        },
      },
    });
    expect(audit.events).toEqual([
      expect.objectContaining({
        kind: 'model-deployed',
        reason: 'fewer false alarms on line 1',
        details: expect.objectContaining({
          createdBy: ROSA.IamIdentity.Arn,
          approvedBy: DANA.IamIdentity.Arn,
          previousEndpointConfig: 'pumps-config-1',
        }) as unknown,
      }),
    ]);
  });

  it('GIVEN a package approved by its own creator THEN the approval is withdrawn and nothing is deployed', async () => {
    sagemaker
      .on(DescribeModelPackageCommand)
      .resolves({ ModelPackageVersion: 3, CreatedBy: ROSA, LastModifiedBy: ROSA });
    const outcome = await handler()(approval());
    expect(outcome).toEqual({
      action: 'refused',
      why: `${ROSA.IamIdentity.Arn} created it and may not also approve it (four eyes)`,
    });
    expect(sagemaker.commandCalls(UpdateModelPackageCommand)[0]?.args[0].input).toMatchObject({
      ModelPackageArn: ARN,
      ModelApprovalStatus: 'PendingManualApproval',
    });
    expect(sagemaker.commandCalls(CreateModelCommand)).toHaveLength(0);
    expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);
    expect(audit.events.map((e) => e.kind)).toEqual(['model-rejected']);
  });

  it('GIVEN an approval whose approver is unknown THEN it is withdrawn too: four eyes must be shown', async () => {
    sagemaker.on(DescribeModelPackageCommand).resolves({ ModelPackageVersion: 3, CreatedBy: ROSA });
    expect(await handler()(approval())).toMatchObject({ action: 'refused' });
    expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);
  });

  it('GIVEN a rejection, another group or a malformed event THEN nothing happens, and a malformed one says why', async () => {
    expect(await handler()(approval('Rejected'))).toEqual({ action: 'ignored', why: 'status Rejected' });
    expect(await handler()(approval('Approved', 'other'))).toMatchObject({ action: 'ignored' });
    await expect(handler()({ detail: {} })).rejects.toThrow(/not a model package state change/);
    expect(sagemaker.commandCalls(DescribeModelPackageCommand)).toHaveLength(0);
  });
});
