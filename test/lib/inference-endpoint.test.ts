import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import {
  hasInstanceStorage,
  InferenceEndpoint,
  type InferenceEndpointProps,
} from '../../lib/constructs/inference-endpoint.ts';
import { constructHarness, pipelineStack, testApp } from '../support/cdk.ts';

function build(props: Partial<InferenceEndpointProps> = {}) {
  const { stack, key, bucket } = constructHarness();
  const inference = new InferenceEndpoint(stack, 'Inference', {
    auditBus: new events.EventBus(stack, 'Bus'),
    useCase: 'pump-maintenance',
    artifactBucket: bucket,
    encryptionKey: key,
    instanceType: 'ml.c5.large',
    minInstances: 1,
    maxInstances: 4,
    invocationsPerInstancePerMinute: 3000,
    ...props,
  });
  // Synthesized on first use, so a test can still add to the stack before it asserts.
  return {
    stack,
    inference,
    get template() {
      return Template.fromStack(stack);
    },
  };
}

const ARTIFACT = 'models/pump-maintenance/job-1/output/model.tar.gz';

describe('InferenceEndpoint', () => {
  it('without a trained model, provisions the image and the SageMaker role but no endpoint', () => {
    const { template, inference } = build();
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'sagemaker.amazonaws.com' } })],
      },
    });
    template.resourceCountIs('Custom::AiotModelEndpoint', 0);
    expect(inference.endpointName).toBeUndefined();
    expect(() => inference.grantInvoke(new iam.AnyPrincipal())).toThrow(
      'the inference endpoint has no model yet: pass modelArtifactKey',
    );
  });

  it('GIVEN a new instance type WHEN synthesized again THEN the endpoint gets a new name and its scaling target is a new resource, since SageMaker refuses to change the type of an autoscaled variant', () => {
    const ids = (instanceType: string) => {
      const { template } = build({ modelArtifactKey: ARTIFACT, instanceType });
      const [[endpoint, resource] = ['', { Properties: { EndpointName: '' } }]] = Object.entries(
        template.findResources('Custom::AiotModelEndpoint') as Record<
          string,
          { Properties: { EndpointName: string } }
        >,
      );
      const targets = template.findResources('AWS::ApplicationAutoScaling::ScalableTarget') as Record<
        string,
        { Properties: { ResourceId: unknown } }
      >;
      const [[target, { Properties }] = ['', { Properties: { ResourceId: '' } }]] = Object.entries(targets);
      // The target scales the endpoint the resource holds, after it exists.
      expect(JSON.stringify(Properties.ResourceId)).toContain(endpoint);
      return { endpoint, name: resource.Properties.EndpointName, target };
    };

    const before = ids('ml.c5.large');
    const after = ids('ml.c6i.xlarge');

    // One resource, whose handler starts the new endpoint with the old one's live model.
    expect(after.endpoint).toBe(before.endpoint);
    expect(after.name).not.toBe(before.name);
    expect(after.name).toMatch(/-c6i-xlarge$/);
    expect(after.target).not.toBe(before.target);
    expect(ids('ml.c5.large')).toEqual(before);
  });

  it('with a trained model, starts the endpoint from the image and the artifact, through the resource that keeps approved models', () => {
    const { template } = build({ modelArtifactKey: ARTIFACT });
    template.resourceCountIs('AWS::SageMaker::Model', 0);
    template.resourceCountIs('AWS::SageMaker::Endpoint', 0);
    template.hasResourceProperties('Custom::AiotModelEndpoint', {
      UseCase: 'pump-maintenance',
      Image: Match.anyValue(),
      ExecutionRoleArn: Match.anyValue(),
      ModelDataUrl: { 'Fn::Join': ['', Match.arrayWith([`/${ARTIFACT}`])] },
    });
  });

  it('captures requests and answers to S3, encrypted, at the given rate', () => {
    const { template } = build({ modelArtifactKey: ARTIFACT, dataCapturePercent: 35 });
    template.hasResourceProperties('Custom::AiotModelEndpoint', {
      KmsKeyId: Match.anyValue(),
      InstanceType: 'ml.c5.large',
      InitialInstanceCount: 1,
      CapturePercent: 35,
      CaptureKmsKeyId: Match.anyValue(),
      CaptureDestination: { 'Fn::Join': ['', Match.arrayWith(['/data-capture/pump-maintenance/'])] },
    });
  });

  it('scales the variant between min and max on invocations per instance, and on CPU, since one call carries many devices', () => {
    const { template } = build({ modelArtifactKey: ARTIFACT, minInstances: 2, maxInstances: 6 });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 6,
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      ServiceNamespace: 'sagemaker',
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: 3000,
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
      }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: 50,
        CustomizedMetricSpecification: Match.objectLike({
          Namespace: '/aws/sagemaker/Endpoints',
          MetricName: 'CPUUtilization',
          Statistic: 'Average',
          Dimensions: Match.arrayWith([{ Name: 'VariantName', Value: 'AllTraffic' }]),
        }),
      }),
    });
  });

  it('GIVEN a stack update THEN it rolls out with the alarms that watch the endpoint by its name', () => {
    const { template } = build({ modelArtifactKey: ARTIFACT });
    const [resource] = Object.values(
      template.findResources('Custom::AiotModelEndpoint') as Record<
        string,
        { Properties: { EndpointName: string; RollbackAlarmNames: unknown[] } }
      >,
    );
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    expect(resource?.Properties.RollbackAlarmNames).toEqual(Object.keys(alarms).map((id) => ({ Ref: id })));
    for (const alarm of Object.values(alarms)) {
      expect(JSON.stringify(alarm)).toContain(`"Value":"${resource?.Properties.EndpointName}"`);
    }
  });

  it('GIVEN an instance type with local NVMe storage THEN its configuration has no KMS key, which SageMaker would refuse', () => {
    const withStorage = build({ modelArtifactKey: ARTIFACT, instanceType: 'ml.c5d.large' }).template;
    withStorage.hasResourceProperties('Custom::AiotModelEndpoint', { KmsKeyId: Match.absent() });
    const plain = build({ modelArtifactKey: ARTIFACT, instanceType: 'ml.c5.large' }).template;
    plain.hasResourceProperties('Custom::AiotModelEndpoint', { KmsKeyId: Match.anyValue() });
    expect(
      [
        'ml.m5d.xlarge',
        'ml.c6gd.large',
        'ml.g4dn.xlarge',
        'ml.p4d.24xlarge',
        'ml.g5.xlarge',
        'ml.m6id.large',
      ].filter((t) => !hasInstanceStorage(t)),
    ).toEqual([]);
    expect(
      ['ml.c5.large', 'ml.m5.xlarge', 'ml.inf1.xlarge', 'ml.t2.medium', 'ml.c6g.large'].filter(
        hasInstanceStorage,
      ),
    ).toEqual([]);
  });

  it("GIVEN an endpoint THEN SageMaker's own log group gets an expiry and the stack's key, after it exists, and the key admits CloudWatch Logs for endpoint log groups only", () => {
    const { template } = build({ modelArtifactKey: ARTIFACT });
    const logGroupName = {
      'Fn::Join': ['', ['/aws/sagemaker/Endpoints/', { 'Fn::GetAtt': [Match.anyValue(), 'EndpointName'] }]],
    };
    template.hasResourceProperties('Custom::LogRetention', {
      LogGroupName: logGroupName,
      RetentionInDays: 365,
    });
    const associations = template.findResources('Custom::AWS', {
      DependsOn: Match.arrayWith([Match.stringLikeRegexp('EndpointLogRetention')]),
    });
    const [association] = Object.values(associations) as { Properties?: { Create?: unknown } }[];
    expect(Object.keys(associations)).toHaveLength(1);
    // Its function logs to a group of the stack's, not one Lambda would make without expiry or key.
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('AwsCustomResourceLogs') } },
    });
    const create = JSON.stringify(association?.Properties?.Create);
    expect(create).toContain('"action\\":\\"associateKmsKey\\"');
    expect(create).toContain('/aws/sagemaker/Endpoints/');
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [Match.objectLike({ Action: 'logs:AssociateKmsKey', Effect: 'Allow' })],
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
            Condition: {
              ArnLike: {
                'kms:EncryptionContext:aws:logs:arn': {
                  'Fn::Join': Match.arrayWith([Match.arrayWith([':log-group:/aws/sagemaker/Endpoints/*'])]),
                },
              },
            },
          }),
        ]),
      },
    });
  });

  it('GIVEN a trained model THEN its execution role may read the rollback alarms, which SageMaker reads during a blue/green update, and no other alarm', () => {
    const { template } = build({ modelArtifactKey: ARTIFACT });

    const alarms = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(2);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^InferenceRole') }],
      PolicyDocument: {
        Statement: [
          {
            Action: 'cloudwatch:DescribeAlarms',
            Effect: 'Allow',
            Resource: alarms.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })),
          },
        ],
      },
    });
  });

  it.each(['ml.c5.large', 'ml.g5.xlarge', 'ml.inf2.xlarge', 'ml.m5d.large'])(
    'GIVEN the x86 instance type %s THEN it is accepted',
    (instanceType) => {
      expect(build({ instanceType, modelArtifactKey: ARTIFACT }).inference.endpointName).toBeDefined();
    },
  );

  it('grants InvokeEndpoint on this endpoint only', () => {
    const { stack, inference } = build({ modelArtifactKey: ARTIFACT });
    const role = new iam.Role(stack, 'Caller', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    inference.grantInvoke(role);
    expect(inference.endpointArn).toMatch(/:endpoint\/harness-inference-[0-9a-f]{8}-c5-large$/);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Caller') }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'sagemaker:InvokeEndpoint',
            Resource: {
              'Fn::Join': [
                '',
                Match.arrayWith([`:endpoint/${inference.endpointArn?.split('endpoint/')[1] ?? ''}`]),
              ],
            },
          }),
        ],
      },
    });
  });

  it.each([
    [{ minInstances: 5, maxInstances: 2 }, 'instances must satisfy 1 <= min <= max, got min 5 and max 2'],
    [{ dataCapturePercent: 150 }, 'dataCapturePercent must be a whole number from 0 to 100, got 150'],
    [{ cpuUtilizationPercent: 95 }, 'cpuUtilizationPercent must be from 10 to 90 (of one vCPU), got 95'],
    [
      { instanceType: 'ml.c7g.large' },
      'instanceType must be an x86 type such as ml.c5.large (the model image is linux/amd64), got "ml.c7g.large"',
    ],
    [
      { instanceType: 'ml.m6gd.xlarge' },
      'instanceType must be an x86 type such as ml.c5.large (the model image is linux/amd64), got "ml.m6gd.xlarge"',
    ],
    [
      { modelArtifactKey: 'models/model.json' },
      'modelArtifactKey must name a model.tar.gz in the artifact bucket, got "models/model.json"',
    ],
  ])('refuses %o with the bad value in the message', (props, message) => {
    expect(() => build(props)).toThrow(message);
  });

  it('is built by the stack for each manifest with a model section, and refuses artifacts of unknown use cases', () => {
    const template = Template.fromStack(
      pipelineStack(testApp(), { modelArtifacts: { 'pump-maintenance': ARTIFACT } }),
    );
    template.resourceCountIs('Custom::AiotModelEndpoint', 1);
    expect(() => pipelineStack(testApp(), { modelArtifacts: { hvac: ARTIFACT } })).toThrow(
      'model artifacts given for unknown use cases: hvac',
    );
  });
});
