import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { pipelineStack, testApp } from '../support/cdk.ts';

// cdk-nag's AwsSolutions pack runs on the whole stack, with and without an endpoint, in nag.test.ts.
describe('AuditTrail', () => {
  const app = testApp();
  const stack = pipelineStack(app);
  const template = Template.fromStack(stack);

  it('GIVEN the stack THEN one trail records every region, validates its files, and encrypts them with its own key', () => {
    template.resourceCountIs('AWS::CloudTrail::Trail', 1);
    template.hasResourceProperties('AWS::CloudTrail::Trail', {
      IsMultiRegionTrail: true,
      IncludeGlobalServiceEvents: true,
      EnableLogFileValidation: true,
      KMSKeyId: Match.anyValue(),
      CloudWatchLogsLogGroupArn: Match.anyValue(),
    });
  });

  it('GIVEN the trail bucket THEN its files are locked in governance mode for the retention, and it is kept', () => {
    template.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } },
        },
        VersioningConfiguration: { Status: 'Enabled' },
      }),
      DeletionPolicy: 'Retain',
    });
  });

  it('GIVEN the application buckets and alert table THEN their object and item events are recorded, and management events', () => {
    const trail = Object.values(template.findResources('AWS::CloudTrail::Trail'))[0] as {
      Properties: { AdvancedEventSelectors: { Name: string; FieldSelectors: { Field: string }[] }[] };
    };
    const selectors = trail.Properties.AdvancedEventSelectors;
    expect(selectors.map((s) => s.Name)).toEqual([
      'Management events',
      'Objects of the application buckets',
      'Item changes of the application tables',
    ]);
    // Each names its resources by reference: the buckets' and the table's logical ids.
    const logicalId = (arn: string) =>
      (stack.resolve(arn) as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const objects = JSON.stringify(selectors[1]);
    expect(objects).toContain(logicalId(stack.quarantineBucket.bucketArn));
    expect(objects).toContain(logicalId(stack.artifactBucket.bucketArn));
    expect(JSON.stringify(selectors[2])).toContain(logicalId(stack.alerting.table.tableArn));
    // Changes only: every ingest batch reads baselines, which would double the table's events.
    expect(selectors[2]?.FieldSelectors).toContainEqual({ Field: 'readOnly', Equals: ['false'] });
  });

  it('GIVEN the trail key THEN CloudTrail may use it only for trails of this account', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      Description: 'aiot-pipeline: CloudTrail audit logs',
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'CloudTrailEncryptsLogs',
            Principal: { Service: 'cloudtrail.amazonaws.com' },
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
          }),
        ]),
      },
    });
  });

  it('GIVEN auditTrail false (an organization trail) THEN the stack has none; GIVEN a retention of 0 days THEN it is refused with the value', () => {
    expect(
      Template.fromStack(pipelineStack(testApp(), { auditTrail: false })).findResources(
        'AWS::CloudTrail::Trail',
      ),
    ).toEqual({});
    expect(() => pipelineStack(testApp(), { auditTrail: { retention: Duration.days(0) } })).toThrow(
      'retention must be whole days from 1 to 36500, got 0',
    );
  });
});
