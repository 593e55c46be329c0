import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { EdgeHealth } from '../../lib/constructs/edge-health.ts';
import { constructHarness } from '../support/cdk.ts';

describe('EdgeHealth', () => {
  it('routes health reports of the use case to a log group, with the thing taken from the topic', () => {
    // GIVEN a stack
    const { stack } = constructHarness();
    // WHEN edge health is added for a use case
    new EdgeHealth(stack, 'Health', { useCase: 'pump-maintenance' });
    // THEN a rule selects the health topic and writes to the log group through a role scoped to it
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IoT::TopicRule', {
      TopicRulePayload: Match.objectLike({
        Sql: "SELECT *, topic(3) AS thing, timestamp() AS receivedAt FROM 'dt/pump-maintenance/+/health'",
        Actions: [{ CloudwatchLogs: { LogGroupName: Match.anyValue(), RoleArn: Match.anyValue() } }],
      }),
    });
    // Kept a year by default, as AWS Control Tower asks of log groups (CT.CLOUDWATCH.PR.2).
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 365 }, 2);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
            // Its reports, and what it could not deliver (the error action): nothing else.
            Resource: [
              { 'Fn::GetAtt': [Match.stringLikeRegexp('HealthReports'), 'Arn'] },
              { 'Fn::GetAtt': [Match.stringLikeRegexp('HealthRuleErrors'), 'Arn'] },
            ],
          }),
        ],
      },
    });
  });

  it('turns queue depth, backlog age, drops and rejects into fleet metrics without a thing dimension (CloudWatch stops a filter past 1,000 dimension values an hour), and alarms on an old backlog', () => {
    const { stack } = constructHarness();
    new EdgeHealth(stack, 'Health', { useCase: 'pump-maintenance', maxBacklogAge: Duration.minutes(30) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Logs::MetricFilter', 4);
    for (const [name, value] of [
      ['QueueDepth', '$.queueDepth'],
      ['OldestAgeSeconds', '$.oldestAgeSeconds'],
      ['Dropped', '$.dropped'],
      ['Rejected', '$.rejected'],
    ]) {
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        MetricTransformations: [
          {
            MetricNamespace: 'aiot/pump-maintenance/edge',
            MetricName: name,
            MetricValue: value,
          },
        ],
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OldestAgeSeconds',
      Namespace: 'aiot/pump-maintenance/edge',
      Dimensions: Match.absent(),
      Statistic: 'Maximum',
      Threshold: 1800,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('refuses a backlog age under a minute, with the value', () => {
    const { stack } = constructHarness();
    expect(
      () =>
        new EdgeHealth(stack, 'Health', { useCase: 'pump-maintenance', maxBacklogAge: Duration.seconds(10) }),
    ).toThrow('maxBacklogAge must be at least 1 minute, got 10 seconds');
  });
});
