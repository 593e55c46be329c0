import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DriftChecks } from '../../lib/constructs/drift-checks.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { pipelineStack, testApp, LIVE_ANALYTICS } from '../support/cdk.ts';

const stack = pipelineStack(testApp(), LIVE_ANALYTICS);
const template = Template.fromStack(stack);

describe('DriftChecks', () => {
  it("GIVEN the pump use case THEN a schedule at its manifest's rate invokes the drift function with the use case, retrying into a dead-letter queue", () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DriftFunction'), 'Arn'] },
        Input: JSON.stringify({ useCase: 'pump-maintenance' }),
        RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }),
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DriftDeadLetterQueue'), 'Arn'] } },
      }),
    });
  });

  it("GIVEN a finding's event on the bus THEN a rule sends the use case's findings to its topic", () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: Match.stringLikeRegexp('AlertingBus') },
      EventPattern: {
        source: ['aiot.drift'],
        'detail-type': ['Sensor Unhealthy', 'Drift Detected'],
        detail: { useCase: ['pump-maintenance'] },
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('AlertingTopicpumpmaintenance') } })],
    });
  });

  it('GIVEN the drift function THEN it may read and batch-write the alert table, query Timestream and put events, and nothing that deletes', () => {
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('DriftRole') }] },
    });
    const actions = Object.values(policies)
      .flatMap(
        (p) =>
          (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[] }[] } } }).Properties
            .PolicyDocument.Statement,
      )
      .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions).toEqual(
      expect.arrayContaining([
        'dynamodb:BatchWriteItem',
        'dynamodb:Query',
        'timestream:Select',
        'events:PutEvents',
      ]),
    );
    expect(actions.filter((a) => /Delete|Scan|WriteRecords|sns:/.test(a))).toEqual([]);
  });

  it("GIVEN a use case with an endpoint THEN the drift function may ask it for its model's training profile", () => {
    const withModel = Template.fromStack(
      pipelineStack(testApp(), {
        ...LIVE_ANALYTICS,
        modelArtifacts: { 'pump-maintenance': 'models/pump-maintenance/job-1/output/model.tar.gz' },
      }),
    );
    withModel.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('DriftRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sagemaker:InvokeEndpoint',
            Resource: {
              'Fn::Join': [
                '',
                Match.arrayWith([Match.stringLikeRegexp(':endpoint/test-inferencepump[^*]*-c5-large$')]),
              ],
            },
          }),
        ]),
      },
    });
    withModel.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Drift checks'),
      Environment: { Variables: Match.objectLike({ MODEL_ENDPOINTS: Match.anyValue() }) },
    });
  });

  it('refuses a timeout Lambda cannot run, naming the value', () => {
    const other = pipelineStack(testApp(), LIVE_ANALYTICS);
    expect(
      () =>
        new DriftChecks(other, 'Slow', {
          ...loadCatalog(),
          alerting: other.alerting,
          telemetry: other.telemetry,
          timeout: Duration.minutes(20),
        }),
    ).toThrow('timeout must be from 30 seconds to 15 minutes, got 20 minutes');
  });
});
