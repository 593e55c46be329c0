import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { KpiSchedule } from '../../lib/constructs/kpi-schedule.ts';
import { pipelineStack, testApp } from '../support/cdk.ts';
import { repoContracts } from '../support/contracts.ts';

const stack = pipelineStack(testApp());
const template = Template.fromStack(stack);

describe('KpiSchedule', () => {
  it.each(['hvac-energy', 'pump-maintenance'])(
    'GIVEN %s with computed KPIs THEN an hourly schedule invokes the KPI function with it, retrying into a dead-letter queue',
    (useCase) => {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'rate(1 hour)',
        Target: Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KpisFunction'), 'Arn'] },
          Input: JSON.stringify({ useCase }),
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }),
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KpisDeadLetterQueue'), 'Arn'] },
          },
        }),
      });
    },
  );

  it('GIVEN the kpis table THEN it is keyed by use case and KPI day, encrypted with the key, recoverable and kept', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    });
  });

  it('GIVEN the KPI function THEN it reads the store and the alerts, writes KPI days, and may change or delete nothing else', () => {
    const policies = JSON.stringify(
      template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^KpisRole') }] },
      }),
    );
    expect(policies).toContain('"dynamodb:BatchWriteItem","dynamodb:Query"');
    // Alerts are listed, never read one by one: no GetItem, no writes but the KPI days.
    expect(policies).not.toMatch(
      /dynamodb:(GetItem|PutItem|UpdateItem|DeleteItem|Scan|\*)|"kms:\*"|events:PutEvents/,
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: "Computes the use cases' KPIs from the store into the kpis table",
      Environment: {
        Variables: Match.objectLike({ TELEMETRY_STORE: 'influxdb', KPI_TABLE: Match.anyValue() }),
      },
      VpcConfig: Match.anyValue(),
    });
  });

  it('refuses a schedule rate outside 5 minutes to a day', () => {
    const other = pipelineStack(testApp());
    expect(
      () =>
        new KpiSchedule(other, 'Fast', {
          useCases: [],
          contracts: repoContracts,
          alerting: other.alerting,
          telemetry: other.telemetry,
          encryptionKey: other.encryptionKey,
          every: Duration.minutes(1),
        }),
    ).toThrow('every must be from 5 minutes to a day, got 1 minute');
  });
});
