import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { pipelineStack, testApp } from '../support/cdk.ts';

describe('alarm notifications', () => {
  it('GIVEN every alarm of the stack, with an endpoint THEN each tells the operations topic when it fires and when it clears', () => {
    const stack = pipelineStack(testApp(), {
      modelArtifacts: { 'pump-maintenance': 'models/pump-maintenance/job-1/output/model.tar.gz' },
    });
    const template = Template.fromStack(stack);
    const topic = stack.getLogicalId(stack.operationsTopic.node.defaultChild as sns.CfnTopic);
    const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm')) as [
      string,
      { Properties: { AlarmActions?: unknown[]; OKActions?: unknown[] } },
    ][];
    // Dead letters, edge backlogs, notification failures, the endpoint's rollback alarms.
    expect(alarms.length).toBeGreaterThanOrEqual(4);
    const silent = alarms
      .filter(
        ([, a]) =>
          !JSON.stringify(a.Properties.AlarmActions ?? []).includes(topic) ||
          !JSON.stringify(a.Properties.OKActions ?? []).includes(topic),
      )
      .map(([id]) => id);
    expect(silent).toEqual([]);
  });

  it('GIVEN the operations topic THEN it is encrypted, TLS only, and CloudWatch of this account may publish to it', () => {
    const template = Template.fromStack(pipelineStack(testApp()));
    template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'aiot-pipeline operations: alarms of the pipeline itself',
      KmsMasterKeyId: Match.anyValue(),
    });
    const policies = JSON.stringify(template.findResources('AWS::SNS::TopicPolicy'));
    expect(policies).toContain('cloudwatch.amazonaws.com');
    expect(policies).toContain('aws:SourceAccount');
    expect(policies).toContain('aws:SecureTransport');
    expect(JSON.stringify(template.findResources('AWS::KMS::Key'))).toContain(
      'CloudWatchAlarmsPublishToOperationsTopic',
    );
  });
});
