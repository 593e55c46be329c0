import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { alertPolicySchema } from '../../core/alerts/policy.ts';
import { Alerting } from '../../lib/constructs/alerting.ts';
import { constructHarness, pipelineStack, testApp, LIVE_ANALYTICS } from '../support/cdk.ts';

const deployed = pipelineStack(testApp(), {
  ...LIVE_ANALYTICS,
  modelArtifacts: { 'pump-maintenance': 'models/pump-maintenance/job-1/output/model.tar.gz' },
});
const template = Template.fromStack(deployed);

interface Statement {
  Action: string | string[];
  Resource: unknown;
}

function ingestStatements(): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp('UseCasepumpmaintenanceIngestFunctionRole') }] },
  });
  return Object.values(policies).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );
}

describe('Alerting', () => {
  it('GIVEN the stack WHEN synthesized THEN the alert table keeps point-in-time recovery, the stack key, a listing index, expiry, and survives the stack', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'byUseCase' })],
      }),
    });
  });

  it('archives every alert event of the bus, and gives each use case an encrypted, TLS-only topic', () => {
    template.hasResourceProperties('AWS::Events::Archive', {
      EventPattern: { source: ['aiot.alerts'] },
      RetentionDays: 365,
    });
    // Audit events are kept for the system's lifetime unless the deployer sets a retention.
    template.hasResourceProperties('AWS::Events::Archive', {
      EventPattern: { source: ['aiot.audit'] },
      RetentionDays: 0, // EventBridge's "indefinitely"
    });
    template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'aiot pump-maintenance alerts',
      KmsMasterKeyId: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      }),
    });
  });

  it('GIVEN a deployed model WHEN the ingest function scores THEN it gets the alert table, bus, notify queue, the manifest policy and nothing broader', () => {
    const [fn] = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: {
          Environment: {
            Variables: Match.objectLike({ USE_CASE: 'pump-maintenance', ENDPOINT_NAME: Match.anyValue() }),
          },
        },
      }),
    ) as { Properties: { Environment: { Variables: Record<string, unknown> } } }[];
    const variables = fn?.Properties.Environment.Variables ?? {};
    expect(Object.keys(variables)).toEqual(
      expect.arrayContaining([
        'ALERT_TABLE',
        'EVENT_BUS_NAME',
        'NOTIFY_QUEUE_URL',
        'ALERT_POLICY',
        'INFERENCE_ID',
      ]),
    );
    expect(variables.INFERENCE_ID).toBe('pump-anomaly');
    expect(alertPolicySchema.parse(JSON.parse(String(variables.ALERT_POLICY))).calibrationReadings).toBe(
      1800,
    );

    const statements = ingestStatements();
    const actionsOf = (statement: Statement) => [statement.Action].flat();
    expect(statements.find((s) => actionsOf(s).includes('dynamodb:PutItem'))).toMatchObject({
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
    });
    // Caps and notification counters: conditional updates of the table's items, not its index.
    expect(statements.find((s) => actionsOf(s).includes('dynamodb:UpdateItem'))).toMatchObject({
      Action: 'dynamodb:UpdateItem',
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^AlertingState/) as unknown, 'Arn'] },
    });
    expect(
      statements.some((s) =>
        actionsOf(s).some((a) => a.startsWith('dynamodb:Delete') || a.startsWith('dynamodb:Batch')),
      ),
    ).toBe(false);
    expect(statements.some((s) => actionsOf(s).includes('events:PutEvents'))).toBe(true);
    // The notify function sends the grouped notifications: scoring publishes to no topic.
    expect(Object.keys(variables)).not.toContain('ALERT_TOPIC_ARN');
    expect(statements.some((s) => actionsOf(s).includes('sns:Publish'))).toBe(false);
    expect(statements.some((s) => actionsOf(s).includes('timestream:Select'))).toBe(true);
  });

  it('sends grouped notifications from a function fed by a delayed queue, which may only take groups and publish', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlertingNotifyQueue'), 'Arn'] },
    });
    const [notify] = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: 'Sends one notification per alert group when its window ends' },
      }),
    ) as { Properties: { Environment: { Variables: Record<string, unknown> } } }[];
    expect(notify?.Properties.Environment.Variables.GROUP_WINDOW_SECONDS).toBe(
      '{"hvac-energy":300,"pump-maintenance":120}',
    );
    const policies = Object.values(
      template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^AlertingNotifyRole') }] },
      }),
    ) as { Properties: { PolicyDocument: { Statement: Statement[] } } }[];
    const actions = policies.flatMap((p) =>
      p.Properties.PolicyDocument.Statement.flatMap((st) => [st.Action].flat()),
    );
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'sns:Publish']),
    );
    expect(actions.some((a) => a === 'dynamodb:PutItem' || a === 'dynamodb:Query')).toBe(false);
    expect(ingestStatements().some((st) => [st.Action].flat().includes('sqs:SendMessage'))).toBe(true);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: 'Grouped alert notifications could not be sent; see docs/operations.md',
      Threshold: 0,
    });
  });

  it('GIVEN no model artifact WHEN synthesized THEN the ingest function gets no alert permissions', () => {
    const plain = Template.fromStack(pipelineStack(testApp(), LIVE_ANALYTICS));
    const policies = JSON.stringify(
      plain.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp('UseCasepumpmaintenanceIngestFunctionRole') }] },
      }),
    );
    expect(policies).toContain('timestream:WriteRecords');
    expect(policies).not.toContain('dynamodb:PutItem');
  });

  it('refuses a bad archive retention and an unknown use case, naming the value', () => {
    const { stack, key } = constructHarness();
    expect(
      () =>
        new Alerting(stack, 'Short', {
          encryptionKey: key,
          useCases: [{ id: 'a', groupWindowSeconds: 60 }],
          archiveRetention: Duration.hours(2),
        }),
    ).toThrow('archiveRetention must be at least a day, got 2 hours');
    const alerting = new Alerting(stack, 'Ok', {
      encryptionKey: key,
      useCases: [{ id: 'a', groupWindowSeconds: 60 }],
    });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    expect(() => {
      alerting.grantAlerting(role, 'b');
    }).toThrow('no alert topic for use case "b" (a)');
  });
});
