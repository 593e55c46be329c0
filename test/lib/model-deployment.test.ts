import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { pipelineStack, testApp } from '../support/cdk.ts';

const ARTIFACT = 'models/pump-maintenance/job-1/output/model.tar.gz';

// cdk-nag's AwsSolutions pack runs on the whole stack, with and without an endpoint, in nag.test.ts.
describe('ModelDeployment', () => {
  const app = testApp();
  const stack = pipelineStack(app, { modelArtifacts: { 'pump-maintenance': ARTIFACT } });
  const template = Template.fromStack(stack);

  it('GIVEN a use case with a model THEN it has a model package group, named for the stack and use case', () => {
    template.hasResourceProperties('AWS::SageMaker::ModelPackageGroup', {
      ModelPackageGroupName: 'Test-pump-maintenance',
    });
  });

  it('GIVEN an endpoint THEN server errors and a p99 latency above 200 ms each have an alarm that rolls an update back', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SageMaker',
      MetricName: 'Invocation5XXErrors',
      Threshold: 0,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SageMaker',
      MetricName: 'ModelLatency',
      ExtendedStatistic: 'p99',
      Threshold: 200_000,
    });
  });

  it('GIVEN an approval in the group THEN the rule invokes the deploy function, with a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.sagemaker'],
        'detail-type': ['SageMaker Model Package State Change'],
        detail: { ModelPackageGroupName: ['Test-pump-maintenance'], ModelApprovalStatus: ['Approved'] },
      },
      Targets: [
        Match.objectLike({ DeadLetterConfig: Match.anyValue(), RetryPolicy: { MaximumRetryAttempts: 2 } }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Deploys model versions approved in the SageMaker Model Registry (four eyes, blue/green)',
      Environment: {
        Variables: Match.objectLike({ DEPLOY_TARGETS: Match.anyValue(), EVENT_BUS_NAME: Match.anyValue() }),
      },
    });
  });

  it('GIVEN the deploy function THEN it may update this endpoint only, create models and configurations of its use case only, and pass the execution role to SageMaker only', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).map((p) =>
      JSON.stringify((p as { Properties: unknown }).Properties),
    );
    const deploy = policies.find((p) => p.includes('sagemaker:UpdateModelPackage'));
    expect(deploy).toBeDefined();
    expect(deploy).toContain('model/pump-maintenance-*');
    expect(deploy).toContain('endpoint-config/pump-maintenance-*');
    expect(deploy).toContain('model-package/test-pump-maintenance/*');
    expect(deploy).toContain('iam:PassRole');
    expect(deploy).not.toMatch(/"sagemaker:\*"/);
  });

  it('GIVEN no endpoint yet THEN there is a group but nothing to deploy to', () => {
    const approvals = (t: Template) =>
      Object.values(t.findResources('AWS::Events::Rule')).filter((r) =>
        JSON.stringify(r).includes('SageMaker Model Package State Change'),
      );
    expect(approvals(template)).toHaveLength(1);
    const bare = Template.fromStack(pipelineStack(testApp()));
    // A group per use case with a model.
    bare.resourceCountIs('AWS::SageMaker::ModelPackageGroup', 2);
    expect(approvals(bare)).toHaveLength(0);
  });
});
